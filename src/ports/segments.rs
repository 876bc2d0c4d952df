//! Saved segments of sites.

use crate::domain::segments::{Segment, SegmentDraft};
use crate::ports::store::StoreError;

/// Saved segments, per site in creation order.
pub trait SegmentRepository: Send + Sync {
    fn segments(&self, site_id: u32) -> Result<Vec<Segment>, StoreError>;
    /// Saves a segment owned by `owner`, created at `now` (Unix microseconds).
    fn add_segment(
        &self,
        site_id: u32,
        owner: Option<u32>,
        draft: &SegmentDraft,
        now: i64,
    ) -> Result<Segment, StoreError>;
    /// Replaces a segment's content; `None` when the site has no such segment.
    fn update_segment(
        &self,
        site_id: u32,
        id: u32,
        draft: &SegmentDraft,
        now: i64,
    ) -> Result<Option<Segment>, StoreError>;
    /// `false` when the site has no such segment.
    fn delete_segment(&self, site_id: u32, id: u32) -> Result<bool, StoreError>;
}

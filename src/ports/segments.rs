//! Saved segments of sites.

use crate::domain::segments::{Segment, SegmentDraft};
use crate::ports::store::StoreResult;

/// Saved segments, per site in creation order.
pub trait SegmentRepository: Send + Sync {
    fn segments(&self, site_id: u32) -> StoreResult<Vec<Segment>>;
    /// Saves a segment owned by `owner`, created at `now` (Unix microseconds).
    fn add_segment(&self, site_id: u32, owner: Option<u32>, draft: &SegmentDraft, now: i64) -> StoreResult<Segment>;
    /// Replaces a segment's content; `None` when the site has no such segment.
    fn update_segment(&self, site_id: u32, id: u32, draft: &SegmentDraft, now: i64) -> StoreResult<Option<Segment>>;
    /// `false` when the site has no such segment.
    fn delete_segment(&self, site_id: u32, id: u32) -> StoreResult<bool>;
}

//! Saved segments in a vector.

use crate::domain::segments::{Segment, SegmentDraft};
use crate::ports::segments::SegmentRepository;
use crate::ports::store::StoreResult;

use super::table::Table;

/// Segments in memory; ids count from 1 like the database's sequence.
#[derive(Default)]
pub struct MemorySegments {
    all: Table<Segment>,
}

impl SegmentRepository for MemorySegments {
    fn segments(&self, site_id: u32) -> StoreResult<Vec<Segment>> {
        Ok(self.all.select(|s| s.site_id == site_id))
    }

    fn add_segment(&self, site_id: u32, owner: Option<u32>, d: &SegmentDraft, now: i64) -> StoreResult<Segment> {
        Ok(self.all.add(|id| Segment {
            id,
            site_id,
            name: d.name.clone(),
            kind: d.kind,
            owner,
            filters: d.filters.clone(),
            labels: d.labels.clone(),
            created_at: now,
            updated_at: now,
        }))
    }

    fn update_segment(&self, site_id: u32, id: u32, d: &SegmentDraft, now: i64) -> StoreResult<Option<Segment>> {
        Ok(self.all.update(
            |s| s.site_id == site_id && s.id == id,
            |s| {
                (s.name, s.kind, s.filters, s.labels, s.updated_at) =
                    (d.name.clone(), d.kind, d.filters.clone(), d.labels.clone(), now)
            },
        ))
    }

    fn delete_segment(&self, site_id: u32, id: u32) -> StoreResult<bool> {
        Ok(self.all.delete(|s| s.site_id == site_id && s.id == id) > 0)
    }
}

crate::conformance_tests!(segment_repository: MemorySegments::default);

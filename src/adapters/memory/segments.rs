//! Saved segments in a vector.

use std::sync::Mutex;

use crate::domain::segments::{Segment, SegmentDraft};
use crate::ports::segments::SegmentRepository;
use crate::ports::store::StoreError;

/// Segments in memory; ids count from 1 like the database's sequence.
#[derive(Default)]
pub struct MemorySegments {
    all: Mutex<(u32, Vec<Segment>)>,
}

impl MemorySegments {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u32, Vec<Segment>)> {
        self.all.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SegmentRepository for MemorySegments {
    fn segments(&self, site_id: u32) -> Result<Vec<Segment>, StoreError> {
        Ok(self.lock().1.iter().filter(|s| s.site_id == site_id).cloned().collect())
    }

    fn add_segment(&self, site_id: u32, owner: Option<u32>, d: &SegmentDraft, now: i64) -> Result<Segment, StoreError> {
        let mut guard = self.lock();
        guard.0 += 1;
        let segment = Segment {
            id: guard.0,
            site_id,
            name: d.name.clone(),
            kind: d.kind,
            owner,
            filters: d.filters.clone(),
            labels: d.labels.clone(),
            created_at: now,
            updated_at: now,
        };
        guard.1.push(segment.clone());
        Ok(segment)
    }

    fn update_segment(&self, site_id: u32, id: u32, d: &SegmentDraft, now: i64) -> Result<Option<Segment>, StoreError> {
        let mut guard = self.lock();
        let Some(s) = guard.1.iter_mut().find(|s| s.site_id == site_id && s.id == id) else { return Ok(None) };
        (s.name, s.kind, s.filters, s.labels, s.updated_at) =
            (d.name.clone(), d.kind, d.filters.clone(), d.labels.clone(), now);
        Ok(Some(s.clone()))
    }

    fn delete_segment(&self, site_id: u32, id: u32) -> Result<bool, StoreError> {
        let mut guard = self.lock();
        let before = guard.1.len();
        guard.1.retain(|s| !(s.site_id == site_id && s.id == id));
        Ok(guard.1.len() < before)
    }
}

#[cfg(test)]
mod conformance {
    #[test]
    fn passes_the_segment_repository_conformance_suite() {
        crate::ports::conformance::segment_repository(super::MemorySegments::default);
    }
}

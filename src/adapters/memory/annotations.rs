//! Annotations in a vector.

use chrono::NaiveDate;

use crate::domain::annotations::{Annotation, AnnotationDraft};
use crate::ports::annotations::AnnotationRepository;
use crate::ports::store::StoreResult;

use super::table::Table;

/// Annotations in memory; ids count from 1 like the database's sequence.
#[derive(Default)]
pub struct MemoryAnnotations {
    all: Table<Annotation>,
}

impl AnnotationRepository for MemoryAnnotations {
    fn annotations(&self, site_id: u32, first: NaiveDate, last: NaiveDate) -> StoreResult<Vec<Annotation>> {
        let mut list = self.all.select(|a| a.site_id == site_id && a.date >= first && a.date <= last);
        list.sort_by_key(|a| (a.date, a.id));
        Ok(list)
    }

    fn add_annotation(&self, site_id: u32, d: &AnnotationDraft, author: &str, now: i64) -> StoreResult<Annotation> {
        Ok(self.all.add(|id| Annotation {
            id,
            site_id,
            date: d.date,
            note: d.note.clone(),
            author: author.to_string(),
            created_at: now,
        }))
    }

    fn update_annotation(&self, site_id: u32, id: u32, d: &AnnotationDraft) -> StoreResult<Option<Annotation>> {
        Ok(self.all.update(|a| a.site_id == site_id && a.id == id, |a| (a.date, a.note) = (d.date, d.note.clone())))
    }

    fn delete_annotation(&self, site_id: u32, id: u32) -> StoreResult<bool> {
        Ok(self.all.delete(|a| a.site_id == site_id && a.id == id) > 0)
    }
}

crate::conformance_tests!(annotation_repository: MemoryAnnotations::default);

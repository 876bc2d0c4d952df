//! Annotations in a vector.

use std::sync::Mutex;

use chrono::NaiveDate;

use crate::domain::annotations::{Annotation, AnnotationDraft};
use crate::ports::annotations::AnnotationRepository;
use crate::ports::store::StoreError;

/// Annotations in memory; ids count from 1 like the database's sequence.
#[derive(Default)]
pub struct MemoryAnnotations {
    all: Mutex<(u32, Vec<Annotation>)>,
}

impl MemoryAnnotations {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u32, Vec<Annotation>)> {
        self.all.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl AnnotationRepository for MemoryAnnotations {
    fn annotations(&self, site_id: u32, first: NaiveDate, last: NaiveDate) -> Result<Vec<Annotation>, StoreError> {
        let mut list: Vec<Annotation> = self
            .lock()
            .1
            .iter()
            .filter(|a| a.site_id == site_id && a.date >= first && a.date <= last)
            .cloned()
            .collect();
        list.sort_by_key(|a| (a.date, a.id));
        Ok(list)
    }

    fn add_annotation(
        &self,
        site_id: u32,
        d: &AnnotationDraft,
        author: &str,
        now: i64,
    ) -> Result<Annotation, StoreError> {
        let mut guard = self.lock();
        guard.0 += 1;
        let a = Annotation {
            id: guard.0,
            site_id,
            date: d.date,
            note: d.note.clone(),
            author: author.to_string(),
            created_at: now,
        };
        guard.1.push(a.clone());
        Ok(a)
    }

    fn update_annotation(&self, site_id: u32, id: u32, d: &AnnotationDraft) -> Result<Option<Annotation>, StoreError> {
        let mut guard = self.lock();
        let Some(a) = guard.1.iter_mut().find(|a| a.site_id == site_id && a.id == id) else {
            return Ok(None);
        };
        (a.date, a.note) = (d.date, d.note.clone());
        Ok(Some(a.clone()))
    }

    fn delete_annotation(&self, site_id: u32, id: u32) -> Result<bool, StoreError> {
        let mut guard = self.lock();
        let before = guard.1.len();
        guard.1.retain(|a| !(a.site_id == site_id && a.id == id));
        Ok(guard.1.len() < before)
    }
}

#[cfg(test)]
mod conformance {
    #[test]
    fn passes_the_annotation_repository_conformance_suite() {
        crate::ports::conformance::annotation_repository(super::MemoryAnnotations::default);
    }
}

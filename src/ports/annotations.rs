//! Annotations of sites.

use chrono::NaiveDate;

use crate::domain::annotations::{Annotation, AnnotationDraft};
use crate::ports::store::StoreResult;

/// Annotations per site, in date order (then creation order).
pub trait AnnotationRepository: Send + Sync {
    /// The site's annotations on the days `first..=last`.
    fn annotations(&self, site_id: u32, first: NaiveDate, last: NaiveDate) -> StoreResult<Vec<Annotation>>;
    /// Saves an annotation written by `author` at `now` (Unix microseconds).
    fn add_annotation(&self, site_id: u32, draft: &AnnotationDraft, author: &str, now: i64) -> StoreResult<Annotation>;
    /// Changes an annotation's date and note (author and creation time stay); `None` when the
    /// site has no such annotation.
    fn update_annotation(&self, site_id: u32, id: u32, draft: &AnnotationDraft) -> StoreResult<Option<Annotation>>;
    /// `false` when the site has no such annotation.
    fn delete_annotation(&self, site_id: u32, id: u32) -> StoreResult<bool>;
}

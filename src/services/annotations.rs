//! Annotations of sites: anyone who reads a site reads them, its admins and owners write them.
//! The HTTP edge checks the role; this service owns dates and periods.

use std::sync::Arc;

use crate::domain::annotations::{Annotation, AnnotationDraft, InvalidAnnotation};
use crate::domain::crawlers::local_day;
use crate::domain::reports::{ReportError, date_range_param};
use crate::domain::site::Site;
use crate::ports::annotations::AnnotationRepository;
use crate::ports::clock::Clock;
use crate::ports::store::StoreError;
use crate::services::reports::ReportService;

/// Why an annotation call failed.
#[derive(Debug, thiserror::Error)]
pub enum AnnotationError {
    #[error(transparent)]
    Invalid(#[from] InvalidAnnotation),
    /// An invalid `date_range`.
    #[error("{0}")]
    Period(String),
    #[error("no such annotation")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ReportError> for AnnotationError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Invalid(q) => Self::Period(q.0),
            ReportError::Store(s) => Self::Store(s),
        }
    }
}

/// Lists, adds and deletes annotations.
pub struct AnnotationService {
    repo: Arc<dyn AnnotationRepository>,
    reports: Arc<ReportService>,
    clock: Arc<dyn Clock>,
}

impl AnnotationService {
    pub fn new(repo: Arc<dyn AnnotationRepository>, reports: Arc<ReportService>, clock: Arc<dyn Clock>) -> Self {
        Self { repo, reports, clock }
    }

    /// The site's annotations over `date_range` (a query parameter, default `30d`), resolved
    /// like the Stats API's.
    pub async fn list(
        self: &Arc<Self>,
        site: Site,
        date_range: Option<String>,
    ) -> Result<Vec<Annotation>, AnnotationError> {
        let this = self.clone();
        crate::services::blocking(move || {
            let period = this.reports.resolve_period(&site, &date_range_param(date_range.as_deref()))?;
            Ok(this.repo.annotations(site.id.0, period.first_date, period.last_date)?)
        })
        .await
    }

    /// Saves a note on `date` (`YYYY-MM-DD`; default: today in the site's time zone).
    pub async fn add(
        self: &Arc<Self>,
        site: Site,
        date: Option<String>,
        note: String,
        author: String,
    ) -> Result<Annotation, AnnotationError> {
        let now = self.clock.now_micros();
        let date = date.unwrap_or_else(|| local_day(&site, now).format("%Y-%m-%d").to_string());
        let draft = AnnotationDraft::parse(&date, &note)?;
        let repo = self.repo.clone();
        crate::services::blocking(move || Ok(repo.add_annotation(site.id.0, &draft, &author, now)?)).await
    }

    /// Changes one of the site's annotations: its date (`YYYY-MM-DD`) and note.
    pub async fn update(
        self: &Arc<Self>,
        site: Site,
        id: u32,
        date: &str,
        note: &str,
    ) -> Result<Annotation, AnnotationError> {
        let draft = AnnotationDraft::parse(date, note)?;
        let repo = self.repo.clone();
        crate::services::blocking(move || {
            repo.update_annotation(site.id.0, id, &draft)?.ok_or(AnnotationError::NotFound)
        })
        .await
    }

    /// Deletes one of the site's annotations.
    pub async fn delete(self: &Arc<Self>, site: Site, id: u32) -> Result<(), AnnotationError> {
        let repo = self.repo.clone();
        crate::services::blocking(move || match repo.delete_annotation(site.id.0, id)? {
            true => Ok(()),
            false => Err(AnnotationError::NotFound),
        })
        .await
    }
}

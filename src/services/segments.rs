//! Saved segments of sites: who may see and change which, what may be saved (valid Stats API v2
//! filters, no segment within a segment), and the expansion of segment filters in queries.

use std::sync::Arc;

use serde_json::{Value, json};

use super::blocking;
use crate::domain::query::{QueryInput, parse_input};
use crate::domain::segments::{
    MAX_FILTERS, MAX_NAME_CHARS, Segment, SegmentDraft, SegmentKind, SegmentViewer, expand, mentions_segment,
};
use crate::ports::clock::Clock;
use crate::ports::segments::SegmentRepository;
use crate::ports::store::StoreError;

/// Refusals of the segment service.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    /// The segment or a filter naming one is invalid; the message names the problem.
    #[error("{0}")]
    Invalid(String),
    /// Site-wide segments are changed by the site's admins and owners; personal ones are saved
    /// by people (not share links or read-only tokens).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("no such segment")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

const SITE_WIDE: &str = "site-wide segments are changed by the site's admins and owners";
const PERSONAL: &str =
    "segments are saved by people and tokens that may write (personal ones by people only), not by share links";

/// The parts of a segment a change replaces.
#[derive(Debug, Clone, Default)]
pub struct SegmentPatch {
    pub name: Option<String>,
    pub kind: Option<SegmentKind>,
    pub filters: Option<Vec<Value>>,
    pub labels: Option<Value>,
}

/// Saved segments of sites.
#[derive(Clone)]
pub struct SegmentService {
    repo: Arc<dyn SegmentRepository>,
    clock: Arc<dyn Clock>,
}

impl SegmentService {
    pub fn new(repo: Arc<dyn SegmentRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { repo, clock }
    }

    /// The segments of a site `viewer` sees: site-wide ones and their own personal ones.
    pub async fn segments(&self, site_id: u32, viewer: SegmentViewer) -> Result<Vec<Segment>, SegmentError> {
        let repo = self.repo.clone();
        blocking(move || Ok(repo.segments(site_id)?.into_iter().filter(|s| viewer.sees(s)).collect())).await
    }

    /// Saves a segment owned by the viewer.
    pub async fn add(&self, site_id: u32, viewer: SegmentViewer, draft: SegmentDraft) -> Result<Segment, SegmentError> {
        let (repo, now) = (self.repo.clone(), self.clock.now_micros());
        let draft = checked(draft, &viewer, now)?;
        blocking(move || Ok(repo.add_segment(site_id, viewer.user, &draft, now)?)).await
    }

    /// Changes a segment the viewer may change (their own personal one, or a site-wide one when
    /// they manage the site): the parts `patch` gives replace the stored ones.
    pub async fn update(
        &self,
        site_id: u32,
        viewer: SegmentViewer,
        id: u32,
        patch: SegmentPatch,
    ) -> Result<Segment, SegmentError> {
        let (repo, now) = (self.repo.clone(), self.clock.now_micros());
        blocking(move || {
            let current = changeable(repo.as_ref(), site_id, &viewer, id)?;
            let draft = SegmentDraft {
                name: patch.name.unwrap_or(current.name),
                kind: patch.kind.unwrap_or(current.kind),
                filters: patch.filters.unwrap_or(current.filters),
                labels: patch.labels.unwrap_or(current.labels),
            };
            let draft = checked(draft, &viewer, now)?;
            repo.update_segment(site_id, id, &draft, now)?.ok_or(SegmentError::NotFound)
        })
        .await
    }

    /// Deletes a segment the viewer may change.
    pub async fn delete(&self, site_id: u32, viewer: SegmentViewer, id: u32) -> Result<(), SegmentError> {
        let repo = self.repo.clone();
        blocking(move || {
            changeable(repo.as_ref(), site_id, &viewer, id)?;
            if repo.delete_segment(site_id, id)? { Ok(()) } else { Err(SegmentError::NotFound) }
        })
        .await
    }

    /// A site-wide segment of the site a share link may be limited to.
    pub async fn for_share(&self, site_id: u32, id: u32) -> Result<Segment, SegmentError> {
        let repo = self.repo.clone();
        blocking(move || {
            let found = repo.segments(site_id)?.into_iter().find(|s| s.id == id);
            found.filter(|s| s.kind == SegmentKind::Site).ok_or_else(|| {
                SegmentError::Invalid(format!("segment_id {id}: no site-wide segment with this id on the site"))
            })
        })
        .await
    }

    /// The filters of a query with every segment filter replaced by the segment's filters; a
    /// share link limited to a segment gets that segment's filters added.
    pub async fn expand(
        &self,
        site_id: u32,
        viewer: SegmentViewer,
        mut filters: Vec<Value>,
    ) -> Result<Vec<Value>, SegmentError> {
        if let Some(id) = viewer.limited_to {
            filters.push(json!(["is", "segment", [id]]));
        }
        if !filters.iter().any(mentions_segment) {
            return Ok(filters);
        }
        let repo = self.repo.clone();
        blocking(move || {
            let visible: Vec<Segment> = repo.segments(site_id)?.into_iter().filter(|s| viewer.sees(s)).collect();
            let find = |id: u32| visible.iter().find(|s| s.id == id).map(|s| s.filters.clone());
            expand(&filters, &find).map_err(SegmentError::Invalid)
        })
        .await
    }
}

/// The draft with its name trimmed, if the viewer may save it and its filters are valid.
fn checked(mut draft: SegmentDraft, viewer: &SegmentViewer, now: i64) -> Result<SegmentDraft, SegmentError> {
    if !viewer.may_write || (draft.kind == SegmentKind::Personal && viewer.user.is_none()) {
        return Err(SegmentError::Forbidden(PERSONAL));
    }
    if draft.kind == SegmentKind::Site && !viewer.may_manage {
        return Err(SegmentError::Forbidden(SITE_WIDE));
    }
    draft.name = draft.name.trim().to_string();
    let invalid = |m: String| Err(SegmentError::Invalid(m));
    if draft.name.is_empty() || draft.name.chars().count() > MAX_NAME_CHARS {
        return invalid(format!("name must be 1 to {MAX_NAME_CHARS} characters"));
    }
    if draft.filters.is_empty() || draft.filters.len() > MAX_FILTERS {
        return invalid(format!("a segment has 1 to {MAX_FILTERS} filters"));
    }
    if draft.filters.iter().any(mentions_segment) {
        return invalid("a segment cannot contain a segment filter".into());
    }
    if !(draft.labels.is_object() || draft.labels.is_null()) {
        return invalid("labels must be an object".into());
    }
    // The filters must be what a query accepts.
    let probe = QueryInput {
        site_id: "segment".into(),
        date_range: Some(json!("day")),
        metrics: Some(vec!["visitors".into()]),
        filters: draft.filters.clone(),
        ..Default::default()
    };
    parse_input(&probe, chrono_tz::UTC, now, None).map_err(|e| SegmentError::Invalid(e.0))?;
    Ok(draft)
}

/// The segment, if the viewer may change it: 404 for one they cannot see.
fn changeable(
    repo: &dyn SegmentRepository,
    site_id: u32,
    viewer: &SegmentViewer,
    id: u32,
) -> Result<Segment, SegmentError> {
    let segment = repo.segments(site_id)?.into_iter().find(|s| s.id == id && viewer.sees(s));
    match segment {
        None => Err(SegmentError::NotFound),
        Some(s) if s.kind == SegmentKind::Site && !viewer.may_manage => Err(SegmentError::Forbidden(SITE_WIDE)),
        Some(_) if !viewer.may_write => Err(SegmentError::Forbidden(PERSONAL)),
        Some(s) => Ok(s),
    }
}

#[cfg(test)]
#[path = "segments_tests.rs"]
mod tests;

//! Saved segments of a site: `/api/sites/{site}/segments` (Plausible's shape: `name`, `type`,
//! `segment_data.filters`). Anyone who reads the site lists and saves personal segments;
//! site-wide ones are changed by its admins and owners.

use std::future::Future;
use std::sync::Arc;

use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::Value;

use super::ApiTags;
use crate::adapters::http::AppState;
use crate::adapters::http::auth::Auth;
use crate::adapters::http::guard::{Answer, ApiFailure, ErrorAnswers, site_for};
use crate::domain::accounts::Need;
use crate::domain::segments::{Segment, SegmentDraft, SegmentKind, SegmentViewer};
use crate::services::segments::{SegmentError, SegmentPatch, SegmentService};

/// What a segment stands for: Stats API v2 filters and the labels the dashboard shows for them.
#[derive(Object)]
pub struct SegmentData {
    /// Filters as in `/api/v2/query` (no segment filters within).
    pub filters: Vec<Value>,
    /// Display labels by filter key (free-form; kept as given).
    #[oai(default)]
    pub labels: Option<Value>,
}

/// A saved segment.
#[derive(Object)]
pub struct SegmentView {
    pub id: u32,
    pub name: String,
    /// `personal` (seen by its owner only) or `site` (seen by everyone who reads the site).
    #[oai(rename = "type")]
    pub kind: String,
    pub segment_data: SegmentData,
    /// The user who saved it.
    #[oai(skip_serializing_if_is_none)]
    pub owner_id: Option<u32>,
    pub inserted_at: String,
    pub updated_at: String,
}

/// A segment to save.
#[derive(Object)]
pub struct CreateSegment {
    pub name: String,
    /// `personal` (the default) or `site` (site admins and owners).
    #[oai(rename = "type")]
    pub kind: Option<String>,
    pub segment_data: SegmentData,
}

/// Changes to a segment: the fields given replace the stored ones.
#[derive(Object)]
pub struct UpdateSegment {
    pub name: Option<String>,
    /// `personal` or `site`.
    #[oai(rename = "type")]
    pub kind: Option<String>,
    pub segment_data: Option<SegmentData>,
}

/// The answers about the site's segments.
pub type SegmentsResult = crate::adapters::http::answers::Collection<SegmentView>;

/// A changed segment, or the refusal.
pub type SegmentChanged = crate::adapters::http::answers::Item<SegmentView>;

impl ApiFailure for SegmentError {
    fn answer(self) -> Answer {
        let message = self.to_string();
        match self {
            SegmentError::Invalid(_) => Answer::BadRequest("invalid_segment", message),
            SegmentError::Forbidden(_) => Answer::Forbidden(message),
            SegmentError::NotFound => Answer::NotFound(message),
            SegmentError::Store(_) => Answer::Internal(message),
        }
    }
}

fn view(s: Segment) -> SegmentView {
    SegmentView {
        id: s.id,
        name: s.name,
        kind: s.kind.as_str().into(),
        segment_data: SegmentData { filters: s.filters, labels: Some(s.labels).filter(|l| !l.is_null()) },
        owner_id: s.owner,
        inserted_at: super::iso(s.created_at),
        updated_at: super::iso(s.updated_at),
    }
}

fn kind(s: Option<String>) -> Result<Option<SegmentKind>, SegmentError> {
    s.map(|k| SegmentKind::parse(&k).ok_or_else(|| SegmentError::Invalid(format!("type {k:?}: personal or site"))))
        .transpose()
}

/// The segment viewer a caller is on a site.
pub async fn viewer<R: ErrorAnswers>(
    state: &AppState,
    auth: &Auth,
    domain: &str,
) -> Result<(crate::domain::site::Site, SegmentViewer), R> {
    let (site, caller) = site_for::<R>(state, auth, domain, Need::Read).await?;
    let may_manage = caller.check(site.id, Need::Manage).is_ok();
    Ok((site, SegmentViewer::of(&caller.principal, may_manage)))
}

/// Segment endpoints.
pub struct SegmentsApi {
    pub state: Arc<AppState>,
}

impl SegmentsApi {
    /// One segment call: the caller's view of the site, the service call, the answer.
    async fn answer<R: ErrorAnswers, T, F: Future<Output = Result<T, SegmentError>>>(
        &self,
        (auth, domain): (&Auth, &str),
        call: impl FnOnce(Arc<SegmentService>, u32, SegmentViewer) -> F,
        ok: impl FnOnce(T) -> R,
        failed: impl FnOnce(SegmentError) -> R,
    ) -> R {
        match viewer::<R>(&self.state, auth, domain).await {
            Ok((site, viewer)) => call(self.state.segments.clone(), site.id.0, viewer).await.map_or_else(failed, ok),
            Err(denied) => denied,
        }
    }
}

#[OpenApi(tag = "ApiTags::Reports")]
impl SegmentsApi {
    /// List the segments of a site the caller sees.
    #[oai(path = "/sites/:site/segments", method = "get", operation_id = "listSegments")]
    async fn list_segments(&self, auth: Auth, site: Path<String>) -> SegmentsResult {
        let call = |segments: Arc<SegmentService>, site, viewer| async move { segments.segments(site, viewer).await };
        let ok = |l: Vec<Segment>| SegmentsResult::List(Json(l.into_iter().map(view).collect()));
        self.answer((&auth, &site.0), call, ok, SegmentsResult::failed).await
    }

    /// Save a segment; use it in queries as `["is", "segment", [id]]`.
    #[oai(path = "/sites/:site/segments", method = "post", operation_id = "createSegment")]
    async fn create_segment(&self, auth: Auth, site: Path<String>, req: Json<CreateSegment>) -> SegmentsResult {
        let CreateSegment { name, kind: k, segment_data } = req.0;
        let call = |segments: Arc<SegmentService>, site, viewer| async move {
            let kind = kind(k)?.unwrap_or(SegmentKind::Personal);
            let labels = segment_data.labels.unwrap_or(Value::Null);
            let draft = SegmentDraft { name, kind, filters: segment_data.filters, labels };
            segments.add(site, viewer, draft).await
        };
        self.answer((&auth, &site.0), call, |s| SegmentsResult::Created(Json(view(s))), SegmentsResult::failed).await
    }

    /// Change a segment: rename it, replace its filters, or make it personal or site-wide.
    #[oai(path = "/sites/:site/segments/:id", method = "patch", operation_id = "updateSegment")]
    async fn update_segment(
        &self,
        auth: Auth,
        site: Path<String>,
        id: Path<u32>,
        req: Json<UpdateSegment>,
    ) -> SegmentChanged {
        let UpdateSegment { name, kind: k, segment_data } = req.0;
        let call = |segments: Arc<SegmentService>, site, viewer| async move {
            let (filters, labels) = match segment_data {
                Some(d) => (Some(d.filters), d.labels),
                None => (None, None),
            };
            let patch = SegmentPatch { name, kind: kind(k)?, filters, labels };
            segments.update(site, viewer, id.0, patch).await
        };
        self.answer((&auth, &site.0), call, |s| SegmentChanged::Ok(Json(view(s))), SegmentChanged::failed).await
    }

    /// Delete a segment.
    #[oai(path = "/sites/:site/segments/:id", method = "delete", operation_id = "deleteSegment")]
    async fn delete_segment(&self, auth: Auth, site: Path<String>, id: Path<u32>) -> SegmentsResult {
        let call =
            |segments: Arc<SegmentService>, site, viewer| async move { segments.delete(site, viewer, id.0).await };
        self.answer((&auth, &site.0), call, |()| SegmentsResult::Deleted, SegmentsResult::failed).await
    }
}

//! `/api/sites/{site}/annotations`: dated notes on the site's charts. Anyone who reads the
//! site lists them; its admins and owners (and tokens with write scope) add, change and delete them.

use std::sync::Arc;

use poem_openapi::param::{Path, Query as QueryParam};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use crate::adapters::http::AppState;
use crate::adapters::http::auth::Auth;
use crate::adapters::http::guard::{Answer, ApiFailure, answer, site_for};
use crate::domain::accounts::{Need, Principal};
use crate::domain::annotations::Annotation;
use crate::services::annotations::AnnotationError;

/// A dated note on the site's charts.
#[derive(Object)]
pub struct AnnotationView {
    pub id: u32,
    /// The day it marks (YYYY-MM-DD, the site's time zone).
    pub date: String,
    pub note: String,
    /// Who wrote it: `user:<id>`, `token:<id>` or `operator`.
    pub author: String,
    pub created_at: String,
}

/// An annotation to add.
#[derive(Object)]
pub struct CreateAnnotation {
    /// YYYY-MM-DD; default: today in the site's time zone.
    pub date: Option<String>,
    /// One line, at most 200 characters.
    pub note: String,
}

/// An annotation's new date and note.
#[derive(Object)]
pub struct UpdateAnnotation {
    /// YYYY-MM-DD.
    pub date: String,
    /// One line, at most 200 characters.
    pub note: String,
}

/// The answers about the site's annotations in the period, by date.
pub type AnnotationsResult = crate::adapters::http::answers::Collection<AnnotationView>;

/// The answers about one annotation after a change.
pub type AnnotationChanged = crate::adapters::http::answers::Item<AnnotationView>;

impl ApiFailure for AnnotationError {
    fn answer(self) -> Answer {
        let message = self.to_string();
        match self {
            AnnotationError::Invalid(_) => Answer::BadRequest("invalid_annotation", message),
            AnnotationError::Period(_) => Answer::BadRequest("invalid_date_range", message),
            AnnotationError::NotFound => Answer::NotFound(message),
            AnnotationError::Store(_) => Answer::Internal(message),
        }
    }
}

fn view(a: Annotation) -> AnnotationView {
    AnnotationView {
        id: a.id,
        date: a.date.format("%Y-%m-%d").to_string(),
        note: a.note,
        author: a.author,
        created_at: super::iso(a.created_at),
    }
}

fn author(p: &Principal) -> String {
    match p {
        Principal::User { id, .. } => format!("user:{}", id.0),
        Principal::Token { id, .. } => format!("token:{id}"),
        Principal::Share { link, .. } => format!("share:{link}"),
        Principal::Operator => "operator".into(),
    }
}

/// Annotation endpoints.
pub struct AnnotationsApi {
    pub state: Arc<AppState>,
}

#[OpenApi(tag = "ApiTags::Reports")]
impl AnnotationsApi {
    /// List the site's annotations over a period.
    #[oai(path = "/sites/:site/annotations", method = "get", operation_id = "listAnnotations")]
    async fn list_annotations(
        &self,
        auth: Auth,
        site: Path<String>,
        /// `30d`, `month`, ... or `YYYY-MM-DD,YYYY-MM-DD`; default `30d`.
        date_range: QueryParam<Option<String>>,
    ) -> AnnotationsResult {
        let (site, _) = crate::or_return!(site_for::<AnnotationsResult>(&self.state, &auth, &site.0, Need::Read).await);
        answer(self.state.annotations.list(site, date_range.0).await, |list| {
            AnnotationsResult::List(Json(list.into_iter().map(view).collect()))
        })
    }

    /// Add an annotation (site admins and owners).
    #[oai(path = "/sites/:site/annotations", method = "post", operation_id = "createAnnotation")]
    async fn create_annotation(
        &self,
        auth: Auth,
        site: Path<String>,
        req: Json<CreateAnnotation>,
    ) -> AnnotationsResult {
        let (site, caller) =
            crate::or_return!(site_for::<AnnotationsResult>(&self.state, &auth, &site.0, Need::Manage).await);
        let CreateAnnotation { date, note } = req.0;
        answer(self.state.annotations.add(site, date, note, author(&caller.principal)).await, |a| {
            AnnotationsResult::Created(Json(view(a)))
        })
    }

    /// Change an annotation's date and note (site admins and owners).
    #[oai(path = "/sites/:site/annotations/:id", method = "put", operation_id = "updateAnnotation")]
    async fn update_annotation(
        &self,
        auth: Auth,
        site: Path<String>,
        id: Path<u32>,
        req: Json<UpdateAnnotation>,
    ) -> AnnotationChanged {
        let (site, _) =
            crate::or_return!(site_for::<AnnotationChanged>(&self.state, &auth, &site.0, Need::Manage).await);
        answer(self.state.annotations.update(site, id.0, &req.0.date, &req.0.note).await, |a| {
            AnnotationChanged::Ok(Json(view(a)))
        })
    }

    /// Delete an annotation (site admins and owners).
    #[oai(path = "/sites/:site/annotations/:id", method = "delete", operation_id = "deleteAnnotation")]
    async fn delete_annotation(&self, auth: Auth, site: Path<String>, id: Path<u32>) -> AnnotationsResult {
        let (site, _) =
            crate::or_return!(site_for::<AnnotationsResult>(&self.state, &auth, &site.0, Need::Manage).await);
        answer(self.state.annotations.delete(site, id.0).await, |()| AnnotationsResult::Deleted)
    }
}

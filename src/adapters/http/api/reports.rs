//! `/api/v2/query` (Plausible's Stats API v2, plus `compare`), Web Vitals and realtime. Handlers
//! parse, call the report service and map its answer or error, nothing else.

use std::sync::Arc;
use std::time::Duration;

use poem::Request;
use poem::web::Accept;
use poem_openapi::param::{Path, Query as QueryParam};
use poem_openapi::payload::{EventStream, Json, PlainText};
use poem_openapi::{OpenApi, ResponseContent};
use serde_json::Value;

use super::report_bodies::{QueryRequest, QueryResponse, RealtimeUpdate, VitalView, answer_csv, answer_json};
use super::segments;
use crate::adapters::http::AppState;
use crate::adapters::http::api::{ApiErrorBody, ApiTags, body};
use crate::adapters::http::auth::{Auth, origin};
use crate::adapters::http::guard::{ApiFailure, ErrorAnswers, unsegmented, unsegmented_site};
use crate::adapters::http::realtime::{StreamRefused, count_visitors, credential, realtime_stream, stream_key};
use crate::ports::store::StoreError;
use crate::services::reports::ReportError;

/// Seconds a client is asked to wait after a query timed out (the server was busy, or the query
/// is too expensive: narrowing it helps more than waiting).
pub const QUERY_RETRY_AFTER_SECS: u64 = 5;

/// The body of a 503 for a query stopped at its deadline.
pub fn timed_out(e: &StoreError) -> Json<ApiErrorBody> {
    body("query_timeout", format!("{e}; narrow the date_range or the filters, or try again later"))
}

/// Answers for report operations: an invalid query or period (400), a query stopped at its
/// deadline (503 with `Retry-After`), a storage failure (500).
pub trait ReportAnswers: ErrorAnswers {
    fn bad_request(body: Json<ApiErrorBody>) -> Self;
    fn unavailable(body: Json<ApiErrorBody>, retry_after: u64) -> Self;

    /// The one mapping of a report error; `invalid` is the error code of a 400.
    fn report_failed(e: ReportError, invalid: &str) -> Self {
        match e {
            ReportError::Invalid(e) => Self::bad_request(body(invalid, e.0)),
            ReportError::Store(e @ StoreError::TimedOut { .. }) => {
                Self::unavailable(timed_out(&e), QUERY_RETRY_AFTER_SECS)
            }
            ReportError::Store(e) => Self::internal(e.to_string()),
        }
    }
}

/// Implements [`ReportAnswers`] for response enums with `BadRequest` and `Unavailable` variants.
#[macro_export]
macro_rules! report_answers {
    ($($t:ty),*) => {$(
        impl $crate::adapters::http::api::reports::ReportAnswers for $t {
            fn bad_request(body: poem_openapi::payload::Json<$crate::adapters::http::api::ApiErrorBody>) -> Self {
                Self::BadRequest(body)
            }
            fn unavailable(
                body: poem_openapi::payload::Json<$crate::adapters::http::api::ApiErrorBody>,
                retry_after: u64,
            ) -> Self {
                Self::Unavailable(body, retry_after)
            }
        }
    )*};
}

/// A query's answer as JSON, or as CSV when the request accepts `text/csv`.
#[derive(ResponseContent)]
pub enum QueryBody {
    Json(Json<QueryResponse>),
    #[oai(content_type = "text/csv")]
    Csv(PlainText<String>),
}

crate::api_answers! {
    pub enum QueryResult ["invalid_query", |err| format!("The request body is not a valid query: {err}")] {
        /// The answer (JSON, or CSV when the request accepts `text/csv`).
        Ok(200, QueryBody),
        /// The query is invalid; `message` names the problem.
        BadRequest,
        Unauthorized, Forbidden,
        /// No such site.
        NotFound,
        Internal,
        /// The query ran past `--query-timeout-ms` and was stopped (`error`: `query_timeout`).
        Unavailable,
    }
}

crate::api_answers! {
    /// The answers of a report over a period (Web Vitals, AI visibility, a funnel).
    pub enum PeriodReport<T> {
        /// The report over the period.
        Ok(200, Json<T>),
        /// Invalid period.
        BadRequest,
        Unauthorized, Forbidden,
        /// No such site (or no such funnel).
        NotFound,
        Internal,
        /// The report ran past `--query-timeout-ms` and was stopped (`error`: `query_timeout`).
        Unavailable,
    }
}

impl<T: poem_openapi::types::ToJSON> ReportAnswers for PeriodReport<T> {
    fn bad_request(body: Json<ApiErrorBody>) -> Self {
        Self::BadRequest(body)
    }
    fn unavailable(body: Json<ApiErrorBody>, retry_after: u64) -> Self {
        Self::Unavailable(body, retry_after)
    }
}

/// Web Vitals per metric.
pub type VitalsResult = PeriodReport<Vec<VitalView>>;

/// Realtime answer bodies.
#[derive(ResponseContent)]
pub enum RealtimeBody {
    Json(Json<RealtimeUpdate>),
    Stream(EventStream<futures_util::stream::BoxStream<'static, RealtimeUpdate>>),
}

crate::api_answers! {
    pub enum RealtimeResult {
        /// Current visitors as JSON, or (with `Accept: text/event-stream`) a stream of updates: one at
        /// once, then one after each write for the site (at most one a second).
        Ok(200, RealtimeBody),
        Unauthorized, Forbidden,
        /// No such site.
        NotFound,
        /// The caller already has the most streams open (`--max-realtime-streams-per-caller`).
        TooManyRequests,
        Internal,
        /// The server holds the most streams it allows (`--max-realtime-streams`).
        Unavailable,
    }
}
crate::report_answers!(QueryResult);

/// Runs a Stats API v2 query for the caller (`/api/v2/query` and the MCP server's tools): the
/// answer and the request to echo in it, with segments expanded (as Plausible does).
pub async fn answer_query<R: ReportAnswers>(
    state: &AppState,
    auth: &Auth,
    req: &QueryRequest,
) -> Result<(crate::domain::reports::Answer, Value), R> {
    let (site, viewer) = segments::viewer::<R>(state, auth, &req.site_id).await?;
    // Segment filters stand for the segment's filters (and a share link's segment applies).
    let mut input = req.to_input();
    input.filters =
        state.segments.expand(site.id.0, viewer, input.filters).await.map_err(|e| R::failure(e.answer()))?;
    let filters = input.filters.clone();
    let answer = state.reports.query(site, input).await.map_err(|e| R::report_failed(e, "invalid_query"))?;
    let mut echo = poem_openapi::types::ToJSON::to_json(req).unwrap_or(Value::Null);
    if !filters.is_empty() {
        echo["filters"] = Value::Array(filters);
    }
    Ok((answer, echo))
}

/// Reports endpoints.
pub struct ReportsApi {
    pub state: Arc<AppState>,
}

fn accepts(accept: &Accept, essence: &str) -> bool {
    accept.0.iter().any(|m| m.essence_str() == essence)
}

#[OpenApi(tag = "ApiTags::Reports")]
impl ReportsApi {
    /// Query stats (Plausible Stats API v2 compatible, plus `compare`). Send `Accept: text/csv` for CSV.
    #[oai(path = "/v2/query", method = "post", operation_id = "query")]
    async fn query(&self, auth: Auth, accept: Accept, req: Json<QueryRequest>) -> QueryResult {
        match answer_query::<QueryResult>(&self.state, &auth, &req.0).await {
            Ok((answer, _)) if accepts(&accept, "text/csv") => {
                QueryResult::Ok(QueryBody::Csv(PlainText(answer_csv(&answer))))
            }
            Ok((answer, echo)) => QueryResult::Ok(QueryBody::Json(Json(answer_json(answer, echo)))),
            Err(refused) => refused,
        }
    }

    /// Core Web Vitals sent by `hk-vitals.js`: p75 and rating shares per metric.
    #[oai(path = "/sites/:site/web-vitals", method = "get", operation_id = "webVitals")]
    async fn web_vitals(
        &self,
        auth: Auth,
        site: Path<String>,
        /// `30d`, `month`, ... or `YYYY-MM-DD,YYYY-MM-DD`; default `30d`.
        date_range: QueryParam<Option<String>>,
        /// Only this page (pathname).
        page: QueryParam<Option<String>>,
    ) -> VitalsResult {
        let site = crate::or_return!(unsegmented_site(&self.state, &auth, &site.0).await);
        match self.state.reports.web_vitals(site, date_range.0, page.0).await {
            Ok(list) => VitalsResult::Ok(Json(list.into_iter().map(VitalView::from).collect())),
            Err(e) => VitalsResult::report_failed(e, "invalid_date_range"),
        }
    }

    /// Visitors in the last five minutes; with `Accept: text/event-stream`, a stream of updates
    /// sent whenever new data for the site lands. A stream ends when its credentials no longer
    /// read the site (checked on every update and periodically); each caller may hold a few
    /// streams (429 beyond), the server a bounded number (503 beyond).
    #[oai(path = "/sites/:site/realtime", method = "get", operation_id = "realtime")]
    async fn realtime(&self, auth: Auth, req: &Request, site: Path<String>, accept: Accept) -> RealtimeResult {
        // A share link limited to a segment gets no realtime count: it would count every visitor.
        let (site, caller) = crate::or_return!(unsegmented::<RealtimeResult>(&self.state, &auth, &site.0).await);
        let reports = self.state.reports.clone();
        if !accepts(&accept, "text/event-stream") {
            return match count_visitors(reports, site).await {
                Some(u) => RealtimeResult::Ok(RealtimeBody::Json(Json(u))),
                None => RealtimeResult::internal("could not count visitors".into()),
            };
        }
        let key = stream_key(&caller.principal, origin(&self.state, req).ip);
        let slot = match self.state.broadcaster.open_stream(key) {
            Ok(slot) => slot,
            Err(e @ StreamRefused::PerCaller(_)) => {
                return RealtimeResult::TooManyRequests(body("too_many_streams", e.to_string()), 5);
            }
            Err(e @ StreamRefused::Total(_)) => {
                return RealtimeResult::Unavailable(body("too_many_streams", e.to_string()), 5);
            }
        };
        let stream = realtime_stream(&self.state, credential(&auth), site, slot);
        RealtimeResult::Ok(RealtimeBody::Stream(EventStream::new(stream).keep_alive(Duration::from_secs(15))))
    }
}

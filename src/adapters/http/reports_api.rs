//! `/api/v2/query` (Plausible's Stats API v2, plus `compare`), Web Vitals and realtime.

use std::sync::Arc;
use std::time::Duration;

use poem::Request;
use poem::web::Accept;
use poem_openapi::param::{Path, Query as QueryParam};
use poem_openapi::payload::{EventStream, Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi, ResponseContent};
use serde::Serialize;
use serde_json::{Value, json};

use super::AppState;
use super::api::{ApiErrorBody, ApiTags, body};
use super::auth::{Auth, origin};
use super::guard::{ErrorAnswers, site_for};
use super::realtime::{StreamRefused, count_visitors, credential, realtime_stream, stream_key};
use crate::domain::accounts::Need;
use crate::domain::reports::{Answer, ReportError, iso};
use crate::domain::site::Site;
use crate::ports::store::StoreError;

/// Which extra information to return.
#[derive(Object, Serialize, Default)]
pub struct QueryInclude {
    /// All time buckets of the period (with a time dimension).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_labels: Option<bool>,
    /// The number of rows before pagination.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_rows: Option<bool>,
    /// Add imported history (Plausible, Umami, GoatCounter imports) on days without native data.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imports: Option<bool>,
    /// Comparison period, as `compare`.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<Value>,
}

/// Page through the results.
#[derive(Object, Serialize)]
pub struct Pagination {
    /// Rows per page (1-10000).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Rows to skip.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// A Stats API v2 query.
#[derive(Object, Serialize)]
pub struct QueryRequest {
    /// The site's domain.
    pub site_id: String,
    /// `"day"`, `"24h"`, `"7d"`, `"28d"`, `"30d"`, `"91d"`, `"month"`, `"6mo"`, `"12mo"`, `"year"`, `"all"`,
    /// `["YYYY-MM-DD", "YYYY-MM-DD"]` or two ISO 8601 date-times, in the site's time zone.
    pub date_range: Value,
    /// visitors, visits, pageviews, views_per_visit, bounce_rate, visit_duration, events, percentage,
    /// conversion_rate, time_on_page.
    pub metrics: Vec<String>,
    /// event:page, event:hostname, event:name, event:goal, event:props:KEY, visit:* and time, time:hour|day|week|month.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<Vec<String>>,
    /// `[op, dimension, [values], {"case_sensitive": false}?]`, `["and"|"or", [...]]`, `["not"|"has_done"|"has_not_done", f]`.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Value>>,
    /// `[[metric_or_dimension, "asc"|"desc"], ...]`.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_by: Option<Vec<Vec<String>>>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include: Option<QueryInclude>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    /// `"previous_period"`, `"year_over_year"` or `["YYYY-MM-DD", "YYYY-MM-DD"]`: comparison values in the same response.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<Value>,
    /// The day that counts as today (YYYY-MM-DD); default: today in the site's time zone.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// The comparison period's values for a row.
#[derive(Object)]
pub struct ComparisonRow {
    pub dimensions: Vec<Value>,
    pub metrics: Vec<Value>,
    /// Percent change per metric; bounce_rate, conversion_rate and percentage: difference in points.
    pub change: Vec<Value>,
}

/// One result row.
#[derive(Object)]
pub struct QueryRow {
    /// Dimension values, in the order asked.
    pub dimensions: Vec<Value>,
    /// Metric values, in the order asked.
    pub metrics: Vec<Value>,
    #[oai(skip_serializing_if_is_none)]
    pub comparison: Option<ComparisonRow>,
}

/// Facts about the answer.
#[derive(Object)]
pub struct QueryMeta {
    #[oai(skip_serializing_if_is_none)]
    pub time_labels: Option<Vec<String>>,
    #[oai(skip_serializing_if_is_none)]
    pub total_rows: Option<u64>,
    /// The comparison period, when `compare` was asked.
    #[oai(skip_serializing_if_is_none)]
    pub comparison_date_range: Option<Vec<String>>,
    /// Per metric: `{"code", "warning"}` when a value is not exact.
    #[oai(skip_serializing_if_is_none)]
    pub metric_warnings: Option<Value>,
    /// With `include.imports`: whether imported history is part of the numbers.
    #[oai(skip_serializing_if_is_none)]
    pub imports_included: Option<bool>,
    /// Why imported history was left out (an unsupported metric, dimension or filter).
    #[oai(skip_serializing_if_is_none)]
    pub imports_warning: Option<String>,
}

/// A query's answer.
#[derive(Object)]
pub struct QueryResponse {
    pub results: Vec<QueryRow>,
    pub meta: QueryMeta,
    /// The query as understood, with the date range resolved.
    pub query: Value,
}

/// A query's answer as JSON, or as CSV when the request accepts `text/csv`.
#[derive(ResponseContent)]
pub enum QueryBody {
    Json(Json<QueryResponse>),
    #[oai(content_type = "text/csv")]
    Csv(PlainText<String>),
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "query_bad_request")]
pub enum QueryResult {
    /// The answer (JSON, or CSV when the request accepts `text/csv`).
    #[oai(status = 200)]
    Ok(QueryBody),
    /// The query is invalid; `message` names the problem.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Not signed in, or unknown credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// The role or token scope does not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ApiErrorBody>),
    /// No such site.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
    /// The query ran past `--query-timeout-ms` and was stopped (`error`: `query_timeout`).
    #[oai(status = 503)]
    Unavailable(Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
}

fn query_bad_request(err: poem::Error) -> QueryResult {
    QueryResult::refused(err, |err| {
        QueryResult::BadRequest(body("invalid_query", format!("The request body is not a valid query: {err}")))
    })
}

/// One Web Vitals metric over the period.
#[derive(Object)]
pub struct VitalView {
    /// LCP, INP, CLS, FCP or TTFB.
    pub metric: String,
    pub samples: u64,
    /// 75th percentile (milliseconds; CLS unitless).
    pub p75: f64,
    /// Percent of samples rated good.
    pub good: f64,
    /// Percent rated needs-improvement.
    pub needs_improvement: f64,
    /// Percent rated poor.
    pub poor: f64,
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "vitals_bad_request")]
pub enum VitalsResult {
    /// Per metric.
    #[oai(status = 200)]
    Ok(Json<Vec<VitalView>>),
    /// Invalid period.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Not signed in, or unknown credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// The role or token scope does not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ApiErrorBody>),
    /// No such site.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
    /// The query ran past `--query-timeout-ms` and was stopped (`error`: `query_timeout`).
    #[oai(status = 503)]
    Unavailable(Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
}

fn vitals_bad_request(err: poem::Error) -> VitalsResult {
    VitalsResult::refused(err, |err| VitalsResult::BadRequest(body("invalid_request", err.to_string())))
}

/// Realtime visitor count.
#[derive(Object, Clone)]
pub struct RealtimeUpdate {
    pub site: String,
    /// Distinct visitors in the last five minutes.
    pub visitors: u64,
}

/// Realtime answer bodies.
#[derive(ResponseContent)]
pub enum RealtimeBody {
    Json(Json<RealtimeUpdate>),
    Stream(EventStream<futures_util::stream::BoxStream<'static, RealtimeUpdate>>),
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "realtime_bad_request")]
pub enum RealtimeResult {
    /// Current visitors as JSON, or (with `Accept: text/event-stream`) a stream of updates: one at
    /// once, then one after each write for the site (at most one a second).
    #[oai(status = 200)]
    Ok(RealtimeBody),
    /// Not signed in, or unknown credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// The role or token scope does not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ApiErrorBody>),
    /// No such site.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// The caller already has the most streams open (`--max-realtime-streams-per-caller`).
    #[oai(status = 429)]
    TooManyRequests(Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
    /// The server holds the most streams it allows (`--max-realtime-streams`).
    #[oai(status = 503)]
    Unavailable(Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
}

fn realtime_bad_request(err: poem::Error) -> RealtimeResult {
    RealtimeResult::refused(err, |err| RealtimeResult::Internal(body("invalid_request", err.to_string())))
}

/// Reports endpoints.
pub struct ReportsApi {
    pub state: Arc<AppState>,
}

impl ReportsApi {
    async fn site<R: ErrorAnswers>(&self, auth: &Auth, domain: &str, need: Need) -> Result<Site, R> {
        site_for(&self.state, auth, domain, need).await.map(|(site, _)| site)
    }
}

crate::error_answers!(QueryResult, VitalsResult, RealtimeResult);

/// Seconds a client is asked to wait after a query timed out (the server was busy, or the query
/// is too expensive: narrowing it helps more than waiting).
pub const QUERY_RETRY_AFTER_SECS: u64 = 5;

/// The body of a 503 for a query stopped at its deadline.
pub fn timed_out(e: &StoreError) -> Json<ApiErrorBody> {
    body("query_timeout", format!("{e}; narrow the date_range or the filters, or try again later"))
}

fn answer_json(a: Answer, request: &Value) -> QueryResponse {
    let mut echo = request.clone();
    echo["date_range"] =
        json!([iso(&a.query.period, a.query.period.start), iso(&a.query.period, a.query.period.end - 1)]);
    let comparison_date_range = a.query.compare.as_ref().map(|p| vec![iso(p, p.start), iso(p, p.end - 1)]);
    QueryResponse {
        results: a
            .rows
            .into_iter()
            .map(|r| QueryRow {
                dimensions: r.dimensions,
                metrics: r.metrics,
                comparison: r.comparison.map(|c| ComparisonRow {
                    dimensions: c.dimensions,
                    metrics: c.metrics,
                    change: c.change,
                }),
            })
            .collect(),
        meta: QueryMeta {
            metric_warnings: a.approximate.then(|| {
                let warning = json!({"code": "approximate", "warning": "Counted with HyperLogLog over a large period (about 1-2 % error)."});
                let affected = ["visitors", "percentage", "conversion_rate"];
                Value::Object(
                    a.query
                        .metrics
                        .iter()
                        .filter(|m| affected.contains(&m.as_str()))
                        .map(|m| (m.as_str().to_string(), warning.clone()))
                        .collect(),
                )
            }),
            time_labels: a.time_labels,
            total_rows: a.total_rows,
            comparison_date_range,
            imports_included: a.imports_included,
            imports_warning: a.imports_warning,
        },
        query: echo,
    }
}

fn csv_cell(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        // Text is what a visitor controls (paths, sources, event names); numbers stay numbers.
        Value::String(s) => crate::domain::spreadsheet::spreadsheet_safe(s).into_owned(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn answer_csv(a: &Answer) -> String {
    let mut out = String::new();
    let mut header: Vec<String> = a.query.dimensions.iter().map(|d| d.name()).collect();
    header.extend(a.query.metrics.iter().map(|m| m.as_str().to_string()));
    out.push_str(&header.join(","));
    out.push('\n');
    for r in &a.rows {
        let cells: Vec<String> = r.dimensions.iter().chain(r.metrics.iter()).map(csv_cell).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[OpenApi(tag = "ApiTags::Reports")]
impl ReportsApi {
    /// Query stats (Plausible Stats API v2 compatible, plus `compare`). Send `Accept: text/csv` for CSV.
    #[oai(path = "/v2/query", method = "post", operation_id = "query")]
    async fn query(&self, auth: Auth, accept: Accept, req: Json<QueryRequest>) -> QueryResult {
        let site = match self.site(&auth, &req.site_id, Need::Read).await {
            Ok(s) => s,
            Err(denied) => return denied,
        };
        let request = serde_json::to_value(&req.0).unwrap_or(Value::Null);
        let reports = self.state.reports.clone();
        let (site2, request2) = (site.clone(), request.clone());
        let result = tokio::task::spawn_blocking(move || reports.query(&site2, &request2)).await;
        let wants_csv = accept.0.iter().any(|m| m.essence_str() == "text/csv");
        match result {
            Ok(Ok(answer)) if wants_csv => QueryResult::Ok(QueryBody::Csv(PlainText(answer_csv(&answer)))),
            Ok(Ok(answer)) => QueryResult::Ok(QueryBody::Json(Json(answer_json(answer, &request)))),
            Ok(Err(ReportError::Invalid(e))) => QueryResult::BadRequest(body("invalid_query", e.0)),
            Ok(Err(ReportError::Store(e @ StoreError::TimedOut { .. }))) => {
                QueryResult::Unavailable(timed_out(&e), QUERY_RETRY_AFTER_SECS)
            }
            Ok(Err(ReportError::Store(e))) => QueryResult::internal(e.to_string()),
            Err(e) => QueryResult::internal(e.to_string()),
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
        let site = match self.site(&auth, &site.0, Need::Read).await {
            Ok(s) => s,
            Err(denied) => return denied,
        };
        let range = date_range.0.unwrap_or_else(|| "30d".into());
        let range_json = match range.split_once(',') {
            Some((a, b)) => json!([a.trim(), b.trim()]),
            None => json!(range),
        };
        let reports = self.state.reports.clone();
        let result = tokio::task::spawn_blocking(move || {
            let period = reports.period(&site, &range_json)?;
            reports.web_vitals(&site, &period, page.0.as_deref()).map_err(ReportError::Store)
        })
        .await;
        match result {
            Ok(Ok(list)) => VitalsResult::Ok(Json(
                list.into_iter()
                    .map(|v| VitalView {
                        metric: v.metric,
                        samples: v.samples,
                        p75: v.p75,
                        good: v.good,
                        needs_improvement: v.needs_improvement,
                        poor: v.poor,
                    })
                    .collect(),
            )),
            Ok(Err(ReportError::Invalid(e))) => VitalsResult::BadRequest(body("invalid_date_range", e.0)),
            Ok(Err(ReportError::Store(e @ StoreError::TimedOut { .. }))) => {
                VitalsResult::Unavailable(timed_out(&e), QUERY_RETRY_AFTER_SECS)
            }
            Ok(Err(ReportError::Store(e))) => VitalsResult::internal(e.to_string()),
            Err(e) => VitalsResult::internal(e.to_string()),
        }
    }

    /// Visitors in the last five minutes; with `Accept: text/event-stream`, a stream of updates
    /// sent whenever new data for the site lands. A stream ends when its credentials no longer
    /// read the site (checked on every update and periodically); each caller may hold a few
    /// streams (429 beyond), the server a bounded number (503 beyond).
    #[oai(path = "/sites/:site/realtime", method = "get", operation_id = "realtime")]
    async fn realtime(&self, auth: Auth, req: &Request, site: Path<String>, accept: Accept) -> RealtimeResult {
        let (site, caller) = match site_for::<RealtimeResult>(&self.state, &auth, &site.0, Need::Read).await {
            Ok(found) => found,
            Err(denied) => return denied,
        };
        let reports = self.state.reports.clone();
        if !accept.0.iter().any(|m| m.essence_str() == "text/event-stream") {
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

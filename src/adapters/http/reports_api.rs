//! `/api/v2/query` (Plausible's Stats API v2, plus `compare`), goals, funnels and realtime.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use poem::web::Accept;
use poem_openapi::param::{Path, Query as QueryParam};
use poem_openapi::payload::{EventStream, Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi, ResponseContent};
use serde::Serialize;
use serde_json::{Value, json};

use super::AppState;
use super::api::{ApiErrorBody, ApiTags, ApiToken, UNAUTHORIZED, body};
use crate::domain::query::GoalKind;
use crate::domain::reports::{Answer, ReportError, iso};
use crate::domain::site::{Site, SiteDomain};

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
    /// Accepted for Plausible compatibility; there are no imports.
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
    /// Missing or wrong API token.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// No such site.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn query_bad_request(err: poem::Error) -> QueryResult {
    if err.status() == poem::http::StatusCode::UNAUTHORIZED {
        return QueryResult::Unauthorized(body("unauthorized", UNAUTHORIZED));
    }
    QueryResult::BadRequest(body("invalid_query", format!("The request body is not a valid query: {err}")))
}

/// A goal: a pageview of matching pages or a custom event.
#[derive(Object)]
pub struct GoalView {
    pub id: u32,
    /// The name shown in `event:goal`.
    pub display_name: String,
    /// Page path pattern (`*` within a segment, `**` across), for pageview goals.
    #[oai(skip_serializing_if_is_none)]
    pub page_path: Option<String>,
    /// Custom event name, for event goals.
    #[oai(skip_serializing_if_is_none)]
    pub event_name: Option<String>,
}

/// A goal to create: exactly one of `page_path` and `event_name`.
#[derive(Object)]
pub struct CreateGoal {
    #[oai(skip_serializing_if_is_none)]
    pub display_name: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub page_path: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub event_name: Option<String>,
}

fn goal_view(g: &crate::domain::query::Goal) -> GoalView {
    let (page_path, event_name) = match &g.kind {
        GoalKind::Page(p) => (Some(p.clone()), None),
        GoalKind::Event(e) => (None, Some(e.clone())),
    };
    GoalView { id: g.id, display_name: g.display_name.clone(), page_path, event_name }
}

fn step_kind(page_path: Option<String>, event_name: Option<String>) -> Result<GoalKind, String> {
    match (page_path.filter(|p| !p.is_empty()), event_name.filter(|e| !e.trim().is_empty())) {
        (Some(p), None) if p.starts_with('/') && p.len() <= 2000 => Ok(GoalKind::Page(p)),
        (Some(_), None) => Err("page_path must start with '/'".into()),
        (None, Some(e)) if e.len() <= 120 => Ok(GoalKind::Event(e.trim().to_string())),
        (None, Some(_)) => Err("event_name is longer than 120 characters".into()),
        _ => Err("give exactly one of page_path and event_name".into()),
    }
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "goals_bad_request")]
pub enum GoalsResult {
    /// The site's goals.
    #[oai(status = 200)]
    List(Json<Vec<GoalView>>),
    /// Created.
    #[oai(status = 201)]
    Created(Json<GoalView>),
    /// Deleted.
    #[oai(status = 204)]
    Deleted,
    /// Invalid goal.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Missing or wrong API token.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// No such site or goal.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn goals_bad_request(err: poem::Error) -> GoalsResult {
    if err.status() == poem::http::StatusCode::UNAUTHORIZED {
        return GoalsResult::Unauthorized(body("unauthorized", UNAUTHORIZED));
    }
    GoalsResult::BadRequest(body("invalid_request", err.to_string()))
}

/// A funnel step: a page pattern or an event name.
#[derive(Object, Clone)]
pub struct FunnelStepSpec {
    #[oai(skip_serializing_if_is_none)]
    pub page_path: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub event_name: Option<String>,
}

/// A funnel to create: 2-8 steps completed in order within one visit.
#[derive(Object)]
pub struct CreateFunnel {
    pub name: String,
    pub steps: Vec<FunnelStepSpec>,
}

/// A saved funnel.
#[derive(Object)]
pub struct FunnelView {
    pub id: u32,
    pub name: String,
    pub steps: Vec<FunnelStepSpec>,
}

/// A funnel step's numbers.
#[derive(Object)]
pub struct FunnelStepReport {
    pub label: String,
    pub visitors: u64,
    /// Visitors lost since the previous step.
    pub dropoff: u64,
    /// Percent of the first step's visitors.
    pub conversion_rate: f64,
    /// Percent of the previous step's visitors.
    pub conversion_rate_step: f64,
}

/// A funnel over a period.
#[derive(Object)]
pub struct FunnelReport {
    pub id: u32,
    pub name: String,
    /// The period, as ISO 8601 date-times in the site's time zone.
    pub date_range: Vec<String>,
    pub steps: Vec<FunnelStepReport>,
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "funnel_list_bad_request")]
pub enum FunnelListResult {
    /// The site's funnels.
    #[oai(status = 200)]
    Ok(Json<Vec<FunnelView>>),
    /// Missing or wrong API token.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// No such site.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn funnel_list_bad_request(err: poem::Error) -> FunnelListResult {
    if err.status() == poem::http::StatusCode::UNAUTHORIZED {
        return FunnelListResult::Unauthorized(body("unauthorized", UNAUTHORIZED));
    }
    FunnelListResult::Internal(body("invalid_request", err.to_string()))
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "funnel_report_bad_request")]
pub enum FunnelReportResult {
    /// Visitors per step over the period.
    #[oai(status = 200)]
    Ok(Json<FunnelReport>),
    /// Invalid period.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Missing or wrong API token.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// No such site or funnel.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn funnel_report_bad_request(err: poem::Error) -> FunnelReportResult {
    if err.status() == poem::http::StatusCode::UNAUTHORIZED {
        return FunnelReportResult::Unauthorized(body("unauthorized", UNAUTHORIZED));
    }
    FunnelReportResult::BadRequest(body("invalid_request", err.to_string()))
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "funnels_bad_request")]
pub enum FunnelsResult {
    /// Created.
    #[oai(status = 201)]
    Created(Json<FunnelView>),
    /// Deleted.
    #[oai(status = 204)]
    Deleted,
    /// Invalid funnel or period.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Missing or wrong API token.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// No such site or funnel.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn funnels_bad_request(err: poem::Error) -> FunnelsResult {
    if err.status() == poem::http::StatusCode::UNAUTHORIZED {
        return FunnelsResult::Unauthorized(body("unauthorized", UNAUTHORIZED));
    }
    FunnelsResult::BadRequest(body("invalid_request", err.to_string()))
}

fn spec_of(k: &GoalKind) -> FunnelStepSpec {
    match k {
        GoalKind::Page(p) => FunnelStepSpec { page_path: Some(p.clone()), event_name: None },
        GoalKind::Event(e) => FunnelStepSpec { page_path: None, event_name: Some(e.clone()) },
    }
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
    /// Missing or wrong API token.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// No such site.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn vitals_bad_request(err: poem::Error) -> VitalsResult {
    if err.status() == poem::http::StatusCode::UNAUTHORIZED {
        return VitalsResult::Unauthorized(body("unauthorized", UNAUTHORIZED));
    }
    VitalsResult::BadRequest(body("invalid_request", err.to_string()))
}

/// Realtime visitor count.
#[derive(Object, Clone)]
pub struct RealtimeUpdate {
    pub site: String,
    /// Distinct visitors in the last five minutes.
    pub visitors: u64,
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "realtime_bad_request")]
pub enum RealtimeResult {
    /// A stream of updates: one at once, then one after each write for the site (at most one a second).
    #[oai(status = 200)]
    Stream(EventStream<futures_util::stream::BoxStream<'static, RealtimeUpdate>>),
    /// Current visitors.
    #[oai(status = 200, content_type = "application/json")]
    Now(Json<RealtimeUpdate>),
    /// Missing or wrong API token.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// No such site.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn realtime_bad_request(err: poem::Error) -> RealtimeResult {
    if err.status() == poem::http::StatusCode::UNAUTHORIZED {
        return RealtimeResult::Unauthorized(body("unauthorized", UNAUTHORIZED));
    }
    RealtimeResult::Internal(body("invalid_request", err.to_string()))
}

/// Reports endpoints.
pub struct ReportsApi {
    pub state: Arc<AppState>,
}

enum Denied {
    Unauthorized,
    NotFound(String),
}

impl ReportsApi {
    fn site(&self, token: &ApiToken, domain: &str) -> Result<Site, Denied> {
        if !self.state.config.api_token.as_ref().is_some_and(|t| t.matches(&token.0.token)) {
            return Err(Denied::Unauthorized);
        }
        SiteDomain::parse(domain)
            .ok()
            .and_then(|d| self.state.ingest.sites().by_domain(&d).cloned())
            .ok_or_else(|| Denied::NotFound(format!("no site {domain:?}")))
    }
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
        },
        query: echo,
    }
}

fn csv_cell(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
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
    async fn query(&self, token: ApiToken, accept: Accept, req: Json<QueryRequest>) -> QueryResult {
        let site = match self.site(&token, &req.site_id) {
            Ok(s) => s,
            Err(Denied::Unauthorized) => return QueryResult::Unauthorized(body("unauthorized", UNAUTHORIZED)),
            Err(Denied::NotFound(m)) => return QueryResult::NotFound(body("not_found", m)),
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
            Ok(Err(ReportError::Store(e))) => QueryResult::Internal(body("internal", e.to_string())),
            Err(e) => QueryResult::Internal(body("internal", e.to_string())),
        }
    }

    /// List a site's goals.
    #[oai(path = "/sites/:site/goals", method = "get", operation_id = "listGoals")]
    async fn list_goals(&self, token: ApiToken, site: Path<String>) -> GoalsResult {
        let site = match self.site(&token, &site.0) {
            Ok(s) => s,
            Err(Denied::Unauthorized) => return GoalsResult::Unauthorized(body("unauthorized", UNAUTHORIZED)),
            Err(Denied::NotFound(m)) => return GoalsResult::NotFound(body("not_found", m)),
        };
        let goals = self.state.reports.goals().clone();
        match tokio::task::spawn_blocking(move || goals.goals(site.id.0)).await {
            Ok(Ok(list)) => GoalsResult::List(Json(list.iter().map(goal_view).collect())),
            Ok(Err(e)) => GoalsResult::Internal(body("internal", e.to_string())),
            Err(e) => GoalsResult::Internal(body("internal", e.to_string())),
        }
    }

    /// Create a goal.
    #[oai(path = "/sites/:site/goals", method = "post", operation_id = "createGoal")]
    async fn create_goal(&self, token: ApiToken, site: Path<String>, req: Json<CreateGoal>) -> GoalsResult {
        let site = match self.site(&token, &site.0) {
            Ok(s) => s,
            Err(Denied::Unauthorized) => return GoalsResult::Unauthorized(body("unauthorized", UNAUTHORIZED)),
            Err(Denied::NotFound(m)) => return GoalsResult::NotFound(body("not_found", m)),
        };
        let req = req.0;
        let kind = match step_kind(req.page_path, req.event_name) {
            Ok(k) => k,
            Err(m) => return GoalsResult::BadRequest(body("invalid_goal", m)),
        };
        let name = req.display_name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| match &kind {
            GoalKind::Page(p) => format!("Visit {p}"),
            GoalKind::Event(e) => e.clone(),
        });
        let goals = self.state.reports.goals().clone();
        match tokio::task::spawn_blocking(move || {
            let existing = goals.goals(site.id.0)?;
            if existing.iter().any(|g| g.display_name == name) {
                return Ok(None);
            }
            goals.add_goal(site.id.0, &name, &kind).map(Some)
        })
        .await
        {
            Ok(Ok(Some(g))) => GoalsResult::Created(Json(goal_view(&g))),
            Ok(Ok(None)) => GoalsResult::BadRequest(body("goal_exists", "a goal with this display name exists")),
            Ok(Err(e)) => GoalsResult::Internal(body("internal", e.to_string())),
            Err(e) => GoalsResult::Internal(body("internal", e.to_string())),
        }
    }

    /// Delete a goal.
    #[oai(path = "/sites/:site/goals/:id", method = "delete", operation_id = "deleteGoal")]
    async fn delete_goal(&self, token: ApiToken, site: Path<String>, id: Path<u32>) -> GoalsResult {
        let site = match self.site(&token, &site.0) {
            Ok(s) => s,
            Err(Denied::Unauthorized) => return GoalsResult::Unauthorized(body("unauthorized", UNAUTHORIZED)),
            Err(Denied::NotFound(m)) => return GoalsResult::NotFound(body("not_found", m)),
        };
        let goals = self.state.reports.goals().clone();
        match tokio::task::spawn_blocking(move || goals.delete_goal(site.id.0, id.0)).await {
            Ok(Ok(true)) => GoalsResult::Deleted,
            Ok(Ok(false)) => GoalsResult::NotFound(body("not_found", "no such goal")),
            Ok(Err(e)) => GoalsResult::Internal(body("internal", e.to_string())),
            Err(e) => GoalsResult::Internal(body("internal", e.to_string())),
        }
    }

    /// List a site's funnels.
    #[oai(path = "/sites/:site/funnels", method = "get", operation_id = "listFunnels")]
    async fn list_funnels(&self, token: ApiToken, site: Path<String>) -> FunnelListResult {
        let site = match self.site(&token, &site.0) {
            Ok(s) => s,
            Err(Denied::Unauthorized) => return FunnelListResult::Unauthorized(body("unauthorized", UNAUTHORIZED)),
            Err(Denied::NotFound(m)) => return FunnelListResult::NotFound(body("not_found", m)),
        };
        let goals = self.state.reports.goals().clone();
        match tokio::task::spawn_blocking(move || goals.funnels(site.id.0)).await {
            Ok(Ok(list)) => FunnelListResult::Ok(Json(
                list.into_iter()
                    .map(|f| FunnelView { id: f.id, name: f.name, steps: f.steps.iter().map(spec_of).collect() })
                    .collect(),
            )),
            Ok(Err(e)) => FunnelListResult::Internal(body("internal", e.to_string())),
            Err(e) => FunnelListResult::Internal(body("internal", e.to_string())),
        }
    }

    /// Create a funnel of 2-8 steps.
    #[oai(path = "/sites/:site/funnels", method = "post", operation_id = "createFunnel")]
    async fn create_funnel(&self, token: ApiToken, site: Path<String>, req: Json<CreateFunnel>) -> FunnelsResult {
        let site = match self.site(&token, &site.0) {
            Ok(s) => s,
            Err(Denied::Unauthorized) => return FunnelsResult::Unauthorized(body("unauthorized", UNAUTHORIZED)),
            Err(Denied::NotFound(m)) => return FunnelsResult::NotFound(body("not_found", m)),
        };
        let req = req.0;
        if !(2..=8).contains(&req.steps.len()) {
            return FunnelsResult::BadRequest(body("invalid_funnel", "a funnel has 2 to 8 steps"));
        }
        if req.name.trim().is_empty() {
            return FunnelsResult::BadRequest(body("invalid_funnel", "name must not be empty"));
        }
        let mut steps = Vec::new();
        for (i, s) in req.steps.into_iter().enumerate() {
            match step_kind(s.page_path, s.event_name) {
                Ok(k) => steps.push(k),
                Err(m) => return FunnelsResult::BadRequest(body("invalid_funnel", format!("step {}: {m}", i + 1))),
            }
        }
        let goals = self.state.reports.goals().clone();
        let name = req.name.trim().to_string();
        match tokio::task::spawn_blocking(move || goals.add_funnel(site.id.0, &name, &steps)).await {
            Ok(Ok(f)) => FunnelsResult::Created(Json(FunnelView {
                id: f.id,
                name: f.name,
                steps: f.steps.iter().map(spec_of).collect(),
            })),
            Ok(Err(e)) => FunnelsResult::Internal(body("internal", e.to_string())),
            Err(e) => FunnelsResult::Internal(body("internal", e.to_string())),
        }
    }

    /// A funnel's visitors per step over a period (`date_range` as in queries, default `30d`).
    #[oai(path = "/sites/:site/funnels/:id", method = "get", operation_id = "funnelReport")]
    async fn funnel_report(
        &self,
        token: ApiToken,
        site: Path<String>,
        id: Path<u32>,
        /// `30d`, `month`, ... or `YYYY-MM-DD,YYYY-MM-DD`.
        date_range: QueryParam<Option<String>>,
    ) -> FunnelReportResult {
        let site = match self.site(&token, &site.0) {
            Ok(s) => s,
            Err(Denied::Unauthorized) => return FunnelReportResult::Unauthorized(body("unauthorized", UNAUTHORIZED)),
            Err(Denied::NotFound(m)) => return FunnelReportResult::NotFound(body("not_found", m)),
        };
        let range = date_range.0.unwrap_or_else(|| "30d".into());
        let range_json = match range.split_once(',') {
            Some((a, b)) => json!([a.trim(), b.trim()]),
            None => json!(range),
        };
        let reports = self.state.reports.clone();
        let result = tokio::task::spawn_blocking(move || {
            let Some(funnel) = reports.goals().funnels(site.id.0)?.into_iter().find(|f| f.id == id.0) else {
                return Ok(None);
            };
            let period = match reports.period(&site, &range_json) {
                Ok(p) => p,
                Err(e) => return Err(e),
            };
            let steps = reports.funnel(&site, &funnel, &period)?;
            Ok(Some((funnel, period, steps)))
        })
        .await;
        match result {
            Ok(Ok(Some((f, period, steps)))) => FunnelReportResult::Ok(Json(FunnelReport {
                id: f.id,
                name: f.name,
                date_range: vec![iso(&period, period.start), iso(&period, period.end - 1)],
                steps: steps
                    .into_iter()
                    .map(|s| FunnelStepReport {
                        label: s.label,
                        visitors: s.visitors,
                        dropoff: s.dropoff,
                        conversion_rate: s.conversion_rate,
                        conversion_rate_step: s.conversion_rate_step,
                    })
                    .collect(),
            })),
            Ok(Ok(None)) => FunnelReportResult::NotFound(body("not_found", "no such funnel")),
            Ok(Err(ReportError::Invalid(e))) => FunnelReportResult::BadRequest(body("invalid_date_range", e.0)),
            Ok(Err(ReportError::Store(e))) => FunnelReportResult::Internal(body("internal", e.to_string())),
            Err(e) => FunnelReportResult::Internal(body("internal", e.to_string())),
        }
    }

    /// Core Web Vitals sent by `hk-vitals.js`: p75 and rating shares per metric.
    #[oai(path = "/sites/:site/web-vitals", method = "get", operation_id = "webVitals")]
    async fn web_vitals(
        &self,
        token: ApiToken,
        site: Path<String>,
        /// `30d`, `month`, ... or `YYYY-MM-DD,YYYY-MM-DD`; default `30d`.
        date_range: QueryParam<Option<String>>,
        /// Only this page (pathname).
        page: QueryParam<Option<String>>,
    ) -> VitalsResult {
        let site = match self.site(&token, &site.0) {
            Ok(s) => s,
            Err(Denied::Unauthorized) => return VitalsResult::Unauthorized(body("unauthorized", UNAUTHORIZED)),
            Err(Denied::NotFound(m)) => return VitalsResult::NotFound(body("not_found", m)),
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
            Ok(Err(ReportError::Store(e))) => VitalsResult::Internal(body("internal", e.to_string())),
            Err(e) => VitalsResult::Internal(body("internal", e.to_string())),
        }
    }

    /// Delete a funnel.
    #[oai(path = "/sites/:site/funnels/:id", method = "delete", operation_id = "deleteFunnel")]
    async fn delete_funnel(&self, token: ApiToken, site: Path<String>, id: Path<u32>) -> FunnelsResult {
        let site = match self.site(&token, &site.0) {
            Ok(s) => s,
            Err(Denied::Unauthorized) => return FunnelsResult::Unauthorized(body("unauthorized", UNAUTHORIZED)),
            Err(Denied::NotFound(m)) => return FunnelsResult::NotFound(body("not_found", m)),
        };
        let goals = self.state.reports.goals().clone();
        match tokio::task::spawn_blocking(move || goals.delete_funnel(site.id.0, id.0)).await {
            Ok(Ok(true)) => FunnelsResult::Deleted,
            Ok(Ok(false)) => FunnelsResult::NotFound(body("not_found", "no such funnel")),
            Ok(Err(e)) => FunnelsResult::Internal(body("internal", e.to_string())),
            Err(e) => FunnelsResult::Internal(body("internal", e.to_string())),
        }
    }

    /// Visitors in the last five minutes; with `Accept: text/event-stream`, a stream of updates
    /// sent whenever new data for the site lands.
    #[oai(path = "/sites/:site/realtime", method = "get", operation_id = "realtime")]
    async fn realtime(&self, token: ApiToken, site: Path<String>, accept: Accept) -> RealtimeResult {
        let site = match self.site(&token, &site.0) {
            Ok(s) => s,
            Err(Denied::Unauthorized) => return RealtimeResult::Unauthorized(body("unauthorized", UNAUTHORIZED)),
            Err(Denied::NotFound(m)) => return RealtimeResult::NotFound(body("not_found", m)),
        };
        let reports = self.state.reports.clone();
        let count = move |reports: Arc<crate::domain::reports::ReportService>, site: Site| async move {
            let domain = site.domain.to_string();
            tokio::task::spawn_blocking(move || reports.current_visitors(&site))
                .await
                .ok()
                .and_then(Result::ok)
                .map(|visitors| RealtimeUpdate { site: domain, visitors })
        };
        if !accept.0.iter().any(|m| m.essence_str() == "text/event-stream") {
            return match count(reports, site).await {
                Some(u) => RealtimeResult::Now(Json(u)),
                None => RealtimeResult::Internal(body("internal", "could not count visitors")),
            };
        }
        let rx = self.state.broadcaster.subscribe();
        let site_id = site.id.0;
        let wakeups = tokio_stream::wrappers::BroadcastStream::new(rx)
            .filter(move |r| std::future::ready(matches!(r, Ok(id) if *id == site_id) || r.is_err()))
            .map(|_| ());
        let ticks = futures_util::stream::once(async {}).chain(throttle(wakeups, Duration::from_secs(1)));
        let stream = ticks.then(move |_| count(reports.clone(), site.clone())).filter_map(std::future::ready).boxed();
        RealtimeResult::Stream(EventStream::new(stream).keep_alive(Duration::from_secs(15)))
    }
}

/// Passes at most one item per `every`, the first at once, the last of a burst after the pause.
fn throttle(
    s: impl futures_util::Stream<Item = ()> + Send + 'static,
    every: Duration,
) -> impl futures_util::Stream<Item = ()> + Send + 'static {
    async_stream(s, every)
}

fn async_stream(
    s: impl futures_util::Stream<Item = ()> + Send + 'static,
    every: Duration,
) -> impl futures_util::Stream<Item = ()> + Send + 'static {
    let s = Box::pin(s);
    futures_util::stream::unfold((s, None::<tokio::time::Instant>), move |(mut s, last)| async move {
        s.next().await?;
        if let Some(last) = last {
            tokio::time::sleep_until(last + every).await;
        }
        // Coalesce whatever queued up meanwhile.
        while let Some(Some(())) = futures_util::FutureExt::now_or_never(s.next()) {}
        Some(((), (s, Some(tokio::time::Instant::now()))))
    })
}

//! The Stats API v2 bodies: the request as poem-openapi reads it (turned into the domain's
//! [`QueryInput`] without a JSON round trip) and the answer, serialised from the domain's typed
//! rows once, here (JSON or CSV).

use poem_openapi::Object;
use serde_json::{Value, json};

use crate::domain::query::{Cell, IncludeInput, PageInput, QueryInput};
use crate::domain::reports::{Answer, AnswerRow, iso};
use crate::ports::reports::VitalSummary;

/// Which extra information to return.
#[derive(Object, Default)]
#[oai(skip_serializing_if_is_none)]
pub struct QueryInclude {
    /// All time buckets of the period (with a time dimension).
    pub time_labels: Option<bool>,
    /// The number of rows before pagination.
    pub total_rows: Option<bool>,
    /// Add imported history (Plausible, Umami, GoatCounter imports) on days without native data.
    pub imports: Option<bool>,
    /// Comparison period, as `compare`.
    pub compare: Option<Value>,
}

/// Page through the results.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Pagination {
    /// Rows per page (1-10000).
    pub limit: Option<u64>,
    /// Rows to skip.
    pub offset: Option<u64>,
}

/// A Stats API v2 query.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct QueryRequest {
    /// The site's domain.
    pub site_id: String,
    /// `"day"`, `"24h"`, `"7d"`, `"28d"`, `"30d"`, `"91d"`, `"month"`, `"6mo"`, `"12mo"`, `"year"`, `"all"`,
    /// `["YYYY-MM-DD", "YYYY-MM-DD"]` or two ISO 8601 date-times, in the site's time zone.
    pub date_range: Value,
    /// visitors, visits, pageviews, views_per_visit, bounce_rate, visit_duration, events, percentage,
    /// conversion_rate, group_conversion_rate, time_on_page, scroll_depth, total_revenue, average_revenue.
    pub metrics: Vec<String>,
    /// event:page, event:hostname, event:name, event:goal, event:props:KEY, visit:* and time, time:hour|day|week|month.
    pub dimensions: Option<Vec<String>>,
    /// `[op, dimension, [values], {"case_sensitive": false}?]`, `["and"|"or", [...]]`, `["not"|"has_done"|"has_not_done", f]`.
    pub filters: Option<Vec<Value>>,
    /// `[[metric_or_dimension, "asc"|"desc"], ...]`.
    pub order_by: Option<Vec<Vec<String>>>,
    pub include: Option<QueryInclude>,
    pub pagination: Option<Pagination>,
    /// `"previous_period"`, `"year_over_year"` or `["YYYY-MM-DD", "YYYY-MM-DD"]`: comparison values in the same response.
    pub compare: Option<Value>,
    /// The day that counts as today (YYYY-MM-DD); default: today in the site's time zone.
    pub date: Option<String>,
}

impl QueryRequest {
    /// The request as the report service takes it.
    pub fn to_input(&self) -> QueryInput {
        let include = self.include.as_ref();
        let flag = |f: fn(&QueryInclude) -> Option<bool>| include.and_then(f).unwrap_or(false);
        let page = self.pagination.as_ref();
        QueryInput {
            site_id: self.site_id.clone(),
            date_range: Some(self.date_range.clone()),
            metrics: Some(self.metrics.clone()),
            dimensions: self.dimensions.clone().unwrap_or_default(),
            filters: self.filters.clone().unwrap_or_default(),
            order_by: self.order_by.clone().unwrap_or_default(),
            include: IncludeInput {
                time_labels: flag(|i| i.time_labels),
                total_rows: flag(|i| i.total_rows),
                imports: flag(|i| i.imports),
                compare: include.and_then(|i| i.compare.clone()),
            },
            pagination: PageInput { limit: page.and_then(|p| p.limit), offset: page.and_then(|p| p.offset) },
            compare: self.compare.clone(),
            date: self.date.clone(),
        }
    }
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
#[oai(skip_serializing_if_is_none)]
pub struct QueryMeta {
    pub time_labels: Option<Vec<String>>,
    pub total_rows: Option<u64>,
    /// The comparison period, when `compare` was asked.
    pub comparison_date_range: Option<Vec<String>>,
    /// Per metric: `{"code", "warning"}` when a value is not exact.
    pub metric_warnings: Option<Value>,
    /// With `include.imports`: whether imported history is part of the numbers.
    pub imports_included: Option<bool>,
    /// Why imported history was left out (an unsupported metric, dimension or filter).
    pub imports_warning: Option<String>,
    /// Plausible's code for why imports were skipped: `unsupported_query` or `unsupported_interval`.
    pub imports_skip_reason: Option<String>,
}

/// A query's answer.
#[derive(Object)]
pub struct QueryResponse {
    pub results: Vec<QueryRow>,
    pub meta: QueryMeta,
    /// The query as understood, with the date range resolved.
    pub query: Value,
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

impl From<VitalSummary> for VitalView {
    fn from(v: VitalSummary) -> Self {
        VitalView {
            metric: v.metric,
            samples: v.samples,
            p75: v.p75,
            good: v.good,
            needs_improvement: v.needs_improvement,
            poor: v.poor,
        }
    }
}

/// Realtime visitor count.
#[derive(Object, Clone)]
pub struct RealtimeUpdate {
    pub site: String,
    /// Distinct visitors in the last five minutes.
    pub visitors: u64,
}

fn json_cells(cells: &[Cell]) -> Vec<Value> {
    cells.iter().map(Cell::to_json).collect()
}

fn query_row(r: &AnswerRow) -> QueryRow {
    QueryRow {
        dimensions: json_cells(&r.dimensions),
        metrics: json_cells(&r.metrics),
        comparison: r.comparison.as_ref().map(|c| ComparisonRow {
            dimensions: json_cells(&c.dimensions),
            metrics: json_cells(&c.metrics),
            change: json_cells(&c.change),
        }),
    }
}

/// The request as Plausible echoes it: the date range resolved (to the second, in the site's
/// offset), and `filters`, `dimensions`, `order_by` (the effective order), `include` and
/// `pagination` always present.
fn echo_query(a: &Answer, mut echo: Value) -> Value {
    let q = &a.query;
    echo["date_range"] = json!([iso(&q.period, q.period.start), iso(&q.period, q.period.end - 1)]);
    let Some(obj) = echo.as_object_mut() else { return echo };
    obj.entry("filters").or_insert_with(|| json!([]));
    obj.entry("dimensions").or_insert_with(|| json!([]));
    obj.entry("include").or_insert_with(|| json!({}));
    obj.insert("order_by".into(), json!(effective_order(&a.query)));
    obj.insert("pagination".into(), json!({"offset": q.offset, "limit": q.limit}));
    echo
}

/// The order the rows come in: the explicit one, else time ascending, then the first metric
/// descending (as Plausible reports it).
fn effective_order(q: &crate::domain::query::Query) -> Vec<[String; 2]> {
    use crate::domain::query::{Dimension, Direction, OrderKey};
    let key = |k: &OrderKey| match k {
        OrderKey::Metric(m) => m.as_str().to_string(),
        OrderKey::Dimension(d) => d.name(),
    };
    let dir = |d: &Direction| if *d == Direction::Asc { "asc" } else { "desc" }.to_string();
    if !q.order_by.is_empty() {
        return q.order_by.iter().map(|(k, d)| [key(k), dir(d)]).collect();
    }
    let mut order: Vec<[String; 2]> =
        q.dimensions.iter().filter(|d| matches!(d, Dimension::Time(_))).map(|d| [d.name(), "asc".into()]).collect();
    if let Some(m) = q.metrics.first() {
        order.push([m.as_str().to_string(), "desc".into()]);
    }
    order
}

/// Per metric, why its values are not exact or missing: HyperLogLog estimates, and revenue left
/// out because its events mixed currencies (Plausible's `no_single_revenue_currency`).
fn metric_warnings(a: &Answer) -> Option<Value> {
    let approximate =
        json!({"code": "approximate", "warning": "Counted with HyperLogLog over a large period (about 1-2 % error)."});
    let currencies = json!({"code": "no_single_revenue_currency",
        "warning": "Revenue metrics are null as there are multiple currencies for the selected events."});
    let warnings: serde_json::Map<String, Value> = a
        .query
        .metrics
        .iter()
        .filter_map(|m| {
            let w = match m.as_str() {
                "visitors" | "percentage" | "conversion_rate" | "group_conversion_rate" if a.approximate => {
                    &approximate
                }
                _ if m.is_revenue() && a.mixed_currencies => &currencies,
                _ => return None,
            };
            Some((m.as_str().to_string(), w.clone()))
        })
        .collect();
    (!warnings.is_empty()).then_some(Value::Object(warnings))
}

/// The JSON answer; `echo` is the request as sent (see [`echo_query`]).
pub fn answer_json(a: Answer, echo: Value) -> QueryResponse {
    let echo = echo_query(&a, echo);
    let comparison_date_range = a.query.compare.as_ref().map(|p| vec![iso(p, p.start), iso(p, p.end - 1)]);
    QueryResponse {
        results: a.rows.iter().map(query_row).collect(),
        meta: QueryMeta {
            metric_warnings: metric_warnings(&a),
            time_labels: a.time_labels,
            total_rows: a.total_rows,
            comparison_date_range,
            imports_included: a.imports_included,
            imports_warning: a.imports_warning,
            imports_skip_reason: a.imports_skip_reason,
        },
        query: echo,
    }
}

fn csv_cell(v: &Cell) -> String {
    let s = match v {
        Cell::Null => String::new(),
        // Text is what a visitor controls (paths, sources, event names); numbers stay numbers.
        Cell::Text(s) => crate::domain::spreadsheet::spreadsheet_safe(s).into_owned(),
        // Revenue: the amount (its currency is the column's, or mixed and then null).
        Cell::Money { amount, .. } => amount.to_string(),
        other => other.to_json().to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// The CSV answer: a header of dimension and metric names, one line per row.
pub fn answer_csv(a: &Answer) -> String {
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

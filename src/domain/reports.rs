//! Report rules: the answer's shape, how a comparison period lines up with the answer, the
//! change per metric, a funnel's step numbers. `services::reports` runs them against the ports.

use std::collections::HashMap;

use chrono::DateTime;
use serde_json::{Value, json};

use super::query::{Cell, Dimension, GoalKind, Metric, Period, Query, QueryError, ResultRow, TimeGrain};
use crate::ports::reports::Funnel;
use crate::ports::store::StoreError;

/// Why a report failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Invalid(#[from] QueryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The comparison period's values for one row.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    pub dimensions: Vec<Cell>,
    pub metrics: Vec<Cell>,
    /// Percent change per metric (bounce rate: difference in points); null when undefined.
    pub change: Vec<Cell>,
}

/// One row of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRow {
    pub dimensions: Vec<Cell>,
    pub metrics: Vec<Cell>,
    pub comparison: Option<ComparisonRow>,
}

/// A query's full answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub query: Query,
    /// Visitor counts are estimates.
    pub approximate: bool,
    pub rows: Vec<AnswerRow>,
    pub time_labels: Option<Vec<String>>,
    pub total_rows: Option<u64>,
    /// With `include.imports`: whether imported history was added.
    pub imports_included: Option<bool>,
    /// Why imported history was left out of this answer.
    pub imports_warning: Option<String>,
    /// Plausible's code for that reason (`meta.imports_skip_reason`).
    pub imports_skip_reason: Option<String>,
    /// Some revenue value is null because its events had several currencies.
    pub mixed_currencies: bool,
}

/// One funnel step's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelStep {
    pub label: String,
    pub visitors: u64,
    /// Visitors lost since the previous step.
    pub dropoff: u64,
    /// Percent of the first step's visitors.
    pub conversion_rate: f64,
    /// Percent of the previous step's visitors.
    pub conversion_rate_step: f64,
}

/// Formats a UTC instant in the period's zone (ISO 8601 with offset, whole seconds: a period's
/// last instant shows as `23:59:59`, as Plausible echoes it).
pub fn iso(period: &Period, micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .with_timezone(&period.tz)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Plausible's `imports_skip_reason` for a query imports cannot answer: a time grain finer than a
/// day is `unsupported_interval`, anything else `unsupported_query`.
pub fn imports_skip_reason(q: &Query) -> &'static str {
    let fine =
        q.time_dimension().is_some_and(|g| !matches!(q.period.resolve_grain(g), TimeGrain::Day | TimeGrain::Month));
    if fine && q.filters.is_empty() { "unsupported_interval" } else { "unsupported_query" }
}

fn change(metric: Metric, current: &Cell, previous: &Cell) -> Cell {
    let (Some(c), Some(p)) = (current.as_f64(), previous.as_f64()) else { return Cell::Null };
    match metric {
        Metric::BounceRate | Metric::ConversionRate | Metric::Percentage => {
            Cell::Float(((c - p) * 10.0).round() / 10.0)
        }
        _ if p == 0.0 => Cell::Int(if c == 0.0 { 0 } else { 100 }),
        _ => Cell::Int(((c - p) / p * 100.0).round() as i64),
    }
}

/// A site's time zone (UTC when the stored name is unknown).
pub use super::lifecycle::site_tz;

/// A `date_range` query parameter (`30d`, `month`, `YYYY-MM-DD,YYYY-MM-DD`; default `30d`) in
/// the form a query body gives it.
pub fn date_range_param(range: Option<&str>) -> Value {
    let range = range.unwrap_or("30d");
    match range.split_once(',') {
        Some((a, b)) => json!([a.trim(), b.trim()]),
        None => json!(range),
    }
}

/// The query to run over the comparison period: the same groups, unpaged.
pub fn comparison_query(query: &Query) -> Query {
    let mut cmp_query = query.clone();
    cmp_query.offset = 0;
    cmp_query.limit = super::query::parse::MAX_LIMIT;
    cmp_query
}

/// Lines up the comparison period's rows with the answer's rows and attaches them, with the
/// change per metric. Time buckets are matched by position: the 3rd day of this period with the
/// 3rd of the other; a group missing from the other period counts zero.
pub fn attach_comparison(query: &Query, cmp_period: &Period, previous: &[ResultRow], rows: &mut [AnswerRow]) {
    let time_idx = query.dimensions.iter().position(|d| matches!(d, Dimension::Time(_)));
    let (cur_labels, prev_labels) = match query.time_dimension() {
        Some(g) => (query.period.labels(g), cmp_period.labels(g)),
        None => (Vec::new(), Vec::new()),
    };
    let position = |d: &Cell, labels: &[String]| d.as_str().and_then(|s| labels.iter().position(|l| l == s));
    let key = |dims: &[Cell], labels: &[String]| -> String {
        dims.iter()
            .enumerate()
            .map(|(i, d)| match Some(i) == time_idx {
                true => format!("#{}", position(d, labels).map_or(-1, |p| p as i64)),
                false => d.key(),
            })
            .collect::<Vec<_>>()
            .join("\u{1f}")
    };
    let by_key: HashMap<String, &ResultRow> = previous.iter().map(|r| (key(&r.dimensions, &prev_labels), r)).collect();
    for row in rows.iter_mut() {
        let (dims, metrics) = match by_key.get(&key(&row.dimensions, &cur_labels)) {
            Some(p) => (p.dimensions.clone(), p.metrics.clone()),
            None => {
                let dims = row
                    .dimensions
                    .iter()
                    .enumerate()
                    .map(|(i, d)| match Some(i) == time_idx {
                        true => position(d, &cur_labels)
                            .and_then(|p| prev_labels.get(p))
                            .map_or(Cell::Null, |l| Cell::Text(l.clone())),
                        false => d.clone(),
                    })
                    .collect();
                (dims, query.metrics.iter().map(|_| Cell::Int(0)).collect())
            }
        };
        let change = query
            .metrics
            .iter()
            .zip(row.metrics.iter().zip(metrics.iter()))
            .map(|(m, (c, p))| change(*m, c, p))
            .collect();
        row.comparison = Some(ComparisonRow { dimensions: dims, metrics, change });
    }
}

/// A funnel's numbers from the visitors reaching each step.
pub fn funnel_steps(funnel: &Funnel, counts: &[u64]) -> Vec<FunnelStep> {
    let first = counts.first().copied().unwrap_or(0);
    let pct = |a: u64, b: u64| if b == 0 { 0.0 } else { (a as f64 / b as f64 * 1000.0).round() / 10.0 };
    funnel
        .steps
        .iter()
        .zip(counts.iter())
        .enumerate()
        .map(|(i, (step, &visitors))| {
            let prev = if i == 0 { visitors } else { counts[i - 1] };
            FunnelStep {
                label: match step {
                    GoalKind::Page(p) => format!("Visit {p}"),
                    GoalKind::Event(e) => e.clone(),
                },
                visitors,
                dropoff: prev.saturating_sub(visitors),
                conversion_rate: pct(visitors, first),
                conversion_rate_step: pct(visitors, prev),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(m: Metric, c: Cell, p: Cell) -> Value {
        change(m, &c, &p).to_json()
    }

    #[test]
    fn changes() {
        assert_eq!(ch(Metric::Visitors, Cell::Int(150), Cell::Int(100)), json!(50));
        assert_eq!(ch(Metric::Visitors, Cell::Int(5), Cell::Int(0)), json!(100));
        assert_eq!(ch(Metric::Visitors, Cell::Int(0), Cell::Int(0)), json!(0));
        assert_eq!(ch(Metric::BounceRate, Cell::Int(40), Cell::Int(55)), json!(-15.0));
    }
}

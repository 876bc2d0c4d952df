//! The report service: parses a query, runs it (and its comparison), lines the two up.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::DateTime;
use serde_json::{Value, json};

use super::imports::merge::{self, ImportGrouping};
use super::query::limits::MAX_MERGE_GROUPS;
use super::query::{Dimension, Goal, GoalKind, Metric, Period, Query, QueryError, QueryResult, parse_query};
use super::site::Site;
use crate::ports::clock::Clock;
use crate::ports::lifecycle::ImportStore;
use crate::ports::reports::{Funnel, GoalRepository, ReportStore, VitalSummary};
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
    pub dimensions: Vec<Value>,
    pub metrics: Vec<Value>,
    /// Percent change per metric (bounce rate: difference in points); null when undefined.
    pub change: Vec<Value>,
}

/// One row of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRow {
    pub dimensions: Vec<Value>,
    pub metrics: Vec<Value>,
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

/// Formats a UTC instant in the period's zone (ISO 8601 with offset).
pub fn iso(period: &Period, micros: i64) -> String {
    DateTime::from_timestamp_micros(micros).unwrap_or_default().with_timezone(&period.tz).to_rfc3339()
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn change(metric: Metric, current: &Value, previous: &Value) -> Value {
    let (Some(c), Some(p)) = (number(current), number(previous)) else { return Value::Null };
    match metric {
        Metric::BounceRate | Metric::ConversionRate | Metric::Percentage => json!(((c - p) * 10.0).round() / 10.0),
        _ if p == 0.0 => {
            if c == 0.0 {
                json!(0)
            } else {
                json!(100)
            }
        }
        _ => json!(((c - p) / p * 100.0).round() as i64),
    }
}

/// Runs reports for sites.
pub struct ReportService {
    store: Arc<dyn ReportStore>,
    goals: Arc<dyn GoalRepository>,
    imports: Arc<dyn ImportStore>,
    clock: Arc<dyn Clock>,
}

impl ReportService {
    pub fn new(
        store: Arc<dyn ReportStore>,
        goals: Arc<dyn GoalRepository>,
        imports: Arc<dyn ImportStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { store, goals, imports, clock }
    }

    /// Runs `q` over `period`, adding imported history when `imports` says how.
    fn run(
        &self,
        site: &Site,
        q: &Query,
        period: &Period,
        goals: &[Goal],
        imports: Option<ImportGrouping>,
    ) -> Result<QueryResult, ReportError> {
        let Some(grouping) = imports else { return Ok(self.store.query(site.id.0, q, period, goals)?) };
        // Additive totals on both sides; ratios are computed after summing.
        let mut raw = q.clone();
        raw.metrics =
            vec![Metric::Visitors, Metric::Pageviews, Metric::Visits, Metric::BounceRate, Metric::VisitDuration];
        raw.order_by.clear();
        raw.offset = 0;
        raw.limit = MAX_MERGE_GROUPS + 1;
        let (native, approximate) = self.store.query_totals(site.id.0, &raw, period, goals)?;
        if native.len() > MAX_MERGE_GROUPS {
            return Err(ReportError::Invalid(QueryError(format!(
                "Too many groups to add imported history to: more than {MAX_MERGE_GROUPS} (limit: \
                 max_merge_groups). Narrow the date_range or filters, or leave out include.imports."
            ))));
        }
        let imported = self.imports.imported_totals(site.id.0, grouping, period)?;
        let (rows, total) = merge::merge(q, native, imported);
        Ok(QueryResult {
            rows,
            approximate,
            total_rows: q.total_rows.then_some(total),
            time_labels: if q.time_labels { q.time_dimension().map(|g| period.labels(g)) } else { None },
        })
    }

    pub fn goals(&self) -> &Arc<dyn GoalRepository> {
        &self.goals
    }

    fn tz(site: &Site) -> chrono_tz::Tz {
        site.timezone.as_str().parse().unwrap_or(chrono_tz::UTC)
    }

    fn first_date(&self, site: &Site) -> Result<Option<chrono::NaiveDate>, StoreError> {
        let tz = Self::tz(site);
        Ok(self
            .store
            .first_event_micros(site.id.0)?
            .and_then(DateTime::from_timestamp_micros)
            .map(|t| t.with_timezone(&tz).date_naive()))
    }

    /// Parses a period the way `date_range` is parsed (for funnels and the like).
    pub fn period(&self, site: &Site, date_range: &Value) -> Result<Period, ReportError> {
        let first = self.first_date(site)?;
        super::query::period::resolve_date_range(date_range, Self::tz(site), self.clock.now_micros(), first)
            .map_err(|e| ReportError::Invalid(QueryError(e)))
    }

    /// Answers a Stats API v2 query body for `site`.
    pub fn query(&self, site: &Site, body: &Value) -> Result<Answer, ReportError> {
        let first = self.first_date(site)?;
        let query = parse_query(body, Self::tz(site), self.clock.now_micros(), first)?;
        let goals = self.goals.goals(site.id.0)?;
        let (imports, imports_warning) = match query.imports.then(|| merge::grouping(&query)) {
            None => (None, None),
            Some(Ok(g)) => (Some(g), None),
            Some(Err(warning)) => (None, Some(warning)),
        };
        let current = self.run(site, &query, &query.period, &goals, imports)?;
        let mut rows: Vec<AnswerRow> = current
            .rows
            .into_iter()
            .map(|r| AnswerRow { dimensions: r.dimensions, metrics: r.metrics, comparison: None })
            .collect();
        if let Some(cmp_period) = &query.compare {
            self.attach_comparison(site, &query, cmp_period, &goals, imports, &mut rows)?;
        }
        Ok(Answer {
            imports_included: query.imports.then_some(imports.is_some()),
            imports_warning,
            rows,
            approximate: current.approximate,
            time_labels: current.time_labels,
            total_rows: current.total_rows,
            query,
        })
    }

    fn attach_comparison(
        &self,
        site: &Site,
        query: &Query,
        cmp_period: &Period,
        goals: &[Goal],
        imports: Option<ImportGrouping>,
        rows: &mut [AnswerRow],
    ) -> Result<(), ReportError> {
        // Compare the same groups: no pagination on the comparison side.
        let mut cmp_query = query.clone();
        cmp_query.offset = 0;
        cmp_query.limit = super::query::parse::MAX_LIMIT;
        let previous = self.run(site, &cmp_query, cmp_period, goals, imports)?;
        let time_idx = query.dimensions.iter().position(|d| matches!(d, Dimension::Time(_)));
        // Time buckets are matched by position: the 3rd day of this period with the 3rd of the other.
        let (cur_labels, prev_labels) = match query.time_dimension() {
            Some(g) => (query.period.labels(g), cmp_period.labels(g)),
            None => (Vec::new(), Vec::new()),
        };
        let key = |dims: &[Value], labels: &[String]| -> String {
            dims.iter()
                .enumerate()
                .map(|(i, d)| {
                    if Some(i) == time_idx {
                        let pos = d.as_str().and_then(|s| labels.iter().position(|l| l == s));
                        format!("#{}", pos.map_or(-1, |p| p as i64))
                    } else {
                        d.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\u{1f}")
        };
        let by_key: HashMap<String, &super::query::ResultRow> =
            previous.rows.iter().map(|r| (key(&r.dimensions, &prev_labels), r)).collect();
        for row in rows.iter_mut() {
            let k = key(&row.dimensions, &cur_labels);
            let (dims, metrics) = match by_key.get(&k) {
                Some(p) => (p.dimensions.clone(), p.metrics.clone()),
                None => {
                    let dims = row
                        .dimensions
                        .iter()
                        .enumerate()
                        .map(|(i, d)| {
                            if Some(i) == time_idx {
                                let pos = d.as_str().and_then(|s| cur_labels.iter().position(|l| l == s));
                                pos.and_then(|p| prev_labels.get(p)).map_or(Value::Null, |l| json!(l))
                            } else {
                                d.clone()
                            }
                        })
                        .collect();
                    (dims, query.metrics.iter().map(|_| json!(0)).collect())
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
        Ok(())
    }

    /// Web Vitals of the site over `period`, optionally of one page.
    pub fn web_vitals(
        &self,
        site: &Site,
        period: &Period,
        page: Option<&str>,
    ) -> Result<Vec<VitalSummary>, StoreError> {
        self.store.web_vitals(site.id.0, period, page)
    }

    /// Visitors on the site in the last five minutes.
    pub fn current_visitors(&self, site: &Site) -> Result<u64, StoreError> {
        self.store.current_visitors(site.id.0, self.clock.now_micros() - 5 * 60 * 1_000_000)
    }

    /// A funnel's numbers over `period`.
    pub fn funnel(&self, site: &Site, funnel: &Funnel, period: &Period) -> Result<Vec<FunnelStep>, StoreError> {
        let counts = self.store.funnel(site.id.0, period, &funnel.steps)?;
        let first = counts.first().copied().unwrap_or(0);
        let pct = |a: u64, b: u64| if b == 0 { 0.0 } else { (a as f64 / b as f64 * 1000.0).round() / 10.0 };
        Ok(funnel
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
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes() {
        assert_eq!(change(Metric::Visitors, &json!(150), &json!(100)), json!(50));
        assert_eq!(change(Metric::Visitors, &json!(5), &json!(0)), json!(100));
        assert_eq!(change(Metric::Visitors, &json!(0), &json!(0)), json!(0));
        assert_eq!(change(Metric::BounceRate, &json!(40), &json!(55)), json!(-15.0));
    }
}

//! The report use case: validates a query for a site, runs it (and its comparison, with imported
//! history when asked) on the query engine, and hands back a typed answer. It owns the hop off
//! the async runtime: report queries block on DuckDB for up to `--query-timeout-ms`.

use std::sync::Arc;

use chrono::DateTime;
use serde_json::Value;

use super::blocking;
use crate::domain::imports::merge::{self, ImportGrouping};
use crate::domain::query::limits::MAX_MERGE_GROUPS;
use crate::domain::query::period::resolve_date_range;
use crate::domain::query::{Goal, Metric, Period, Query, QueryError, QueryInput, QueryResult, parse_input};
pub use crate::domain::reports::ReportError;
use crate::domain::reports::{
    Answer, AnswerRow, FunnelStep, attach_comparison, comparison_query, date_range_param, funnel_steps,
    imports_skip_reason, site_tz,
};
use crate::domain::revenue_rates::{RevenueRates, conversion};
use crate::domain::site::Site;
use crate::ports::clock::Clock;
use crate::ports::lifecycle::ImportStore;
use crate::ports::reports::{Funnel, GoalRepository, ReportStore, VitalSummary};
use crate::ports::store::StoreError;

/// A funnel's numbers over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelReport {
    pub funnel: Funnel,
    pub period: Period,
    pub steps: Vec<FunnelStep>,
}

/// Runs reports for sites.
pub struct ReportService {
    engine: Arc<dyn ReportStore>,
    goals: Arc<dyn GoalRepository>,
    imports: Arc<dyn ImportStore>,
    clock: Arc<dyn Clock>,
    /// Exchange rates to revenue goals' currencies (`--revenue-rates`).
    rates: RevenueRates,
}

impl ReportService {
    pub fn new(
        engine: Arc<dyn ReportStore>,
        goals: Arc<dyn GoalRepository>,
        imports: Arc<dyn ImportStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { engine, goals, imports, clock, rates: RevenueRates::default() }
    }

    /// Converts revenue to revenue goals' currencies at these rates.
    pub fn with_revenue_rates(mut self, rates: RevenueRates) -> Self {
        self.rates = rates;
        self
    }

    /// Answers a Stats API v2 query for `site`.
    pub async fn query(self: &Arc<Self>, site: Site, input: QueryInput) -> Result<Answer, ReportError> {
        let this = self.clone();
        blocking(move || this.query_blocking(&site, &input)).await
    }

    /// Web Vitals of the site over `date_range` (a query parameter, default `30d`), optionally
    /// of one page.
    pub async fn web_vitals(
        self: &Arc<Self>,
        site: Site,
        date_range: Option<String>,
        page: Option<String>,
    ) -> Result<Vec<VitalSummary>, ReportError> {
        let this = self.clone();
        blocking(move || {
            let period = this.period(&site, &date_range_param(date_range.as_deref()))?;
            Ok(this.engine.web_vitals(site.id.0, &period, page.as_deref())?)
        })
        .await
    }

    /// A saved funnel's numbers over `date_range` (a query parameter, default `30d`); `None`
    /// when the site has no such funnel.
    pub async fn funnel(
        self: &Arc<Self>,
        site: Site,
        funnel_id: u32,
        date_range: Option<String>,
    ) -> Result<Option<FunnelReport>, ReportError> {
        let this = self.clone();
        blocking(move || {
            let Some(funnel) = this.goals.funnels(site.id.0)?.into_iter().find(|f| f.id == funnel_id) else {
                return Ok(None);
            };
            let period = this.period(&site, &date_range_param(date_range.as_deref()))?;
            let counts = this.engine.funnel(site.id.0, &period, &funnel.steps)?;
            let steps = funnel_steps(&funnel, &counts);
            Ok(Some(FunnelReport { funnel, period, steps }))
        })
        .await
    }

    /// Visitors on the site in the last five minutes.
    pub async fn current_visitors(self: &Arc<Self>, site: Site) -> Result<u64, ReportError> {
        let this = self.clone();
        blocking(move || {
            let since = this.clock.now_micros() - 5 * 60 * 1_000_000;
            Ok(this.engine.current_visitors(site.id.0, since)?)
        })
        .await
    }

    /// [`ReportService::query`] for callers already off the async runtime (scheduled jobs, the CLI).
    pub fn query_blocking(&self, site: &Site, input: &QueryInput) -> Result<Answer, ReportError> {
        let first = self.first_date(site)?;
        let mut query = parse_input(input, site_tz(site), self.clock.now_micros(), first)?;
        let goals = self.goals.goals(site.id.0)?;
        query.revenue = conversion(&goals, &query, &self.rates);
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
            let previous = self.run(site, &comparison_query(&query), cmp_period, &goals, imports)?;
            attach_comparison(&query, cmp_period, &previous.rows, &mut rows);
        }
        Ok(Answer {
            imports_included: query.imports.then_some(imports.is_some()),
            mixed_currencies: current.mixed_currencies,
            imports_skip_reason: imports_warning.as_ref().map(|_| imports_skip_reason(&query).to_string()),
            imports_warning,
            rows,
            approximate: current.approximate,
            time_labels: current.time_labels,
            total_rows: current.total_rows,
            query,
        })
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
        let Some(grouping) = imports else { return Ok(self.engine.query(site.id.0, q, period, goals)?) };
        // Additive totals on both sides; ratios are computed after summing.
        let mut raw = q.clone();
        raw.metrics =
            vec![Metric::Visitors, Metric::Pageviews, Metric::Visits, Metric::BounceRate, Metric::VisitDuration];
        raw.order_by.clear();
        raw.offset = 0;
        raw.limit = MAX_MERGE_GROUPS + 1;
        let (native, approximate) = self.engine.query_totals(site.id.0, &raw, period, goals)?;
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
            mixed_currencies: false,
        })
    }

    /// The site's first day with data, in its time zone (for `"all"`).
    fn first_date(&self, site: &Site) -> Result<Option<chrono::NaiveDate>, StoreError> {
        let tz = site_tz(site);
        Ok(self
            .engine
            .first_event_micros(site.id.0)?
            .and_then(DateTime::from_timestamp_micros)
            .map(|t| t.with_timezone(&tz).date_naive()))
    }

    /// Resolves a `date_range` (a query body's form) for `site`, as queries resolve it.
    pub fn resolve_period(&self, site: &Site, date_range: &Value) -> Result<Period, ReportError> {
        self.period(site, date_range)
    }

    /// Resolves a period the way `date_range` is resolved in queries.
    fn period(&self, site: &Site, date_range: &Value) -> Result<Period, ReportError> {
        let first = self.first_date(site)?;
        resolve_date_range(date_range, site_tz(site), self.clock.now_micros(), first)
            .map_err(|e| ReportError::Invalid(QueryError(e)))
    }
}

#[cfg(test)]
#[path = "reports_tests.rs"]
pub(crate) mod tests;

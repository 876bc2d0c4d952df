//! The report engine: one SQL statement per query over the raw events table (built in
//! `report_sql`), run on a small pool of connections under the query deadline; rows come back
//! as the domain's typed cells.

use std::sync::Mutex;
use std::time::Duration;

use duckdb::Connection;
use duckdb::types::Value;

use super::day_dims::{period_groups, rolled_dim};
use super::day_reads::{period_days, period_totals};
use super::day_totals::Rolled;
use super::internal;
use super::report_sql::{
    PeriodFacts, build_sql, build_totals_sql, reads_day_rows, reads_day_totals, reads_folded_visits,
    tests_matched_visits,
};
use super::sql::{Sql, bucket_label, ts_param};
use super::watchdog::Watchdog;
use crate::domain::imports::Totals;
use crate::domain::imports::merge::TotalsRow;
use crate::domain::query::{Cell, Dimension, Goal, GoalKind, Metric, Period, Query, QueryResult, ResultRow, VisitDim};
use crate::ports::reports::{ReportStore, VitalSummary};
use crate::ports::store::StoreError;

/// Report queries on their own connections (a small pool; DuckDB runs them in parallel).
pub struct DuckReports {
    pool: Mutex<Vec<Connection>>,
    origin: Mutex<Connection>,
    settings: EngineSettings,
    /// Longest one report may run before it is interrupted (`--query-timeout-ms`); `None`: no limit.
    timeout: Option<Duration>,
}

/// Default for `exact_limit`.
pub const EXACT_VISITORS_LIMIT: u64 = 1_000_000;

/// How the engine may answer: each choice gives the same answers (the property test compares
/// them), only the cost differs.
#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// Above this many events in a period, visitors are counted with HyperLogLog (~1-2 % error).
    pub exact_limit: u64,
    /// Visits with a matching event are found through a bitmap over the period's visit ids
    /// instead of a hash semi-join (see `PeriodFacts::visit_ids`).
    pub visit_bitmaps: bool,
    /// Visits folded into `visit_ends` are read from there (see `PeriodFacts::folded`).
    pub folded_visits: bool,
    /// The KPIs of long periods are added up from `day_totals` (see `PeriodFacts::rolled`).
    pub day_totals: bool,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings { exact_limit: EXACT_VISITORS_LIMIT, visit_bitmaps: true, folded_visits: true, day_totals: true }
    }
}

/// Widest range of visit ids a bitmap covers (8 MiB of bits); wider periods semi-join.
const MAX_BITMAP_VISITS: u64 = 1 << 26;

impl DuckReports {
    pub fn new(conn: Connection, exact_limit: u64) -> Self {
        let settings = EngineSettings { exact_limit, ..EngineSettings::default() };
        Self { pool: Mutex::new(Vec::new()), origin: Mutex::new(conn), settings, timeout: None }
    }

    /// `false`: matching visits are always found with a hash semi-join (the reference path of
    /// the property test).
    pub fn with_visit_bitmaps(mut self, on: bool) -> Self {
        self.settings.visit_bitmaps = on;
        self
    }

    /// `false`: visits are always grouped from their events, never read from `visit_ends` (the
    /// reference path of the property test).
    pub fn with_folded_visits(mut self, on: bool) -> Self {
        self.settings.folded_visits = on;
        self
    }

    /// `false`: KPIs are always counted on the period's events, never added up from
    /// `day_totals` (the reference path of the property test).
    pub fn with_day_totals(mut self, on: bool) -> Self {
        self.settings.day_totals = on;
        self
    }

    /// Interrupts any report (query, totals, funnel, Web Vitals, realtime count) that runs
    /// longer than `timeout`; it fails with [`StoreError::TimedOut`].
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout.filter(|t| !t.is_zero());
        self
    }

    fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let conn = match self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            Some(c) => c,
            None => self.origin.lock().unwrap_or_else(|p| p.into_inner()).try_clone().map_err(internal)?,
        };
        let deadline = self.timeout.and_then(|t| Watchdog::arm(conn.interrupt_handle(), t));
        let result = f(&conn);
        if deadline.is_some_and(Watchdog::disarm) {
            // An interrupt may still be pending on this connection: close it rather than pool it.
            drop(conn);
            let after_ms = self.timeout.map_or(0, |t| t.as_millis() as u64);
            return result.map_err(|_| StoreError::TimedOut { after_ms });
        }
        self.pool.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        result
    }

    /// Reads the period's facts and runs `f` with them, in one snapshot (see `in_snapshot`).
    fn in_period<T>(
        &self,
        site_id: u32,
        q: &Query,
        period: &Period,
        f: impl FnOnce(&Connection, PeriodFacts) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_conn(|conn| in_snapshot(conn, || f(conn, period_facts(conn, site_id, q, period, &self.settings)?)))
    }
}

fn to_cell(v: Value) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::Boolean(b) => Cell::Bool(b),
        Value::TinyInt(i) => Cell::Int(i.into()),
        Value::SmallInt(i) => Cell::Int(i.into()),
        Value::Int(i) => Cell::Int(i.into()),
        Value::BigInt(i) => Cell::Int(i),
        Value::HugeInt(i) => Cell::Int(i as i64),
        Value::UTinyInt(i) => Cell::Int(i.into()),
        Value::USmallInt(i) => Cell::Int(i.into()),
        Value::UInt(i) => Cell::Int(i.into()),
        Value::UBigInt(i) => Cell::UInt(i),
        Value::Float(f) => Cell::Float(f.into()),
        Value::Double(f) => Cell::Float(f),
        Value::Decimal(d) => Cell::Float(d.to_string().parse().unwrap_or(0.0)),
        Value::Text(s) => Cell::Text(s),
        other => Cell::Text(format!("{other:?}")),
    }
}

/// Events of a site in a period (zonemaps make this a few milliseconds).
pub(super) fn events_in(conn: &Connection, site_id: u32, period: &Period) -> Result<u64, StoreError> {
    conn.query_row(
        "SELECT count(*) FROM events WHERE site_id = ? AND ts >= ? AND ts < ?",
        duckdb::params![site_id, ts_param(period.start), ts_param(period.end)],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
    .map_err(internal)
}

/// What the statement for `q` over `period` needs to know about the stored rows: whether the
/// period is large enough for HyperLogLog, the range of its visit ids (only when the statement
/// tests visits for a matching event), up to which visit id visits are folded (only when the
/// statement can read them), and (only when time on page is asked) whether every pageview stores
/// its previous page.
pub(super) fn period_facts(
    conn: &Connection,
    site_id: u32,
    q: &Query,
    period: &Period,
    settings: &EngineSettings,
) -> Result<PeriodFacts, StoreError> {
    if settings.day_totals
        && let Some(rolled) = read_day_totals(conn, site_id, q, period)?
    {
        return Ok(PeriodFacts { rolled: Some(rolled), ..PeriodFacts::default() });
    }
    let (events, visit_ids) = if settings.visit_bitmaps && tests_matched_visits(q) {
        let (n, lo, hi): (i64, Option<u64>, Option<u64>) = conn
            .query_row(
                "SELECT count(*), min(visit_id), max(visit_id) FROM events WHERE site_id = ? AND ts >= ? AND ts < ?",
                duckdb::params![site_id, ts_param(period.start), ts_param(period.end)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(internal)?;
        let range = lo.zip(hi).filter(|(lo, hi)| hi - lo < MAX_BITMAP_VISITS);
        (n as u64, range)
    } else {
        (events_in(conn, site_id, period)?, None)
    };
    let approx = events > settings.exact_limit;
    let folded = match settings.folded_visits && reads_folded_visits(q) {
        true => super::visit_ends::folded_through(conn)?,
        false => None,
    };
    if !q.metrics.contains(&Metric::TimeOnPage) {
        return Ok(PeriodFacts { approx, page_gaps: false, visit_ids, folded, rolled: None });
    }
    let legacy: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE site_id = ? AND ts >= ? AND ts < ? AND name = 'pageview' AND page_gap_s IS NULL",
            duckdb::params![site_id, ts_param(period.start), ts_param(period.end)],
            |r| r.get(0),
        )
        .map_err(internal)?;
    Ok(PeriodFacts { approx, page_gaps: legacy == 0, visit_ids, folded, rolled: None })
}

/// What `day_totals` can answer of `q` over `period` (see `PeriodFacts::rolled`).
fn read_day_totals(conn: &Connection, site_id: u32, q: &Query, period: &Period) -> Result<Option<Rolled>, StoreError> {
    if reads_day_totals(q) {
        return Ok(period_totals(conn, site_id, period)?.map(Rolled::Total));
    }
    if reads_day_rows(q, period) {
        return period_days(conn, site_id, period);
    }
    if let Some(key) = rolled_dim(q) {
        return period_groups(conn, site_id, key, period);
    }
    Ok(None)
}

/// Runs `sql` and maps each row: its dimension cells (rendered for `q` over `period`) and the
/// row, whose values after the dimensions are the caller's.
fn each_row<T>(
    conn: &Connection,
    sql: &Sql,
    q: &Query,
    period: &Period,
    mut f: impl FnMut(Vec<Cell>, &duckdb::Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare(&sql.text).map_err(internal)?;
    let mut rows = stmt.query(duckdb::params_from_iter(sql.params.iter())).map_err(internal)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(internal)? {
        let dimensions = q
            .dimensions
            .iter()
            .enumerate()
            .map(|(i, d)| Ok(dimension_cell(d, row.get(i).map_err(internal)?, period)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.push(f(dimensions, row)?);
    }
    Ok(out)
}

/// Reads one query's rows (from `build_sql`): the metric cells and the total row count.
fn read_query(
    conn: &Connection,
    sql: &Sql,
    q: &Query,
    period: &Period,
    approx: bool,
) -> Result<QueryResult, StoreError> {
    let (n_dims, n_metrics) = (q.dimensions.len(), q.metrics.len());
    let mut total = 0u64;
    let mut mixed_currencies = false;
    let revenue = q.metrics.iter().any(|m| m.is_revenue());
    let rows = each_row(conn, sql, q, period, |dimensions, row| {
        let mut metrics = (0..n_metrics)
            .map(|i| Ok(to_cell(row.get::<_, Value>(n_dims + i).map_err(internal)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        total = row.get::<_, i64>(n_dims + n_metrics).map_err(internal)? as u64;
        if revenue {
            let currency: Option<String> = row.get(n_dims + n_metrics + 1).map_err(internal)?;
            let currencies: i64 = row.get(n_dims + n_metrics + 2).map_err(internal)?;
            mixed_currencies |= currencies > 1;
            for (cell, m) in metrics.iter_mut().zip(&q.metrics) {
                if let (true, Some(amount), Some(c)) = (m.is_revenue(), cell.as_f64(), currency.as_ref()) {
                    *cell = Cell::Money { amount, currency: c.clone() };
                }
            }
        }
        Ok(ResultRow { dimensions, metrics })
    })?;
    Ok(QueryResult {
        total_rows: q.total_rows.then_some(if rows.is_empty() && q.offset == 0 { 0 } else { total }),
        rows,
        approximate: approx,
        mixed_currencies,
        time_labels: if q.time_labels { q.time_dimension().map(|g| period.labels(g)) } else { None },
    })
}

/// Runs `f` in one transaction: what the facts read before a statement holds for it (the
/// rows of `day_totals`, the folding watermark).
fn in_snapshot<T>(conn: &Connection, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    conn.execute_batch("BEGIN TRANSACTION").map_err(internal)?;
    let result = f();
    let ended = conn.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" }).map_err(internal);
    result.and_then(|r| ended.map(|_| r))
}

/// Renders a dimension cell as the answers show it.
fn dimension_cell(d: &Dimension, v: Value, period: &Period) -> Cell {
    match (d, v) {
        (Dimension::Time(g), Value::BigInt(k)) => Cell::Text(bucket_label(k, period.resolve_grain(*g), period)),
        (Dimension::Visit(VisitDim::CountryName), Value::Text(code)) => {
            Cell::from(crate::domain::countries::name(&code).unwrap_or(&code))
        }
        (_, v) => to_cell(v),
    }
}

/// The five additive totals (visitors, pageviews, visits, bounces, visit seconds) in the columns
/// from `first` on; a null or negative total reads as 0.
pub(super) fn totals_at(row: &duckdb::Row<'_>, first: usize) -> Result<Totals, StoreError> {
    let num = |i: usize| row.get::<_, Option<i64>>(first + i).map(|v| v.unwrap_or(0).max(0) as u64).map_err(internal);
    Ok(Totals { visitors: num(0)?, pageviews: num(1)?, visits: num(2)?, bounces: num(3)?, visit_duration: num(4)? })
}

impl ReportStore for DuckReports {
    fn query_totals(
        &self,
        site_id: u32,
        q: &Query,
        period: &Period,
        goals: &[Goal],
    ) -> Result<(Vec<TotalsRow>, bool), StoreError> {
        // Additive totals per group (see `build_totals_sql`).
        self.in_period(site_id, q, period, |conn, facts| {
            let (approx, sql) = (facts.approx, build_totals_sql(site_id, q, period, goals, facts));
            let n = q.dimensions.len();
            let rows = each_row(conn, &sql, q, period, |dimensions, row| {
                Ok(TotalsRow { dimensions, totals: totals_at(row, n)? })
            })?;
            Ok((rows, approx))
        })
    }

    fn web_vitals(&self, site_id: u32, period: &Period, page: Option<&str>) -> Result<Vec<VitalSummary>, StoreError> {
        self.with_conn(|c| super::vitals::web_vitals(c, site_id, period, page))
    }

    fn funnel(&self, site_id: u32, period: &Period, steps: &[GoalKind]) -> Result<Vec<u64>, StoreError> {
        self.with_conn(|c| super::funnel::funnel(c, site_id, period, steps))
    }

    fn query(&self, site_id: u32, q: &Query, period: &Period, goals: &[Goal]) -> Result<QueryResult, StoreError> {
        self.in_period(site_id, q, period, |conn, facts| {
            let (approx, sql) = (facts.approx, build_sql(site_id, q, period, goals, facts));
            read_query(conn, &sql, q, period, approx)
        })
    }

    fn first_event_micros(&self, site_id: u32) -> Result<Option<i64>, StoreError> {
        self.with_conn(|c| {
            c.query_row("SELECT epoch_us(min(ts)) FROM events WHERE site_id = ?", [site_id], |r| r.get(0))
                .map_err(internal)
        })
    }

    fn current_visitors(&self, site_id: u32, since_micros: i64) -> Result<u64, StoreError> {
        self.with_conn(|c| {
            c.query_row(
                "SELECT count(DISTINCT visitor_id) FROM events WHERE site_id = ? AND ts >= ?",
                duckdb::params![site_id, ts_param(since_micros)],
                |r| r.get(0),
            )
            .map_err(internal)
        })
    }
}

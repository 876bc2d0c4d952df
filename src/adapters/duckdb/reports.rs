//! The report engine: one SQL statement per query over the raw events table.
//! Event metrics are counted on matching events; visit metrics on the visits that contain a
//! matching event (their pageviews, bounce and duration measured on the whole visit).

use std::sync::Mutex;
use std::time::Duration;

use duckdb::Connection;
use duckdb::types::{TimeUnit, Value};

use super::internal;
use super::sql::{Sql, bucket, bucket_label, column, filter_expr, goal_condition, prop_value, row_column};
use super::watchdog::Watchdog;
use crate::domain::imports::Totals;
use crate::domain::imports::merge::TotalsRow;
use crate::domain::query::{
    Cell, Dimension, Direction, EventDim, Filter, Goal, GoalKind, Metric, OrderKey, Period, Query, QueryResult,
    ResultRow, VisitDim,
};
use crate::ports::reports::{ReportStore, VitalSummary};
use crate::ports::store::StoreError;

/// Report queries on their own connections (a small pool; DuckDB runs them in parallel).
pub struct DuckReports {
    pool: Mutex<Vec<Connection>>,
    origin: Mutex<Connection>,
    /// Above this many events in a period, visitors are counted with HyperLogLog (~1-2 % error).
    exact_limit: u64,
    /// Longest one report may run before it is interrupted (`--query-timeout-ms`); `None`: no limit.
    timeout: Option<Duration>,
}

/// Default for `exact_limit`.
pub const EXACT_VISITORS_LIMIT: u64 = 1_000_000;

impl DuckReports {
    pub fn new(conn: Connection, exact_limit: u64) -> Self {
        Self { pool: Mutex::new(Vec::new()), origin: Mutex::new(conn), exact_limit, timeout: None }
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
}

pub(super) fn ts_param(micros: i64) -> Value {
    Value::Timestamp(TimeUnit::Microsecond, micros)
}

/// Does the query need per-visit aggregates?
fn needs_visits(q: &Query) -> bool {
    q.metrics.iter().any(|m| m.is_session_metric())
}

fn needs_events(q: &Query) -> bool {
    q.metrics.iter().any(|m| !m.is_session_metric()) || !needs_visits(q)
}

fn mentions_visit_pages(q: &Query) -> bool {
    let exit = Dimension::Visit(VisitDim::ExitPage);
    q.dimensions.contains(&exit) || q.filters.iter().any(|f| f.mentions(&exit))
}

/// Visit attributes stored on every event of the visit (so filtering rows by them keeps whole visits).
fn is_row_visit_attr(d: &Dimension) -> bool {
    matches!(d, Dimension::Visit(v) if *v != VisitDim::ExitPage)
}

fn only_visit_attrs(f: &Filter) -> bool {
    match f {
        Filter::Condition { dimension, .. } => is_row_visit_attr(dimension),
        Filter::And(fs) | Filter::Or(fs) => fs.iter().all(only_visit_attrs),
        Filter::Not(f) => only_visit_attrs(f),
        Filter::HasDone(_) | Filter::HasNotDone(_) => false,
    }
}

/// Visit metrics can be summed from the per-event visit statistics when every row of a visit
/// falls in the same group and filters keep or drop whole visits.
fn fast_visits(q: &Query) -> bool {
    q.filters.iter().all(only_visit_attrs)
        && q.dimensions.iter().all(|d| matches!(d, Dimension::Time(_)) || is_row_visit_attr(d))
        && !q.metrics.contains(&Metric::TimeOnPage)
}

/// Top-level filters without goal conditions: the denominator of conversion rates.
fn without_goals(filters: &[Filter]) -> Vec<Filter> {
    let goal = Dimension::Event(EventDim::Goal);
    filters.iter().filter(|f| !f.mentions(&goal)).cloned().collect()
}

fn where_filters(sql: &mut Sql, filters: &[Filter], goals: &[Goal]) {
    if filters.is_empty() {
        sql.push("true");
        return;
    }
    filter_expr(sql, &Filter::And(filters.to_vec()), goals);
}

/// Dimension expression over event rows (`matched`, joined with `visit_pages` when needed).
fn event_dim(sql: &mut Sql, dim: &Dimension, period: &Period) {
    match dim {
        Dimension::Time(g) => {
            sql.push(&bucket("ts", period, period.resolve_grain(*g)));
        }
        Dimension::Event(EventDim::Goal) => {
            sql.push("goal");
        }
        Dimension::Event(EventDim::Prop(key)) => {
            sql.push("coalesce(");
            prop_value(key)(sql);
            sql.push(", '(none)')");
        }
        Dimension::Visit(VisitDim::ExitPage) => {
            sql.push("visit_pages.exit_page");
        }
        other => {
            column(row_column(other).expect("row dimension"))(sql);
        }
    }
}

/// Dimension expression over the `visits` CTE (one row per visit).
fn visit_dim(dim: &Dimension, i: usize, period: &Period) -> String {
    match dim {
        Dimension::Time(g) => bucket("vstart", period, period.resolve_grain(*g)),
        // Pages of visits are their landing pages.
        Dimension::Event(EventDim::Page) | Dimension::Visit(VisitDim::EntryPage) => "entry_page".into(),
        Dimension::Visit(VisitDim::ExitPage) => "exit_page".into(),
        _ => format!("v{i}"),
    }
}

/// The raw columns behind a dimension or filter.
fn raw_columns(dim: &Dimension) -> &'static [&'static str] {
    match dim {
        Dimension::Event(EventDim::Page) => &["pathname"],
        Dimension::Event(EventDim::Hostname) => &["hostname"],
        Dimension::Event(EventDim::Name) | Dimension::Event(EventDim::Goal) => &["name", "pathname"],
        Dimension::Event(EventDim::Prop(_)) => &["props"],
        Dimension::Time(_) => &["ts"],
        Dimension::Visit(v) => match v {
            VisitDim::EntryPage => &["entry_page"],
            VisitDim::ExitPage => &["pathname"],
            VisitDim::Source => &["referrer_source"],
            VisitDim::Referrer => &["referrer"],
            VisitDim::Channel => &["channel"],
            VisitDim::UtmSource => &["utm_source"],
            VisitDim::UtmMedium => &["utm_medium"],
            VisitDim::UtmCampaign => &["utm_campaign"],
            VisitDim::UtmContent => &["utm_content"],
            VisitDim::UtmTerm => &["utm_term"],
            VisitDim::Device => &["device"],
            VisitDim::Browser => &["browser"],
            VisitDim::BrowserVersion => &["browser_version"],
            VisitDim::Os => &["os"],
            VisitDim::OsVersion => &["os_version"],
            VisitDim::Country | VisitDim::CountryName => &["country"],
            VisitDim::Region | VisitDim::RegionName => &["region"],
            VisitDim::City | VisitDim::CityName => &["city"],
            VisitDim::Screen => &["screen"],
            VisitDim::Language => &["language"],
        },
    }
}

fn needed_columns(q: &Query) -> Vec<&'static str> {
    let mut cols = vec!["ts", "name", "visitor_id", "visit_id", "pathname"];
    if needs_visits(q) && fast_visits(q) {
        cols.extend(["visit_start", "bounce_delta", "duration_delta"]);
    }
    let filter_dims = q.filters.iter().flat_map(|f| f.conditions()).filter_map(|c| match c {
        Filter::Condition { dimension, .. } => Some(dimension),
        _ => None,
    });
    for d in q.dimensions.iter().chain(filter_dims) {
        for c in raw_columns(d) {
            if !cols.contains(c) {
                cols.push(c);
            }
        }
    }
    cols
}

/// Builds the SQL for one period. `approx` counts distinct visitors with HyperLogLog.
pub fn build_sql(site_id: u32, q: &Query, period: &Period, goals: &[Goal], approx: bool) -> Sql {
    build(site_id, q, period, goals, approx, false)
}

/// With `raw`, the final select gives additive totals per group (visitors, pageviews, visits,
/// bounces, total visit seconds) instead of the metrics, unsorted, at most `q.limit`; `q` must ask
/// for an event metric and a visit metric.
fn build(site_id: u32, q: &Query, period: &Period, goals: &[Goal], approx: bool, raw: bool) -> Sql {
    let distinct = if approx { "approx_count_distinct(visitor_id)" } else { "count(DISTINCT visitor_id)" };
    let mut sql = Sql::default();
    let dims = &q.dimensions;
    let n = dims.len();
    // Only the columns this query reads: CTEs used twice are materialized.
    sql.push(&format!("WITH base AS (SELECT {} FROM events WHERE site_id = ", needed_columns(q).join(", ")))
        .param(Value::UInt(site_id))
        .push(" AND ts >= ")
        .param(ts_param(period.start))
        .push(" AND ts < ")
        .param(ts_param(period.end))
        .push(")");
    if mentions_visit_pages(q) {
        sql.push(
            ", visit_pages AS (SELECT visit_id, arg_min(pathname, ts) AS entry_page, arg_max(pathname, ts) AS exit_page \
             FROM base WHERE name = 'pageview' GROUP BY visit_id)",
        );
    }
    // Without filters every event matches: read `base` directly.
    let matched = if q.filters.is_empty() { "base" } else { "matched" };
    if !q.filters.is_empty() {
        sql.push(", matched AS (SELECT * FROM base WHERE ");
        where_filters(&mut sql, &q.filters, goals);
        sql.push(")");
    }
    let goal_dim = dims.contains(&Dimension::Event(EventDim::Goal));
    if goal_dim {
        sql.push(", goal_rows AS (");
        if goals.is_empty() {
            sql.push(&format!("SELECT *, NULL::VARCHAR AS goal FROM {matched} WHERE false"));
        }
        for (i, g) in goals.iter().enumerate() {
            if i > 0 {
                sql.push(" UNION ALL ");
            }
            sql.push("SELECT *, ").text_param(&g.display_name).push(&format!(" AS goal FROM {matched} WHERE "));
            goal_condition(&mut sql, g);
        }
        sql.push(")");
    }
    let dcols: Vec<String> = (0..n).map(|i| format!("d{i}")).collect();
    let group = |sql: &mut Sql| {
        if n > 0 {
            sql.push(" GROUP BY ALL");
        }
    };
    let fast = needs_visits(q) && fast_visits(q);
    let events = needs_events(q) || fast;
    let visits = needs_visits(q) && !fast;
    if events {
        sql.push(", ev AS (SELECT ");
        for (i, d) in dims.iter().enumerate() {
            event_dim(&mut sql, d, period);
            sql.push(&format!(" AS d{i}, "));
        }
        sql.push(&format!(
            "{distinct} AS visitors, count(*) FILTER (WHERE name = 'pageview') AS pageviews, count(*) AS events"
        ));
        if fast {
            sql.push(
                ", sum(visit_start::INTEGER) AS visits, count(*) FILTER (WHERE name = 'pageview') AS pv_sum, \
                 sum(bounce_delta) AS bounces, sum(duration_delta) AS duration_sum",
            );
        }
        sql.push(" FROM ");
        sql.push(if goal_dim { "goal_rows" } else { matched });
        if dims.iter().any(|d| matches!(d, Dimension::Visit(VisitDim::ExitPage))) {
            sql.push(" LEFT JOIN visit_pages USING (visit_id)");
        }
        group(&mut sql);
        sql.push(")");
    }
    if visits {
        sql.push(", visits AS (SELECT visit_id, min(ts) AS vstart, max(ts) AS vend, ");
        sql.push("count(*) FILTER (WHERE name = 'pageview') AS pv, count(*) FILTER (WHERE name <> 'pageview') AS ce, ");
        sql.push("arg_min(pathname, ts) FILTER (WHERE name = 'pageview') AS entry_page, ");
        sql.push("arg_max(pathname, ts) FILTER (WHERE name = 'pageview') AS exit_page");
        for (i, d) in dims.iter().enumerate() {
            if let Some(col) = row_column(d).filter(|_| matches!(d, Dimension::Visit(_))) {
                sql.push(&format!(", arg_min({col}, ts) AS v{i}"));
            }
        }
        sql.push(" FROM base");
        if !q.filters.is_empty() {
            sql.push(" WHERE visit_id IN (SELECT visit_id FROM matched)");
        }
        sql.push(" GROUP BY visit_id)");
        sql.push(", se AS (SELECT ");
        for (i, d) in dims.iter().enumerate() {
            sql.push(&format!("{} AS d{i}, ", visit_dim(d, i, period)));
        }
        sql.push(
            "count(*) AS visits, sum(pv) AS pv_sum, count(*) FILTER (WHERE pv <= 1 AND ce = 0) AS bounces, \
             avg((epoch_ms(vend) - epoch_ms(vstart)) / 1000.0) AS duration, \
             sum((epoch_ms(vend) - epoch_ms(vstart)) / 1000.0) AS duration_sum FROM visits",
        );
        group(&mut sql);
        sql.push(")");
    }
    let page_dim = dims.iter().position(|d| *d == Dimension::Event(EventDim::Page));
    let top = q.metrics.contains(&Metric::TimeOnPage);
    if top {
        sql.push(", tp AS (SELECT ");
        if let Some(i) = page_dim {
            sql.push(&format!("pathname AS d{i}, "));
        }
        sql.push("avg(dt) AS time_on_page FROM (SELECT pathname, visit_id, (epoch_ms(lead(ts) OVER (PARTITION BY visit_id ORDER BY ts)) - epoch_ms(ts)) / 1000.0 AS dt FROM base WHERE name = 'pageview') WHERE dt IS NOT NULL");
        if !q.filters.is_empty() {
            sql.push(" AND visit_id IN (SELECT visit_id FROM matched)");
        }
        if page_dim.is_some() {
            sql.push(" GROUP BY ALL");
        } else {
            sql.push(&format!(" AND pathname IN (SELECT pathname FROM {matched} WHERE name = 'pageview')"));
        }
        sql.push(")");
    }

    // Final select.
    let vs = if fast { "ev" } else { "se" };
    if raw {
        sql.push(" SELECT ");
        for (i, c) in dcols.iter().enumerate() {
            let src = if visits { format!("coalesce(ev.{c}, se.{c})") } else { format!("ev.{c}") };
            sql.push(&format!("{src} AS d{i}, "));
        }
        sql.push(&format!(
            "coalesce(ev.visitors, 0)::BIGINT, coalesce(ev.pageviews, 0)::BIGINT, coalesce({vs}.visits, 0)::BIGINT, \
             coalesce(greatest({vs}.bounces, 0), 0)::BIGINT, coalesce(round({vs}.duration_sum), 0)::BIGINT FROM "
        ));
        let using = if n > 0 { format!(" USING ({})", dcols.join(", ")) } else { String::new() };
        match visits {
            true if n > 0 => sql.push(&format!("ev FULL JOIN se{using}")),
            true => sql.push("ev CROSS JOIN se"),
            false => sql.push("ev"),
        };
        // Bounded: the caller refuses answers with more groups than it can merge in memory.
        sql.push(" LIMIT ").param(Value::BigInt(q.limit as i64));
        return sql;
    }
    sql.push(" SELECT ");
    for (i, c) in dcols.iter().enumerate() {
        let src = match (events, visits) {
            (true, true) => format!("coalesce(ev.{c}, se.{c})"),
            (true, false) => format!("ev.{c}"),
            _ => format!("se.{c}"),
        };
        sql.push(&format!("{src} AS d{i}, "));
    }
    for m in &q.metrics {
        let expr = match m {
            Metric::Visitors => "coalesce(ev.visitors, 0)".to_string(),
            Metric::Pageviews => "coalesce(ev.pageviews, 0)".to_string(),
            Metric::Events => "coalesce(ev.events, 0)".to_string(),
            Metric::Visits => format!("coalesce({vs}.visits, 0)::BIGINT"),
            Metric::ViewsPerVisit => format!("coalesce(round({vs}.pv_sum / nullif({vs}.visits, 0), 2), 0)"),
            Metric::BounceRate => {
                format!("coalesce(round(100.0 * greatest({vs}.bounces, 0) / nullif({vs}.visits, 0))::BIGINT, 0)")
            }
            Metric::VisitDuration if fast => {
                "coalesce(round(ev.duration_sum / nullif(ev.visits, 0))::BIGINT, 0)".to_string()
            }
            Metric::VisitDuration => "coalesce(round(se.duration)::BIGINT, 0)".to_string(),
            Metric::Percentage => {
                format!("coalesce(round(100.0 * ev.visitors / nullif((SELECT {distinct} FROM {matched}), 0), 1), 0)")
            }
            Metric::ConversionRate => {
                let mut denom = Sql::default();
                denom.push(&format!("(SELECT {distinct} FROM base WHERE "));
                where_filters(&mut denom, &without_goals(&q.filters), goals);
                denom.push(")");
                // Splice the denominator's parameters in place.
                sql.params.extend(denom.params);
                format!("coalesce(round(100.0 * ev.visitors / nullif({}, 0), 2), 0)", denom.text)
            }
            Metric::TimeOnPage => "round(tp.time_on_page)::BIGINT".to_string(),
        };
        sql.push(&format!("{expr} AS m_{}, ", m.as_str()));
    }
    sql.push("count(*) OVER () AS total_rows FROM ");
    let using = if n > 0 { format!(" USING ({})", dcols.join(", ")) } else { String::new() };
    match (events, visits) {
        (true, true) if n > 0 => sql.push(&format!("ev FULL JOIN se{using}")),
        (true, true) => sql.push("ev CROSS JOIN se"),
        (true, false) => sql.push("ev"),
        _ => sql.push("se"),
    };
    if top {
        match page_dim {
            Some(i) => sql.push(&format!(" LEFT JOIN tp ON tp.d{i} = d{i}")),
            None => sql.push(" CROSS JOIN tp"),
        };
    }
    // Order: explicit keys, else time ascending, then the first metric descending; dimensions break ties.
    let mut order: Vec<String> = Vec::new();
    for (key, dir) in &q.order_by {
        let col = match key {
            OrderKey::Metric(m) => format!("m_{}", m.as_str()),
            OrderKey::Dimension(d) => format!("d{}", dims.iter().position(|x| x == d).expect("validated")),
        };
        order.push(format!("{col} {}", if *dir == Direction::Asc { "ASC" } else { "DESC" }));
    }
    if q.order_by.is_empty() {
        if let Some(i) = dims.iter().position(|d| matches!(d, Dimension::Time(_))) {
            order.push(format!("d{i} ASC"));
        }
        order.push(format!("m_{} DESC", q.metrics[0].as_str()));
    }
    for c in &dcols {
        order.push(format!("{c} ASC"));
    }
    sql.push(&format!(" ORDER BY {} NULLS LAST", order.join(" NULLS LAST, ")));
    sql.push(" LIMIT ").param(Value::BigInt(q.limit as i64)).push(" OFFSET ").param(Value::BigInt(q.offset as i64));
    sql
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

/// Runs one query over one period.
pub fn run(
    conn: &Connection,
    site_id: u32,
    q: &Query,
    period: &Period,
    goals: &[Goal],
    exact_limit: u64,
) -> Result<QueryResult, StoreError> {
    let approx = events_in(conn, site_id, period)? > exact_limit;
    let sql = build_sql(site_id, q, period, goals, approx);
    let mut stmt = conn.prepare(&sql.text).map_err(internal)?;
    let n_dims = q.dimensions.len();
    let n_metrics = q.metrics.len();
    let mut rows = stmt.query(duckdb::params_from_iter(sql.params.iter())).map_err(internal)?;
    let mut out = QueryResult::default();
    let mut total = 0u64;
    while let Some(row) = rows.next().map_err(internal)? {
        let mut dimensions = Vec::with_capacity(n_dims);
        for (i, d) in q.dimensions.iter().enumerate() {
            dimensions.push(dimension_cell(d, row.get(i).map_err(internal)?, period));
        }
        let mut metrics = Vec::with_capacity(n_metrics);
        for i in 0..n_metrics {
            metrics.push(to_cell(row.get::<_, Value>(n_dims + i).map_err(internal)?));
        }
        total = row.get::<_, i64>(n_dims + n_metrics).map_err(internal)? as u64;
        out.rows.push(ResultRow { dimensions, metrics });
    }
    if q.total_rows {
        out.total_rows = Some(if out.rows.is_empty() && q.offset == 0 { 0 } else { total });
    }
    out.approximate = approx;
    if q.time_labels {
        out.time_labels = q.time_dimension().map(|g| period.labels(g));
    }
    Ok(out)
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

/// Additive totals per group (see `build` with `raw`).
pub fn run_totals(
    conn: &Connection,
    site_id: u32,
    q: &Query,
    period: &Period,
    goals: &[Goal],
    exact_limit: u64,
) -> Result<(Vec<TotalsRow>, bool), StoreError> {
    let approx = events_in(conn, site_id, period)? > exact_limit;
    let sql = build(site_id, q, period, goals, approx, true);
    let mut stmt = conn.prepare(&sql.text).map_err(internal)?;
    let mut rows = stmt.query(duckdb::params_from_iter(sql.params.iter())).map_err(internal)?;
    let n = q.dimensions.len();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(internal)? {
        let mut dimensions = Vec::with_capacity(n);
        for (i, d) in q.dimensions.iter().enumerate() {
            dimensions.push(dimension_cell(d, row.get(i).map_err(internal)?, period));
        }
        let num = |i: usize| row.get::<_, i64>(n + i).map(|v| v.max(0) as u64).map_err(internal);
        let totals = Totals {
            visitors: num(0)?,
            pageviews: num(1)?,
            visits: num(2)?,
            bounces: num(3)?,
            visit_duration: num(4)?,
        };
        out.push(TotalsRow { dimensions, totals });
    }
    Ok((out, approx))
}

impl ReportStore for DuckReports {
    fn query_totals(
        &self,
        site_id: u32,
        q: &Query,
        period: &Period,
        goals: &[Goal],
    ) -> Result<(Vec<TotalsRow>, bool), StoreError> {
        self.with_conn(|c| run_totals(c, site_id, q, period, goals, self.exact_limit))
    }

    fn web_vitals(&self, site_id: u32, period: &Period, page: Option<&str>) -> Result<Vec<VitalSummary>, StoreError> {
        self.with_conn(|c| super::vitals::web_vitals(c, site_id, period, page))
    }

    fn funnel(&self, site_id: u32, period: &Period, steps: &[GoalKind]) -> Result<Vec<u64>, StoreError> {
        self.with_conn(|c| super::funnel::funnel(c, site_id, period, steps))
    }

    fn query(&self, site_id: u32, q: &Query, period: &Period, goals: &[Goal]) -> Result<QueryResult, StoreError> {
        self.with_conn(|c| run(c, site_id, q, period, goals, self.exact_limit))
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

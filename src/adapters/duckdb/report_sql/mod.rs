//! Building one report query's SQL. Event metrics are counted on matching events; visit metrics
//! on the visits that contain a matching event (their pageviews, bounce and duration measured on
//! the whole visit). The statement is a chain of CTEs: `base` (the period's rows, only the columns
//! needed), `matched` (filtered), `goal_rows`, `ev` (event aggregates), `visits`/`se` (visit
//! aggregates), `tp` (time on page), then one final select.

mod columns;
mod ctes;

use duckdb::types::Value;

pub(super) use self::columns::labelled_column;
use self::columns::{
    fast_visits, needs_events, needs_visits, summable_visits, visit_level, where_filters, without_goals,
};
pub use self::columns::{reads_day_rows, reads_day_totals, reads_folded_visits, tests_matched_visits};
use super::day_totals::Rolled;
use super::sql::Sql;
use crate::domain::query::{Dimension, Direction, EventDim, Goal, Metric, OrderKey, Period, Query};

/// What the engine learnt about a period's rows before building its statement.
#[derive(Debug, Clone, Default)]
pub struct PeriodFacts {
    /// Count distinct visitors with HyperLogLog (a large period).
    pub approx: bool,
    /// Every pageview of the period stores its previous page and gap (`prev_page`,
    /// `page_gap_s`): time on page is summed from them instead of a window over visits.
    pub page_gaps: bool,
    /// The lowest and highest visit id of the period, when the statement tests visits for a
    /// matching event (see [`tests_matched_visits`]): the matching visits become a bitmap over
    /// that range, probed per row, instead of a hash semi-join (2x faster at 3 M rows).
    pub visit_ids: Option<(u64, u64)>,
    /// Every visit with an id up to this is folded into `visit_ends` (only when the statement
    /// can read it, see [`reads_folded_visits`]): the visits wholly inside the period are read
    /// from there, only the others' events are grouped by visit.
    pub folded: Option<u64>,
    /// What `day_totals` answers (only when the statement can take it, see [`reads_day_totals`]
    /// and [`reads_day_rows`]): the period's KPIs, added up from the rolled days and the events
    /// around them (`ev` is these constants), or a daily chart's rolled days (`ev` is their rows
    /// and the other days' aggregates).
    pub rolled: Option<super::day_totals::Rolled>,
}

/// Builds the SQL for one period.
pub fn build_sql(site_id: u32, q: &Query, period: &Period, goals: &[Goal], facts: PeriodFacts) -> Sql {
    let plan = Plan::new(q, period, goals, facts);
    let mut sql = plan.ctes(site_id);
    plan.select_metrics(&mut sql);
    plan.order_and_page(&mut sql);
    sql
}

/// The SQL for additive totals per group (visitors, pageviews, visits, bounces, total visit
/// seconds) instead of the metrics, unsorted, at most `q.limit`; `q` must ask for an event metric
/// and a visit metric.
pub fn build_totals_sql(site_id: u32, q: &Query, period: &Period, goals: &[Goal], facts: PeriodFacts) -> Sql {
    let plan = Plan::new(q, period, goals, facts);
    let mut sql = plan.ctes(site_id);
    plan.select_totals(&mut sql);
    sql
}

/// What one query's statement is made of, decided once.
struct Plan<'a> {
    q: &'a Query,
    period: &'a Period,
    goals: &'a [Goal],
    /// The distinct-visitors aggregate (exact, or HyperLogLog).
    distinct: &'static str,
    /// The CTE holding the matching rows (`base` without filters).
    matched: &'static str,
    /// Output columns of the dimensions: `d0`, `d1`...
    dcols: Vec<String>,
    goal_dim: bool,
    /// Visit metrics summed from per-event visit statistics (see `fast_visits`).
    fast: bool,
    /// Whether the `ev` CTE is built.
    events: bool,
    /// Whether the `se` CTE (and, unless `summed`, `visits`) is built.
    visits: bool,
    /// `se` sums the per-event visit statistics of the visits with a matching event instead of
    /// grouping the period's rows by visit (see `summable_visits`).
    summed: bool,
    /// Event metrics are counted on the `visits` CTE too (see `visit_level`).
    visit_level: bool,
    /// Time on page is asked (the `tp` CTE).
    top: bool,
    /// `tp` reads the stored previous pages (see [`PeriodFacts`]).
    page_gaps: bool,
    /// Scroll depth is asked (the `sd` CTE).
    scroll: bool,
    /// Group conversion rate is asked (the `gv` CTE).
    group_cr: bool,
    page_dim: Option<usize>,
    /// Matching visits are tested in a bitmap over this range of visit ids (see [`PeriodFacts`]).
    visit_ids: Option<(u64, u64)>,
    /// Visits up to this id are read from `visit_ends` (see [`PeriodFacts`]).
    folded: Option<u64>,
    /// `ev` is these totals or days (see [`PeriodFacts`]).
    rolled: Option<super::day_totals::Rolled>,
}

impl<'a> Plan<'a> {
    fn new(q: &'a Query, period: &'a Period, goals: &'a [Goal], facts: PeriodFacts) -> Self {
        let fast = needs_visits(q) && fast_visits(q);
        let visit_level = visit_level(q);
        Plan {
            q,
            period,
            goals,
            distinct: if facts.approx { "approx_count_distinct(visitor_id)" } else { "count(DISTINCT visitor_id)" },
            matched: if q.filters.is_empty() { "base" } else { "matched" },
            dcols: (0..q.dimensions.len()).map(|i| format!("d{i}")).collect(),
            goal_dim: q.dimensions.contains(&Dimension::Event(EventDim::Goal)),
            fast,
            events: needs_events(q) || fast,
            visits: (needs_visits(q) && !fast) || visit_level,
            summed: needs_visits(q) && !fast && summable_visits(q),
            visit_level,
            top: q.metrics.contains(&Metric::TimeOnPage),
            page_gaps: facts.page_gaps,
            scroll: q.metrics.contains(&Metric::ScrollDepth),
            group_cr: q.metrics.contains(&Metric::GroupConversionRate),
            page_dim: q.dimensions.iter().position(|d| *d == Dimension::Event(EventDim::Page)),
            visit_ids: facts.visit_ids.filter(|_| tests_matched_visits(q)),
            folded: facts.folded.filter(|_| reads_folded_visits(q)),
            rolled: facts.rolled.filter(|r| match r {
                Rolled::Total(_) => reads_day_totals(q),
                Rolled::Days { .. } => reads_day_rows(q, period),
                Rolled::Groups(g) => super::day_dims::rolled_dim(q) == Some(g.dim),
            }),
        }
    }

    /// Revenue metrics are asked: `ev` sums revenue and counts its currencies.
    fn revenue(&self) -> bool {
        self.q.metrics.iter().any(|m| m.is_revenue())
    }

    /// The CTE whose aggregates carry the visit metrics.
    fn vs(&self) -> &'static str {
        if self.fast { "ev" } else { "se" }
    }

    fn group(&self, sql: &mut Sql) {
        if !self.dcols.is_empty() {
            sql.push(" GROUP BY ALL");
        }
    }

    /// Every CTE the query needs, from `WITH` on.
    fn ctes(&self, site_id: u32) -> Sql {
        let mut sql = Sql::default();
        self.base(&mut sql, site_id);
        if self.goal_dim {
            self.goal_rows(&mut sql);
        }
        match (self.visits, self.summed) {
            (true, true) => self.summed_visit_aggregates(&mut sql),
            (true, false) => self.visit_aggregates(&mut sql, site_id),
            _ => {}
        }
        match (self.events, self.visit_level) {
            (true, true) => self.visit_level_event_aggregates(&mut sql),
            (true, false) => self.event_aggregates(&mut sql, site_id),
            _ => {}
        }
        if self.top {
            self.time_on_page(&mut sql);
            self.engaged_time(&mut sql, site_id);
        }
        if self.scroll {
            self.scroll_depth(&mut sql, site_id);
        }
        if self.group_cr {
            self.group_visitors(&mut sql);
        }
        sql
    }

    /// The dimensions other than `event:goal`, with their column index.
    fn non_goal_dims(&self) -> Vec<(usize, &Dimension)> {
        self.q.dimensions.iter().enumerate().filter(|(_, d)| **d != Dimension::Event(EventDim::Goal)).collect()
    }

    /// ` USING (d0, d1...)` when grouped.
    fn using(&self) -> String {
        if self.dcols.is_empty() { String::new() } else { format!(" USING ({})", self.dcols.join(", ")) }
    }

    /// The final select of additive totals (see [`build_totals_sql`]).
    fn select_totals(&self, sql: &mut Sql) {
        let vs = self.vs();
        sql.push(" SELECT ");
        for (i, c) in self.dcols.iter().enumerate() {
            let src = if self.visits { format!("coalesce(ev.{c}, se.{c})") } else { format!("ev.{c}") };
            sql.push(&format!("{src} AS d{i}, "));
        }
        sql.push(&format!(
            "coalesce(ev.visitors, 0)::BIGINT, coalesce(ev.pageviews, 0)::BIGINT, coalesce({vs}.visits, 0)::BIGINT, \
             coalesce(greatest({vs}.bounces, 0), 0)::BIGINT, coalesce(round({vs}.duration_sum), 0)::BIGINT FROM "
        ));
        match self.visits {
            true if !self.dcols.is_empty() => sql.push(&format!("ev FULL JOIN se{}", self.using())),
            true => sql.push("ev CROSS JOIN se"),
            false => sql.push("ev"),
        };
        // Bounded: the caller refuses answers with more groups than it can merge in memory.
        sql.push(" LIMIT ").param(Value::BigInt(self.q.limit as i64));
    }

    /// Where the final select reads dimension column `c` from.
    fn dim_source(&self, c: &str) -> String {
        match (self.events, self.visits) {
            (true, true) => format!("coalesce(ev.{c}, se.{c})"),
            (true, false) => format!("ev.{c}"),
            _ => format!("se.{c}"),
        }
    }

    /// The final select of the query's metrics, with the row count before paging.
    fn select_metrics(&self, sql: &mut Sql) {
        sql.push(" SELECT ");
        for (i, c) in self.dcols.iter().enumerate() {
            sql.push(&format!("{} AS d{i}, ", self.dim_source(c)));
        }
        for m in &self.q.metrics {
            let expr = self.metric_expr(sql, *m);
            sql.push(&format!("{expr} AS m_{}, ", m.as_str()));
        }
        sql.push("count(*) OVER () AS total_rows");
        if self.revenue() {
            // After the row count: the revenue's currency and how many currencies it mixes.
            sql.push(", ev.rev_cur AS revenue_currency, coalesce(ev.rev_ncur, 0) AS revenue_currencies");
        }
        sql.push(" FROM ");
        match (self.events, self.visits) {
            (true, true) if !self.dcols.is_empty() => sql.push(&format!("ev FULL JOIN se{}", self.using())),
            (true, true) => sql.push("ev CROSS JOIN se"),
            (true, false) => sql.push("ev"),
            _ => sql.push("se"),
        };
        if self.top {
            match self.page_dim {
                // Qualified: `d{i}` alone would be ambiguous between `ev`/`se` and `tp`.
                Some(i) => sql.push(&format!(" LEFT JOIN tp ON tp.tp_d{i} = {}", self.dim_source(&self.dcols[i]))),
                None => sql.push(" CROSS JOIN tp"),
            };
        }
        if self.group_cr {
            let on: Vec<String> = self
                .non_goal_dims()
                .iter()
                .map(|(i, _)| format!("gv.gv_d{i} IS NOT DISTINCT FROM {}", self.dim_source(&self.dcols[*i])))
                .collect();
            match on.is_empty() {
                true => sql.push(" CROSS JOIN gv"),
                false => sql.push(&format!(" LEFT JOIN gv ON {}", on.join(" AND "))),
            };
        }
        for (on, cte) in [(self.top, "et"), (self.scroll, "sd")] {
            if !on {
                continue;
            }
            match self.page_dim {
                Some(i) => {
                    sql.push(&format!(" LEFT JOIN {cte} ON {cte}.{cte}_d{i} = {}", self.dim_source(&self.dcols[i])))
                }
                None => sql.push(&format!(" CROSS JOIN {cte}")),
            };
        }
    }

    /// A metric's expression over the aggregates; the conversion rate's denominator splices its
    /// parameters into `sql` where the expression will be pushed.
    fn metric_expr(&self, sql: &mut Sql, m: Metric) -> String {
        let (vs, distinct, matched) = (self.vs(), self.distinct, self.matched);
        match m {
            Metric::Visitors => "coalesce(ev.visitors, 0)".to_string(),
            Metric::Pageviews => "coalesce(ev.pageviews, 0)".to_string(),
            Metric::Events => "coalesce(ev.events, 0)".to_string(),
            Metric::Visits => format!("coalesce({vs}.visits, 0)::BIGINT"),
            Metric::ViewsPerVisit => format!("coalesce(round({vs}.pv_sum / nullif({vs}.visits, 0), 2), 0)"),
            Metric::BounceRate => {
                format!("coalesce(round(100.0 * greatest({vs}.bounces, 0) / nullif({vs}.visits, 0))::BIGINT, 0)")
            }
            Metric::VisitDuration if self.fast => {
                "coalesce(round(ev.duration_sum / nullif(ev.visits, 0))::BIGINT, 0)".to_string()
            }
            Metric::VisitDuration => "coalesce(round(se.duration)::BIGINT, 0)".to_string(),
            Metric::Percentage => {
                format!("coalesce(round(100.0 * ev.visitors / nullif((SELECT {distinct} FROM {matched}), 0), 1), 0)")
            }
            Metric::ConversionRate => {
                let mut denom = Sql::default();
                denom.push(&format!("(SELECT {distinct} FROM base WHERE "));
                where_filters(&mut denom, &without_goals(&self.q.filters), self.goals);
                denom.push(")");
                // Splice the denominator's parameters in place.
                sql.params.extend(denom.params);
                format!("coalesce(round(100.0 * ev.visitors / nullif({}, 0), 2), 0)", denom.text)
            }
            // Engaged time where the page has engagement reports; else (older data, older
            // scripts) the time until the visit's next pageview.
            Metric::TimeOnPage => "round(coalesce(et.engaged, tp.time_on_page))::BIGINT".to_string(),
            Metric::ScrollDepth => "sd.scroll_depth".to_string(),
            // One currency: its amount; several: null (reported, never converted).
            Metric::TotalRevenue => "CASE WHEN ev.rev_ncur = 1 THEN round(ev.rev_sum, 3) END".to_string(),
            Metric::AverageRevenue => "CASE WHEN ev.rev_ncur = 1 THEN round(ev.rev_avg, 3) END".to_string(),
            Metric::GroupConversionRate => {
                "coalesce(round(100.0 * ev.visitors / nullif(gv.visitors, 0), 2), 0)".to_string()
            }
        }
    }

    /// Order: explicit keys, else time ascending, then the first metric descending; dimensions
    /// break ties. Then the page.
    fn order_and_page(&self, sql: &mut Sql) {
        let (q, dims) = (self.q, &self.q.dimensions);
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
        for c in &self.dcols {
            order.push(format!("{c} ASC"));
        }
        sql.push(&format!(" ORDER BY {} NULLS LAST", order.join(" NULLS LAST, ")));
        sql.push(" LIMIT ").param(Value::BigInt(q.limit as i64)).push(" OFFSET ").param(Value::BigInt(q.offset as i64));
    }
}

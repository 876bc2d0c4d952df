//! Building one report query's SQL. Event metrics are counted on matching events; visit metrics
//! on the visits that contain a matching event (their pageviews, bounce and duration measured on
//! the whole visit). The statement is a chain of CTEs: `base` (the period's rows, only the columns
//! needed), `matched` (filtered), `goal_rows`, `ev` (event aggregates), `visits`/`se` (visit
//! aggregates), `tp` (time on page), then one final select.

use duckdb::types::Value;

use super::reports::ts_param;
use super::sql::{Sql, bucket, filter_expr, goal_condition, prop_value, row_column, visit_pages_column};
use crate::domain::query::{Dimension, Direction, EventDim, Filter, Goal, Metric, OrderKey, Period, Query, VisitDim};
use crate::domain::revenue_rates::RevenueConversion;

/// Builds the SQL for one period. `approx` counts distinct visitors with HyperLogLog.
pub fn build_sql(site_id: u32, q: &Query, period: &Period, goals: &[Goal], approx: bool) -> Sql {
    let plan = Plan::new(q, period, goals, approx);
    let mut sql = plan.ctes(site_id);
    plan.select_metrics(&mut sql);
    plan.order_and_page(&mut sql);
    sql
}

/// The SQL for additive totals per group (visitors, pageviews, visits, bounces, total visit
/// seconds) instead of the metrics, unsorted, at most `q.limit`; `q` must ask for an event metric
/// and a visit metric.
pub fn build_totals_sql(site_id: u32, q: &Query, period: &Period, goals: &[Goal], approx: bool) -> Sql {
    let plan = Plan::new(q, period, goals, approx);
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
    /// Whether the `visits` and `se` CTEs are built.
    visits: bool,
    /// Time on page is asked (the `tp` CTE).
    top: bool,
    /// Scroll depth is asked (the `sd` CTE).
    scroll: bool,
    /// Group conversion rate is asked (the `gv` CTE).
    group_cr: bool,
    page_dim: Option<usize>,
}

impl<'a> Plan<'a> {
    fn new(q: &'a Query, period: &'a Period, goals: &'a [Goal], approx: bool) -> Self {
        let fast = needs_visits(q) && fast_visits(q);
        Plan {
            q,
            period,
            goals,
            distinct: if approx { "approx_count_distinct(visitor_id)" } else { "count(DISTINCT visitor_id)" },
            matched: if q.filters.is_empty() { "base" } else { "matched" },
            dcols: (0..q.dimensions.len()).map(|i| format!("d{i}")).collect(),
            goal_dim: q.dimensions.contains(&Dimension::Event(EventDim::Goal)),
            fast,
            events: needs_events(q) || fast,
            visits: needs_visits(q) && !fast,
            top: q.metrics.contains(&Metric::TimeOnPage),
            scroll: q.metrics.contains(&Metric::ScrollDepth),
            group_cr: q.metrics.contains(&Metric::GroupConversionRate),
            page_dim: q.dimensions.iter().position(|d| *d == Dimension::Event(EventDim::Page)),
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
        if self.events {
            self.event_aggregates(&mut sql);
        }
        if self.visits {
            self.visit_aggregates(&mut sql);
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

    /// `gv`: visitors per group of the non-goal dimensions under the non-goal filters (the
    /// denominator of `group_conversion_rate`).
    fn group_visitors(&self, sql: &mut Sql) {
        sql.push(", gv AS (SELECT ");
        for (i, d) in self.non_goal_dims() {
            event_dim(sql, d, self.period);
            sql.push(&format!(" AS gv_d{i}, "));
        }
        sql.push(&format!("{} AS visitors FROM base", self.distinct));
        if self.q.dimensions.iter().any(|d| matches!(d, Dimension::Visit(v) if v.from_visit_pages())) {
            sql.push(" LEFT JOIN visit_pages USING (visit_id)");
        }
        sql.push(" WHERE ");
        where_filters(sql, &without_goals(&self.q.filters), self.goals);
        if !self.non_goal_dims().is_empty() {
            sql.push(" GROUP BY ALL");
        }
        sql.push(")");
    }

    /// `sd`: Plausible's scroll depth. Per visit (and page, when grouped by page) the deepest
    /// reported scroll of the period's engagement reports, then the average of those, rounded.
    fn scroll_depth(&self, sql: &mut Sql, site_id: u32) {
        let page = self.page_dim.map(|i| format!("pathname AS sd_d{i}, ")).unwrap_or_default();
        let per = if self.page_dim.is_some() { "visitor_id, visit_id, pathname" } else { "visitor_id, visit_id" };
        sql.push(&format!(
            ", sd AS (SELECT {page}round(avg(deepest))::BIGINT AS scroll_depth FROM (SELECT {per}, max(scroll_depth) AS deepest"
        ));
        self.engagements_where(sql, site_id);
        sql.push(" AND scroll_depth IS NOT NULL AND scroll_depth <= 100");
        sql.push(&format!(" GROUP BY {per})"));
        if self.page_dim.is_some() {
            sql.push(" GROUP BY ALL");
        }
        sql.push(")");
    }

    /// `et`: Plausible's current time on page: the engaged time reported for the page(s), in
    /// seconds, per visit that reported any.
    fn engaged_time(&self, sql: &mut Sql, site_id: u32) {
        let page = self.page_dim.map(|i| format!("pathname AS et_d{i}, ")).unwrap_or_default();
        sql.push(&format!(
            ", et AS (SELECT {page}sum(engaged_ms) / 1000.0 / nullif(count(DISTINCT (visitor_id, visit_id)), 0) AS engaged"
        ));
        self.engagements_where(sql, site_id);
        if self.page_dim.is_some() {
            sql.push(" GROUP BY ALL");
        }
        sql.push(")");
    }

    /// ` FROM engagements WHERE ...`: the period's engagement reports of the visits with a
    /// matching event, on the matching pages.
    fn engagements_where(&self, sql: &mut Sql, site_id: u32) {
        sql.push(" FROM engagements WHERE site_id = ")
            .param(Value::UInt(site_id))
            .push(" AND ts >= ")
            .param(ts_param(self.period.start))
            .push(" AND ts < ")
            .param(ts_param(self.period.end));
        if !self.q.filters.is_empty() {
            sql.push(" AND visit_id IN (SELECT visit_id FROM matched)");
        }
        if self.page_dim.is_none() {
            sql.push(&format!(" AND pathname IN (SELECT pathname FROM {} WHERE name = 'pageview')", self.matched));
        }
    }

    /// `base` (only the columns this query reads: CTEs used twice are materialized),
    /// `visit_pages` and `matched`.
    fn base(&self, sql: &mut Sql, site_id: u32) {
        let (q, period) = (self.q, self.period);
        sql.push(&format!("WITH base AS (SELECT {} FROM events WHERE site_id = ", needed_columns(q).join(", ")))
            .param(Value::UInt(site_id))
            .push(" AND ts >= ")
            .param(ts_param(period.start))
            .push(" AND ts < ")
            .param(ts_param(period.end))
            .push(")");
        if mentions_visit_pages(q) {
            let hosts = if mentions_hostnames(q) {
                ", arg_min(hostname, ts) AS entry_hostname, arg_max(hostname, ts) AS exit_hostname"
            } else {
                ""
            };
            sql.push(&format!(
                ", visit_pages AS (SELECT visit_id, arg_min(pathname, ts) AS entry_page, arg_max(pathname, ts) AS exit_page{hosts} \
                 FROM base WHERE name = 'pageview' GROUP BY visit_id)"
            ));
        }
        // Without filters every event matches: read `base` directly.
        if !q.filters.is_empty() {
            sql.push(", matched AS (SELECT * FROM base WHERE ");
            where_filters(sql, &q.filters, self.goals);
            sql.push(")");
        }
    }

    /// One copy of each matching row per goal it reaches.
    fn goal_rows(&self, sql: &mut Sql) {
        let matched = self.matched;
        sql.push(", goal_rows AS (");
        if self.goals.is_empty() {
            sql.push(&format!("SELECT *, NULL::VARCHAR AS goal FROM {matched} WHERE false"));
        }
        for (i, g) in self.goals.iter().enumerate() {
            if i > 0 {
                sql.push(" UNION ALL ");
            }
            sql.push("SELECT *, ").text_param(&g.display_name).push(&format!(" AS goal FROM {matched} WHERE "));
            goal_condition(sql, g);
        }
        sql.push(")");
    }

    /// `ev`: event aggregates per group.
    fn event_aggregates(&self, sql: &mut Sql) {
        let dims = &self.q.dimensions;
        sql.push(", ev AS (SELECT ");
        for (i, d) in dims.iter().enumerate() {
            event_dim(sql, d, self.period);
            sql.push(&format!(" AS d{i}, "));
        }
        sql.push(&format!(
            "{} AS visitors, count(*) FILTER (WHERE name = 'pageview') AS pageviews, count(*) AS events",
            self.distinct
        ));
        if self.revenue() {
            let (amount, currency) = revenue_columns(self.q.revenue.as_ref());
            sql.push(&format!(
                ", sum({amount})::DOUBLE AS rev_sum, avg({amount})::DOUBLE AS rev_avg, \
                 count(DISTINCT {currency}) AS rev_ncur, min({currency}) AS rev_cur"
            ));
        }
        if self.fast {
            sql.push(
                ", sum(visit_start::INTEGER) AS visits, count(*) FILTER (WHERE name = 'pageview') AS pv_sum, \
                 sum(bounce_delta) AS bounces, sum(duration_delta) AS duration_sum",
            );
        }
        sql.push(" FROM ");
        sql.push(if self.goal_dim { "goal_rows" } else { self.matched });
        if dims.iter().any(|d| matches!(d, Dimension::Visit(v) if v.from_visit_pages())) {
            sql.push(" LEFT JOIN visit_pages USING (visit_id)");
        }
        self.group(sql);
        sql.push(")");
    }

    /// `visits` (one row per visit with a matching event) and `se` (visit aggregates per group).
    fn visit_aggregates(&self, sql: &mut Sql) {
        let dims = &self.q.dimensions;
        sql.push(", visits AS (SELECT visit_id, min(ts) AS vstart, max(ts) AS vend, ");
        sql.push("count(*) FILTER (WHERE name = 'pageview') AS pv, count(*) FILTER (WHERE name <> 'pageview') AS ce, ");
        sql.push("arg_min(pathname, ts) FILTER (WHERE name = 'pageview') AS entry_page, ");
        sql.push("arg_max(pathname, ts) FILTER (WHERE name = 'pageview') AS exit_page");
        for (i, d) in dims.iter().enumerate() {
            if let Some(col) = labelled_column(d).filter(|_| matches!(d, Dimension::Visit(_))) {
                sql.push(&format!(", arg_min({col}, ts) AS v{i}"));
            }
            match d {
                Dimension::Visit(VisitDim::EntryPageHostname) => {
                    sql.push(&format!(", arg_min(hostname, ts) FILTER (WHERE name = 'pageview') AS v{i}"));
                }
                Dimension::Visit(VisitDim::ExitPageHostname) => {
                    sql.push(&format!(", arg_max(hostname, ts) FILTER (WHERE name = 'pageview') AS v{i}"));
                }
                _ => {}
            }
        }
        sql.push(" FROM base");
        if !self.q.filters.is_empty() {
            sql.push(" WHERE visit_id IN (SELECT visit_id FROM matched)");
        }
        sql.push(" GROUP BY visit_id)");
        sql.push(", se AS (SELECT ");
        for (i, d) in dims.iter().enumerate() {
            sql.push(&format!("{} AS d{i}, ", visit_dim(d, i, self.period)));
        }
        sql.push(
            "count(*) AS visits, sum(pv) AS pv_sum, count(*) FILTER (WHERE pv <= 1 AND ce = 0) AS bounces, \
             avg((epoch_ms(vend) - epoch_ms(vstart)) / 1000.0) AS duration, \
             sum((epoch_ms(vend) - epoch_ms(vstart)) / 1000.0) AS duration_sum FROM visits",
        );
        self.group(sql);
        sql.push(")");
    }

    /// `tp`: the average time before the next pageview of the visit, per page or overall.
    fn time_on_page(&self, sql: &mut Sql) {
        sql.push(", tp AS (SELECT ");
        if let Some(i) = self.page_dim {
            sql.push(&format!("pathname AS tp_d{i}, "));
        }
        sql.push("avg(dt) AS time_on_page FROM (SELECT pathname, visit_id, (epoch_ms(lead(ts) OVER (PARTITION BY visit_id ORDER BY ts)) - epoch_ms(ts)) / 1000.0 AS dt FROM base WHERE name = 'pageview') WHERE dt IS NOT NULL");
        if !self.q.filters.is_empty() {
            sql.push(" AND visit_id IN (SELECT visit_id FROM matched)");
        }
        if self.page_dim.is_some() {
            sql.push(" GROUP BY ALL");
        } else {
            sql.push(&format!(" AND pathname IN (SELECT pathname FROM {} WHERE name = 'pageview')", self.matched));
        }
        sql.push(")");
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

/// Does the query need per-visit aggregates?
fn needs_visits(q: &Query) -> bool {
    q.metrics.iter().any(|m| m.is_session_metric())
}

fn needs_events(q: &Query) -> bool {
    q.metrics.iter().any(|m| !m.is_session_metric()) || !needs_visits(q)
}

fn mentions_any(q: &Query, dims: &[VisitDim]) -> bool {
    dims.iter()
        .map(|v| Dimension::Visit(*v))
        .any(|d| q.dimensions.contains(&d) || q.filters.iter().any(|f| f.mentions(&d)))
}

fn mentions_visit_pages(q: &Query) -> bool {
    mentions_any(q, &[VisitDim::ExitPage, VisitDim::EntryPageHostname, VisitDim::ExitPageHostname])
}

fn mentions_hostnames(q: &Query) -> bool {
    mentions_any(q, &[VisitDim::EntryPageHostname, VisitDim::ExitPageHostname])
}

/// Visit attributes stored on every event of the visit (so filtering rows by them keeps whole visits).
fn is_row_visit_attr(d: &Dimension) -> bool {
    matches!(d, Dimension::Visit(v) if !v.from_visit_pages())
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
        && !q.metrics.contains(&Metric::ScrollDepth)
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
        Dimension::Visit(v) if v.from_visit_pages() => {
            sql.push(&format!("visit_pages.{}", visit_pages_column(*v)));
        }
        other => {
            sql.push(&labelled_column(other).expect("row dimension"));
        }
    }
}

/// A row dimension's column as breakdowns show it: missing values are `(not set)` where
/// Plausible says so (its `field_or_blank_value`), which also keeps them one group when `ev`
/// and `se` are joined on the dimension. Filters read the raw column.
fn labelled_column(dim: &Dimension) -> Option<String> {
    let col = row_column(dim)?;
    let not_set = matches!(
        dim,
        Dimension::Visit(
            VisitDim::UtmSource
                | VisitDim::UtmMedium
                | VisitDim::UtmCampaign
                | VisitDim::UtmContent
                | VisitDim::UtmTerm
                | VisitDim::Device
                | VisitDim::Browser
                | VisitDim::BrowserVersion
                | VisitDim::Os
                | VisitDim::OsVersion
                | VisitDim::Country
                | VisitDim::CountryName
                | VisitDim::Region
                | VisitDim::RegionName
                | VisitDim::City
                | VisitDim::CityName
        )
    );
    Some(if not_set { format!("coalesce({col}, '{NOT_SET}')") } else { col.to_string() })
}

/// Plausible's label for a missing visit attribute.
const NOT_SET: &str = "(not set)";

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
            VisitDim::EntryPageHostname | VisitDim::ExitPageHostname => &["pathname", "hostname"],
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

/// Revenue amount and currency as summed: converted to a revenue goal's currency where a rate
/// is known, as stored otherwise (then mixed currencies stay mixed). Codes are validated ISO 4217
/// codes and rates finite numbers, so both are written as literals.
fn revenue_columns(conversion: Option<&RevenueConversion>) -> (String, String) {
    let Some(c) = conversion.filter(|c| !c.rates.is_empty()) else {
        return ("revenue_amount".into(), "revenue_currency".into());
    };
    let target = &c.currency;
    let cases: String = c.rates.iter().map(|(from, rate)| format!(" WHEN '{from}' THEN {rate:?}")).collect();
    let known: String = c.rates.iter().map(|(from, _)| format!(", '{from}'")).collect();
    (
        format!("(revenue_amount * CASE revenue_currency{cases} ELSE 1 END)"),
        format!("(CASE WHEN revenue_currency IN ('{target}'{known}) THEN '{target}' ELSE revenue_currency END)"),
    )
}

fn needed_columns(q: &Query) -> Vec<&'static str> {
    let mut cols = vec!["ts", "name", "visitor_id", "visit_id", "pathname"];
    if needs_visits(q) && fast_visits(q) {
        cols.extend(["visit_start", "bounce_delta", "duration_delta"]);
    }
    if q.metrics.iter().any(|m| m.is_revenue()) {
        cols.extend(["revenue_amount", "revenue_currency"]);
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

//! The CTEs of a report statement, one builder per metric family: `base`/`visit_pages`/`matched`
//! (the period's rows), `goal_rows`, `ev` (event aggregates), `visits`/`se` (visit aggregates),
//! `tp`/`et` (time on page), `sd` (scroll depth) and `gv` (group conversion rate).

use super::Plan;
use super::columns::{
    event_dim, labelled_column, mentions_hostnames, mentions_visit_pages, needed_columns, visit_dim, where_filters,
    without_goals,
};
use duckdb::types::Value;

use crate::adapters::duckdb::day_dims::events_in_ranges;
use crate::adapters::duckdb::day_reads::DayTotals;
use crate::adapters::duckdb::day_totals::{Rolled, RolledGroups};
use crate::adapters::duckdb::sql::{Sql, goal_condition, ts_param};
use crate::domain::query::{Dimension, EventDim, VisitDim};
use crate::domain::revenue_rates::RevenueConversion;

impl Plan<'_> {
    /// `gv`: visitors per group of the non-goal dimensions under the non-goal filters (the
    /// denominator of `group_conversion_rate`).
    pub(super) fn group_visitors(&self, sql: &mut Sql) {
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
    pub(super) fn scroll_depth(&self, sql: &mut Sql, site_id: u32) {
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
    pub(super) fn engaged_time(&self, sql: &mut Sql, site_id: u32) {
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
        sql.push(" FROM engagements WHERE ").site_period(site_id, self.period);
        if !self.q.filters.is_empty() {
            sql.push(" AND ");
            self.in_matched_visits(sql);
        }
        if self.page_dim.is_none() {
            sql.push(&format!(" AND pathname IN (SELECT pathname FROM {} WHERE name = 'pageview')", self.matched));
        }
    }

    /// `base` (only the columns this query reads: CTEs used twice are materialized),
    /// `visit_pages` and `matched`.
    pub(super) fn base(&self, sql: &mut Sql, site_id: u32) {
        let (q, period) = (self.q, self.period);
        sql.push(&format!("WITH base AS (SELECT {} FROM events WHERE ", needed_columns(q).join(", ")))
            .site_period(site_id, period)
            .push(")");
        if mentions_visit_pages(q) && !self.visit_level {
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
        if let Some((lo, hi)) = self.visit_ids {
            sql.push(&format!(
                ", mv AS (SELECT bitstring_agg(visit_id, {lo}::UBIGINT, {hi}::UBIGINT) AS bits FROM matched \
                 WHERE visit_id BETWEEN {lo} AND {hi})"
            ));
        }
        if let Some(folded) = self.folded {
            self.unfolded_rows(sql, site_id, folded);
        }
    }

    /// `tail`: the period's rows of the visits not read from `visit_ends`: those after the
    /// folded ones, and folded ones reaching over an end of the period (their rows in it are
    /// grouped like any visit's). Two scans: an `OR` would probe every row against the few.
    fn unfolded_rows(&self, sql: &mut Sql, site_id: u32, folded: u64) {
        let (cols, period) = (needed_columns(self.q).join(", "), self.period);
        sql.push(&format!(", tail AS (SELECT {cols} FROM events WHERE "))
            .site_period(site_id, period)
            .push(&format!(" AND visit_id > {folded} UNION ALL SELECT {cols} FROM events WHERE "))
            .site_period(site_id, period)
            .push(" AND visit_id IN (SELECT visit_id FROM visit_ends WHERE site_id = ")
            .param(Value::UInt(site_id))
            .push(&format!(" AND visit_id <= {folded} AND vend >= "))
            .param(ts_param(period.start))
            .push(" AND vstart < ")
            .param(ts_param(period.end))
            .push(" AND (vstart < ")
            .param(ts_param(period.start))
            .push(" OR vend >= ")
            .param(ts_param(period.end))
            .push(")))");
    }

    /// Grouped by the visits' exit pages.
    fn by_exit_page(&self) -> bool {
        self.q.dimensions.contains(&Dimension::Visit(VisitDim::ExitPage))
    }

    /// The folded visits wholly inside the period with a matching event, as rows of `visits`.
    fn folded_visits(&self, sql: &mut Sql, site_id: u32, folded: u64) {
        sql.push(
            " UNION ALL BY NAME SELECT visit_id, vstart, vend, visitor_id, pv::BIGINT AS pv, ce::BIGINT AS ce, \
             NULL::VARCHAR AS entry_page, exit_page FROM visit_ends WHERE site_id = ",
        )
        .param(Value::UInt(site_id))
        .push(&format!(" AND visit_id <= {folded} AND vstart >= "))
        .param(ts_param(self.period.start))
        .push(" AND vend < ")
        .param(ts_param(self.period.end));
        if self.by_exit_page() {
            sql.push(" AND pv > 0");
        }
        if !self.q.filters.is_empty() {
            sql.push(" AND ");
            self.in_matched_visits(sql);
        }
    }

    /// Whether the row's visit has a matching event: a bit of `mv` or a semi-join. Rows outside
    /// the range (stored after it was read) never match; the `CASE` keeps them off `get_bit`.
    fn in_matched_visits(&self, sql: &mut Sql) {
        match self.visit_ids {
            Some((lo, hi)) => sql.push(&format!(
                "(CASE WHEN visit_id BETWEEN {lo} AND {hi} \
                 THEN get_bit((SELECT bits FROM mv), (visit_id - {lo})::INTEGER) = 1 ELSE false END)"
            )),
            None => sql.push("visit_id IN (SELECT visit_id FROM matched)"),
        };
    }

    /// One copy of each matching row per goal it reaches.
    pub(super) fn goal_rows(&self, sql: &mut Sql) {
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
    pub(super) fn event_aggregates(&self, sql: &mut Sql, site_id: u32) {
        match &self.rolled {
            Some(Rolled::Total(totals)) => return rolled_total(sql, totals),
            Some(Rolled::Days { days, skip }) => return self.rolled_days(sql, site_id, *days, *skip),
            Some(Rolled::Groups(g)) => return rolled_groups(sql, site_id, self.period.tz.name(), g),
            None => {}
        }
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

    /// `ev` of a daily chart: the rolled days' rows (days without events left out, as events give
    /// no group for them), and the events of the period's other days (before and after `skip`)
    /// aggregated alike; the columns of the aggregates above.
    fn rolled_days(&self, sql: &mut Sql, site_id: u32, (first, after): (i64, i64), skip: (i64, i64)) {
        sql.push(&format!(", ev AS (SELECT *, pageviews AS pv_sum FROM (SELECT day AS d0, {DAY_COLUMNS} FROM day_totals WHERE site_id = "))
            .param(Value::UInt(site_id))
            .push(" AND tz = ")
            .text_param(self.period.tz.name())
            .push(" AND day >= ")
            .param(Value::BigInt(first))
            .push(" AND day < ")
            .param(Value::BigInt(after))
            .push(" AND events > 0 UNION ALL SELECT ");
        event_dim(sql, &self.q.dimensions[0], self.period);
        sql.push(
            " AS d0, count(DISTINCT visitor_id)::BIGINT, count(*) FILTER (WHERE name = 'pageview')::BIGINT, \
             count(*)::BIGINT, sum(visit_start::INTEGER)::BIGINT, sum(bounce_delta)::BIGINT, \
             sum(duration_delta)::BIGINT FROM (",
        );
        let columns =
            "SELECT ts, name, visitor_id, visit_start, bounce_delta, duration_delta FROM events WHERE site_id = ";
        for (i, (from, to)) in [(self.period.start, skip.0), (skip.1, self.period.end)].into_iter().enumerate() {
            if i > 0 {
                sql.push(" UNION ALL ");
            }
            sql.push(columns).param(Value::UInt(site_id)).push(" AND ts >= ").param(ts_param(from));
            sql.push(" AND ts < ").param(ts_param(to));
        }
        sql.push(") GROUP BY ALL))");
    }

    /// `se` from the per-event visit statistics (visit start, bounce and duration deltas) of
    /// every event of the visits with a matching event: a semi-join, no grouping by visit.
    pub(super) fn summed_visit_aggregates(&self, sql: &mut Sql) {
        sql.push(", se AS (SELECT ");
        for (i, d) in self.q.dimensions.iter().enumerate() {
            match d {
                Dimension::Event(EventDim::Page) => {
                    sql.push("entry_page");
                }
                d => event_dim(sql, d, self.period),
            }
            sql.push(&format!(" AS d{i}, "));
        }
        sql.push(
            "sum(visit_start::INTEGER) AS visits, count(*) FILTER (WHERE name = 'pageview') AS pv_sum, \
             sum(bounce_delta) AS bounces, sum(duration_delta) / nullif(sum(visit_start::INTEGER), 0) AS duration, \
             sum(duration_delta) AS duration_sum FROM base",
        );
        if !self.q.filters.is_empty() {
            sql.push(" WHERE ");
            self.in_matched_visits(sql);
        }
        self.group(sql);
        sql.push(")");
    }

    /// `ev` from the one-row-per-visit `visits` (see `visit_level`): each visit's events all
    /// fall in its group, so its visitor, pageviews and events count there.
    pub(super) fn visit_level_event_aggregates(&self, sql: &mut Sql) {
        sql.push(", ev AS (SELECT ");
        for (i, d) in self.q.dimensions.iter().enumerate() {
            sql.push(&format!("{} AS d{i}, ", visit_dim(d, i, self.period)));
        }
        sql.push(&format!("{} AS visitors, sum(pv) AS pageviews, sum(pv + ce) AS events FROM visits", self.distinct));
        self.group(sql);
        sql.push(")");
    }

    /// `visits` (one row per visit with a matching event) and `se` (visit aggregates per group).
    pub(super) fn visit_aggregates(&self, sql: &mut Sql, site_id: u32) {
        let dims = &self.q.dimensions;
        sql.push(", visits AS (SELECT visit_id, min(ts) AS vstart, max(ts) AS vend, ");
        if self.visit_level {
            sql.push("any_value(visitor_id) AS visitor_id, ");
        }
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
        sql.push(if self.folded.is_some() { " FROM tail" } else { " FROM base" });
        if !self.q.filters.is_empty() {
            sql.push(" WHERE ");
            self.in_matched_visits(sql);
        }
        sql.push(" GROUP BY visit_id");
        if self.by_exit_page() {
            // A visit without a pageview in the period has no exit page (and is no visit of one).
            sql.push(" HAVING count(*) FILTER (WHERE name = 'pageview') > 0");
        }
        if let Some(folded) = self.folded {
            self.folded_visits(sql, site_id, folded);
        }
        sql.push(")");
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
    /// With stored page gaps (see `PeriodFacts`) a plain aggregate by the previous page (a gap
    /// counts in the period of the pageview ending it); else a window over each visit.
    pub(super) fn time_on_page(&self, sql: &mut Sql) {
        let (page, average, rows) = if self.page_gaps {
            ("prev_page", "avg(page_gap_s)", "base WHERE name = 'pageview' AND prev_page IS NOT NULL")
        } else {
            (
                "pathname",
                "avg(dt)",
                "(SELECT pathname, visit_id, (epoch_ms(lead(ts) OVER (PARTITION BY visit_id ORDER BY ts)) - epoch_ms(ts) + 500) // 1000 AS dt FROM base WHERE name = 'pageview') WHERE dt IS NOT NULL",
            )
        };
        sql.push(", tp AS (SELECT ");
        if let Some(i) = self.page_dim {
            sql.push(&format!("{page} AS tp_d{i}, "));
        }
        sql.push(&format!("{average} AS time_on_page FROM {rows}"));
        if !self.q.filters.is_empty() {
            sql.push(" AND ");
            self.in_matched_visits(sql);
        }
        if self.page_dim.is_some() {
            sql.push(" GROUP BY ALL");
        } else {
            sql.push(&format!(" AND {page} IN (SELECT pathname FROM {} WHERE name = 'pageview')", self.matched));
        }
        sql.push(")");
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

/// The columns of `ev` `day_totals` gives, in `DayTotals::values`' order.
const DAY_COLUMNS: &str = "visitors, pageviews, events, visits, bounces, duration_sum";

/// `ev` of the period's KPIs added up from `day_totals`: constants, the aggregates' columns.
fn rolled_total(sql: &mut Sql, totals: &DayTotals) {
    let values = totals.values().map(|v| format!("{v}::BIGINT")).join(", ");
    sql.push(&format!(", ev AS (SELECT *, pageviews AS pv_sum FROM (VALUES ({values})) r({DAY_COLUMNS}))"));
}

/// `ev` of a breakdown by a rolled dimension (see `day_dims`): per value, the rows of the run's
/// days (visitors less those shared with the day before inside the run), the events of the rest
/// of the period aggregated alike, less the visitors of the rest also seen with the value on the
/// run's days near it; the columns of the aggregates above.
fn rolled_groups(
    sql: &mut Sql,
    site_id: u32,
    tz: &str,
    RolledGroups { dim, days: (first, after), rest, near, lowest }: &RolledGroups,
) {
    let value = crate::adapters::duckdb::day_dims::dim_expr(dim);
    let rest_columns = format!("{value} AS d0, visitor_id, name, visit_start, bounce_delta, duration_delta");
    sql.push(", ev AS (WITH rest AS (");
    events_in_ranges(sql, &rest_columns, site_id, rest, None);
    sql.push(&format!(
        ") SELECT d0, sum(visitors)::BIGINT AS visitors, sum(pageviews)::BIGINT AS pageviews, \
         sum(events)::BIGINT AS events, sum(visits)::BIGINT AS visits, sum(pageviews)::BIGINT AS pv_sum, \
         sum(bounces)::BIGINT AS bounces, sum(duration_sum)::BIGINT AS duration_sum FROM (\
         SELECT value AS d0, visitors - CASE WHEN day > {first} THEN shared_prev ELSE 0 END AS visitors, \
         pageviews, events, visits, bounces, duration_sum FROM day_dims WHERE site_id = "
    ))
    .param(Value::UInt(site_id))
    .push(" AND dim = ")
    .text_param(dim)
    .push(" AND tz = ")
    .text_param(tz)
    .push(&format!(
        " AND day >= {first} AND day < {after} UNION ALL SELECT d0, count(DISTINCT visitor_id), \
         count(*) FILTER (WHERE name = 'pageview'), count(*), sum(visit_start::INTEGER), sum(bounce_delta), \
         sum(duration_delta) FROM rest GROUP BY d0"
    ));
    if !near.is_empty() {
        sql.push(" UNION ALL SELECT d0, -count(*), 0, 0, 0, 0, 0 FROM (SELECT d0, visitor_id FROM (");
        events_in_ranges(sql, &format!("{value} AS d0, visitor_id"), site_id, near, Some(*lowest));
        sql.push(") INTERSECT SELECT d0, visitor_id FROM rest) GROUP BY d0");
    }
    sql.push(") GROUP BY d0)");
}

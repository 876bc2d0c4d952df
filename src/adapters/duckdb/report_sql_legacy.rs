//! Temporary: the builder as it was before the split, to prove the split generates the same SQL.
use duckdb::types::Value;

use super::*;
use crate::adapters::duckdb::reports::ts_param;
use crate::adapters::duckdb::sql::{Sql, bucket, column, goal_condition, prop_value, row_column};

pub fn build_sql(site_id: u32, q: &Query, period: &Period, goals: &[Goal], approx: bool) -> Sql {
    build(site_id, q, period, goals, approx, false)
}
pub fn build_totals_sql(site_id: u32, q: &Query, period: &Period, goals: &[Goal], approx: bool) -> Sql {
    build(site_id, q, period, goals, approx, true)
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

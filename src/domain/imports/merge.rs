//! Answering a query with imported history added (`include.imports`, Plausible's convention).
//! Imported numbers count only on days without native events, so nothing is counted twice;
//! both sides are summed from additive totals, then the ratios are computed once.

use std::collections::HashMap;

use super::{ImportDim, Totals};
use crate::domain::query::{
    Cell, Dimension, Direction, EventDim, Metric, OrderKey, Query, ResultRow, TimeGrain, VisitDim,
};

/// How imported rows are grouped for a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportGrouping {
    Total,
    Day,
    Month,
    Dim(ImportDim),
}

/// A group's additive numbers (dimension values already rendered as the answer shows them).
#[derive(Debug, Clone, PartialEq)]
pub struct TotalsRow {
    pub dimensions: Vec<Cell>,
    pub totals: Totals,
}

const METRICS: [Metric; 6] = [
    Metric::Visitors,
    Metric::Visits,
    Metric::Pageviews,
    Metric::BounceRate,
    Metric::VisitDuration,
    Metric::ViewsPerVisit,
];

/// Whether imports can answer `q`: the grouping to use, or the reason they are left out
/// (sent back as `meta.imports_warning`).
pub fn grouping(q: &Query) -> Result<ImportGrouping, String> {
    if let Some(m) = q.metrics.iter().find(|m| !METRICS.contains(m)) {
        return Err(format!(
            "Imported stats are not included: the metric {} is not kept for imported data.",
            m.as_str()
        ));
    }
    if !q.filters.is_empty() {
        return Err("Imported stats are not included in filtered queries.".into());
    }
    let g = match q.dimensions.as_slice() {
        [] => ImportGrouping::Total,
        [Dimension::Time(g)] => match q.period.resolve_grain(*g) {
            TimeGrain::Day => ImportGrouping::Day,
            TimeGrain::Month => ImportGrouping::Month,
            _ => return Err("Imported stats are kept per day: use time:day or time:month.".into()),
        },
        [Dimension::Event(EventDim::Page)] => ImportGrouping::Dim(ImportDim::Page),
        [Dimension::Visit(v)] => match v {
            VisitDim::Source => ImportGrouping::Dim(ImportDim::Source),
            VisitDim::Country => ImportGrouping::Dim(ImportDim::Country),
            VisitDim::Device => ImportGrouping::Dim(ImportDim::Device),
            VisitDim::Browser => ImportGrouping::Dim(ImportDim::Browser),
            VisitDim::Os => ImportGrouping::Dim(ImportDim::Os),
            _ => return Err(format!("Imported stats have no breakdown by visit:{}.", v.key())),
        },
        _ => {
            return Err(
                "Imported stats support one dimension: time:day, time:month, event:page, visit:source, visit:country, \
                 visit:device, visit:browser or visit:os."
                    .into(),
            );
        }
    };
    if g == ImportGrouping::Dim(ImportDim::Page) && q.metrics.contains(&Metric::ViewsPerVisit) {
        return Err("Imported stats have no views_per_visit per page.".into());
    }
    Ok(g)
}

fn metric_value(m: Metric, t: &Totals) -> Cell {
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    match m {
        Metric::Visitors => Cell::UInt(t.visitors),
        Metric::Visits => Cell::UInt(t.visits),
        Metric::Pageviews => Cell::UInt(t.pageviews),
        Metric::BounceRate => Cell::Int((100.0 * ratio(t.bounces, t.visits)).round() as i64),
        Metric::VisitDuration => Cell::Int(ratio(t.visit_duration, t.visits).round() as i64),
        Metric::ViewsPerVisit => Cell::Float((ratio(t.pageviews, t.visits) * 100.0).round() / 100.0),
        _ => Cell::Null,
    }
}

/// A group's key: its dimension values as JSON text.
fn row_key(dimensions: &[Cell]) -> String {
    serde_json::Value::Array(dimensions.iter().map(Cell::to_json).collect()).to_string()
}

/// Sums native and imported totals per group and renders the query's metrics, sorted and paged
/// as the engine would. Returns the page of rows and the row count before paging.
pub fn merge(q: &Query, native: Vec<TotalsRow>, imported: Vec<TotalsRow>) -> (Vec<ResultRow>, u64) {
    let mut groups: Vec<(Vec<Cell>, Totals)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in native.into_iter().chain(imported) {
        let key = row_key(&row.dimensions);
        match index.get(&key) {
            Some(&i) => groups[i].1.add(&row.totals),
            None => {
                index.insert(key, groups.len());
                groups.push((row.dimensions, row.totals));
            }
        }
    }
    if q.dimensions.is_empty() && groups.is_empty() {
        groups.push((vec![], Totals::default()));
    }
    let mut rows: Vec<ResultRow> = groups
        .into_iter()
        .map(|(dimensions, t)| ResultRow {
            dimensions,
            metrics: q.metrics.iter().map(|m| metric_value(*m, &t)).collect(),
        })
        .collect();
    let mut keys: Vec<(Option<usize>, Option<usize>, Direction)> = Vec::new();
    for (key, dir) in &q.order_by {
        match key {
            OrderKey::Metric(m) => keys.push((q.metrics.iter().position(|x| x == m), None, *dir)),
            OrderKey::Dimension(d) => keys.push((None, q.dimensions.iter().position(|x| x == d), *dir)),
        }
    }
    if q.order_by.is_empty() {
        if let Some(i) = q.dimensions.iter().position(|d| matches!(d, Dimension::Time(_))) {
            keys.push((None, Some(i), Direction::Asc));
        }
        keys.push((Some(0), None, Direction::Desc));
    }
    for i in 0..q.dimensions.len() {
        keys.push((None, Some(i), Direction::Asc));
    }
    rows.sort_by(|a, b| {
        for (m, d, dir) in &keys {
            let (x, y) = match (m, d) {
                (Some(i), _) => (&a.metrics[*i], &b.metrics[*i]),
                (_, Some(i)) => (&a.dimensions[*i], &b.dimensions[*i]),
                _ => continue,
            };
            let o = x.sort_cmp(y);
            let o = if *dir == Direction::Desc && !x.is_null() && !y.is_null() { o.reverse() } else { o };
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    });
    let total = rows.len() as u64;
    let page = rows.into_iter().skip(q.offset).take(q.limit).collect();
    (page, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::query::parse_query;
    use serde_json::{Value, json};

    fn js(cells: &[Cell]) -> Vec<Value> {
        cells.iter().map(Cell::to_json).collect()
    }

    fn query(body: Value) -> Query {
        let now = chrono::DateTime::parse_from_rfc3339("2026-06-15T12:00:00Z").unwrap().timestamp_micros();
        parse_query(&body, chrono_tz::UTC, now, None).unwrap()
    }

    fn t(visitors: u64, visits: u64, pageviews: u64, bounces: u64, duration: u64) -> Totals {
        Totals { visitors, visits, pageviews, bounces, visit_duration: duration }
    }

    #[test]
    fn sums_then_divides() {
        let q = query(json!({"site_id": "a.test", "date_range": "30d", "include": {"imports": true},
            "metrics": ["visitors", "visits", "bounce_rate", "visit_duration", "views_per_visit"]}));
        assert_eq!(grouping(&q), Ok(ImportGrouping::Total));
        let (rows, _) = merge(
            &q,
            vec![TotalsRow { dimensions: vec![], totals: t(10, 10, 20, 5, 100) }],
            vec![TotalsRow { dimensions: vec![], totals: t(30, 30, 30, 25, 500) }],
        );
        assert_eq!(js(&rows[0].metrics), vec![json!(40), json!(40), json!(75), json!(15), json!(1.25)]);
    }

    #[test]
    fn breakdowns_merge_by_value_and_sort() {
        let q = query(json!({"site_id": "a.test", "date_range": "30d", "metrics": ["visitors"],
            "dimensions": ["visit:source"], "pagination": {"limit": 2}}));
        let (rows, total) = merge(
            &q,
            vec![TotalsRow { dimensions: vec![Cell::from("Google")], totals: t(3, 3, 3, 0, 0) }],
            vec![
                TotalsRow { dimensions: vec![Cell::from("Google")], totals: t(4, 4, 4, 0, 0) },
                TotalsRow { dimensions: vec![Cell::from("Bing")], totals: t(5, 5, 5, 0, 0) },
                TotalsRow { dimensions: vec![Cell::from("DDG")], totals: t(1, 1, 1, 0, 0) },
            ],
        );
        assert_eq!(total, 3);
        assert_eq!(js(&rows[0].dimensions), vec![json!("Google")]);
        assert_eq!(js(&rows[0].metrics), vec![json!(7)]);
        assert_eq!(js(&rows[1].dimensions), vec![json!("Bing")]);
    }

    #[test]
    fn unsupported_combinations_are_named() {
        let q = query(json!({"site_id": "a.test", "date_range": "30d", "metrics": ["events"]}));
        assert!(grouping(&q).unwrap_err().contains("events"));
        let q = query(json!({"site_id": "a.test", "date_range": "30d", "metrics": ["visitors"],
            "filters": [["is", "event:page", ["/"]]]}));
        assert!(grouping(&q).unwrap_err().contains("filtered"));
        let q = query(
            json!({"site_id": "a.test", "date_range": "30d", "metrics": ["visitors"], "dimensions": ["visit:city"]}),
        );
        assert!(grouping(&q).is_err());
    }
}

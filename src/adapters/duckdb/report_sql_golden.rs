//! The report SQL is part of the benchmarked contract (BENCHMARKS.md's 10 M-event queries): this
//! test pins the generated text and parameters for a spread of queries, so moving the builder
//! around cannot change what DuckDB runs. Regenerate with `HITKEEP_BLESS_SQL=1` after an
//! intended change (and re-run the benchmark).

use serde_json::{Value, json};

use super::report_sql::{PeriodFacts, build_sql, build_totals_sql};
use crate::domain::query::{Goal, GoalKind, parse_query};

const GOLDEN: &str = "src/adapters/duckdb/testdata/report_sql.txt";
const NOW: i64 = 1_710_496_800_000_000; // 2024-03-15T10:00:00Z

fn queries() -> Vec<Value> {
    let base = |extra: Value| {
        let mut q = json!({"site_id": "s.test", "date_range": "7d", "metrics": ["visitors"]});
        for (k, v) in extra.as_object().expect("object") {
            q[k] = v.clone();
        }
        q
    };
    vec![
        base(json!({})),
        base(
            json!({"metrics": ["visitors", "pageviews", "events", "visits", "bounce_rate", "visit_duration", "views_per_visit"]}),
        ),
        base(json!({"metrics": ["visits", "bounce_rate"], "dimensions": ["visit:source"]})),
        base(json!({"metrics": ["visitors", "visit_duration"], "dimensions": ["event:page"]})),
        base(json!({"metrics": ["visitors", "bounce_rate"], "dimensions": ["visit:exit_page"]})),
        base(
            json!({"metrics": ["visitors", "percentage"], "dimensions": ["visit:country_name"], "order_by": [["visitors", "asc"]]}),
        ),
        base(json!({"metrics": ["visitors", "conversion_rate"], "dimensions": ["event:goal"]})),
        base(json!({"metrics": ["visitors", "conversion_rate"], "filters": [["is", "event:goal", ["Signup"]]]})),
        base(json!({"metrics": ["pageviews", "time_on_page"], "dimensions": ["event:page"]})),
        base(json!({"metrics": ["time_on_page"], "filters": [["is", "event:page", ["/a"]]]})),
        base(
            json!({"metrics": ["visitors", "visits"], "dimensions": ["time:day", "visit:browser"], "pagination": {"limit": 5, "offset": 10}}),
        ),
        base(json!({"dimensions": ["time:hour"], "date_range": "day"})),
        base(
            json!({"dimensions": ["event:props:plan"], "filters": [["contains", "event:props:plan", ["pro"], {"case_sensitive": false}]]}),
        ),
        base(
            json!({"metrics": ["visits", "visit_duration"], "filters": [["or", [["matches", "event:page", ["^/b"]], ["not", ["is", "visit:device", ["Mobile"]]]]], ["has_done", ["is", "event:name", ["Signup"]]]]}),
        ),
        base(
            json!({"metrics": ["visits"], "filters": [["has_not_done", ["matches_wildcard", "event:page", ["/x/**"]]]], "dimensions": ["visit:entry_page"]}),
        ),
        base(json!({"dimensions": ["event:hostname", "visit:utm_campaign"], "order_by": [["event:hostname", "desc"]]})),
        base(
            json!({"metrics": ["visitors", "visits"], "dimensions": ["visit:exit_page"], "filters": [["is", "visit:source", ["Google"]]]}),
        ),
    ]
}

fn goals() -> Vec<Goal> {
    vec![
        Goal { id: 1, display_name: "Signup".into(), kind: GoalKind::Event("Signup".into()), currency: None },
        Goal { id: 2, display_name: "Docs".into(), kind: GoalKind::Page("/docs/**".into()), currency: None },
    ]
}

fn render() -> String {
    let mut out = String::new();
    for body in queries() {
        let q = parse_query(&body, chrono_tz::Europe::Berlin, NOW, None).expect("valid query");
        out.push_str(&format!("# {body}\n"));
        // Exact and approximate visitors; the second also with the stored page gaps and a
        // bitmap of the matching visits.
        for approx in [false, true] {
            let facts = PeriodFacts {
                approx,
                page_gaps: approx,
                visit_ids: approx.then_some((100, 900)),
                folded: approx.then_some(500),
                rolled: None,
            };
            let sql = build_sql(7, &q, &q.period, &goals(), facts);
            out.push_str(&format!("{}\n{:?}\n", sql.text, sql.params));
        }
        let mut raw = q.clone();
        raw.metrics = vec![
            crate::domain::query::Metric::Visitors,
            crate::domain::query::Metric::Pageviews,
            crate::domain::query::Metric::Visits,
        ];
        raw.order_by.clear();
        let sql = build_totals_sql(7, &raw, &q.period, &goals(), PeriodFacts::default());
        out.push_str(&format!("totals: {}\n{:?}\n\n", sql.text, sql.params));
    }
    render_day_totals(&mut out);
    out
}

/// The KPIs and a daily chart read from `day_totals`, a breakdown from `day_dims`.
fn render_day_totals(out: &mut String) {
    use super::day_reads::DayTotals;
    use super::day_totals::{Rolled, RolledGroups};
    let day = DayTotals { visitors: 5, pageviews: 9, events: 11, visits: 6, bounces: 2, duration_sum: 300 };
    let kpis = json!({"site_id": "s.test", "date_range": "30d", "metrics": ["visitors", "visits", "bounce_rate", "visit_duration", "views_per_visit"]});
    let chart = json!({"site_id": "s.test", "date_range": "30d", "metrics": ["visitors", "pageviews"], "dimensions": ["time:day"]});
    for (body, rolled) in [
        (kpis, Rolled::Total(day)),
        (chart, Rolled::Days { days: (19_700, 19_702), skip: (1_702_000_000_000_000, 1_702_172_800_000_000) }),
        (
            json!({"site_id": "s.test", "date_range": "30d", "metrics": ["visitors", "bounce_rate"], "dimensions": ["visit:source"], "pagination": {"limit": 10}}),
            Rolled::Groups(RolledGroups {
                dim: "source",
                days: (19_700, 19_702),
                rest: [(1_701_900_000_000_000, 1_702_000_000_000_000), (1_702_172_800_000_000, 1_702_200_000_000_000)],
                near: vec![(1_702_000_000_000_000, 1_702_172_800_000_000)],
                lowest: 1 << 48,
            }),
        ),
    ] {
        let q = parse_query(&body, chrono_tz::Europe::Berlin, NOW, None).expect("valid query");
        let facts = PeriodFacts { rolled: Some(rolled), ..PeriodFacts::default() };
        let sql = build_sql(7, &q, &q.period, &goals(), facts);
        out.push_str(&format!("# day_totals {body}\n{}\n{:?}\n\n", sql.text, sql.params));
    }
}

#[test]
fn report_sql_is_unchanged() {
    let got = render();
    if std::env::var_os("HITKEEP_BLESS_SQL").is_some() {
        // The checkout being tested (cargo sets this when it runs the test), not the one the
        // binary was first compiled in: a reused target directory may come from another clone.
        let root = std::env::var("CARGO_MANIFEST_DIR").expect("run through cargo test");
        std::fs::write(std::path::Path::new(&root).join(GOLDEN), &got).expect("write golden");
        return;
    }
    // Compiled in, so an edited golden file rebuilds the test.
    let want = include_str!("testdata/report_sql.txt");
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {} of {GOLDEN} differs", i + 1);
    }
    assert_eq!(got.lines().count(), want.lines().count(), "{GOLDEN} has another number of lines");
}

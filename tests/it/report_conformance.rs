//! The query engine port's conformance suite (`ports::reports::ReportStore`), atuin style: one
//! generic check over the trait, run against every adapter - DuckDB on a file and DuckDB in
//! memory - with a small dataset whose answers are counted by hand below.

use std::sync::Arc;

use hitkeep::adapters::duckdb::{Database, DuckEventStore, DuckReports, DuckSettings};
use hitkeep::domain::channel::Channel;
use hitkeep::domain::client::DeviceClass;
use hitkeep::domain::event::{Event, Location, TrafficSource, VisitStats};
use hitkeep::domain::page::Utm;
use hitkeep::domain::query::{Cell, Goal, GoalKind, parse_query};
use hitkeep::ports::reports::ReportStore;
use hitkeep::ports::store::{EventStore, WriteBatch};
use serde_json::{Value, json};

const DAY0: i64 = 1_709_596_800_000_000; // 2024-03-05T00:00:00Z
const T0: i64 = DAY0 + 10 * 3_600_000_000; // 10:00 on the first day
const MIN: i64 = 60_000_000;

/// (offset from T0, visitor, visit, event name, page, browser, visit stats)
type Row = (i64, u64, u64, &'static str, &'static str, &'static str, (bool, i8, u32));

/// Visit 1 (visitor 1, Chrome): `/`, `/pricing`, then a Signup on `/pricing`: 2 minutes long.
/// Visit 2 (visitor 2, Firefox): `/` only, an hour later: a bounce.
/// Visit 3 (visitor 1, Chrome): `/blog` only, the next day: a bounce.
const ROWS: [Row; 5] = [
    (0, 1, 1, "pageview", "/", "Chrome", (true, 1, 0)),
    (MIN, 1, 1, "pageview", "/pricing", "Chrome", (false, -1, 60)),
    (2 * MIN, 1, 1, "Signup", "/pricing", "Chrome", (false, 0, 60)),
    (60 * MIN, 2, 2, "pageview", "/", "Firefox", (true, 1, 0)),
    (24 * 60 * MIN, 1, 3, "pageview", "/blog", "Chrome", (true, 1, 0)),
];

fn events() -> Vec<Event> {
    ROWS.iter()
        .map(|&(offset, visitor, visit, name, page, browser, (start, bounce, duration))| {
            let entry = ROWS.iter().find(|r| r.2 == visit).expect("first event").4;
            Event {
                visit_stats: VisitStats {
                    visit_start: start,
                    bounce_delta: bounce,
                    duration_delta: duration,
                    previous_page: None,
                },
                revenue: None,
                engagement: None,
                ts: T0 + offset,
                site_id: 1,
                name: name.into(),
                visitor_id: visitor,
                visit_id: visit,
                hostname: "c.test".into(),
                pathname: page.into(),
                traffic: Arc::new(TrafficSource {
                    entry_page: entry.into(),
                    referrer: None,
                    source: None,
                    channel: Channel::Direct,
                    utm: Utm::default(),
                }),
                location: Location::default(),
                browser: Some(browser.into()),
                browser_version: None,
                os: None,
                os_version: None,
                device: DeviceClass::Desktop,
                screen: None,
                language: None,
                props: vec![],
            }
        })
        .collect()
}

/// (dimensions, metrics) of each row, as JSON.
fn ask(engine: &dyn ReportStore, body: Value, goals: &[Goal]) -> Vec<(Vec<Value>, Vec<Value>)> {
    let mut body = body;
    body["site_id"] = json!("c.test");
    body["date_range"] = json!(["2024-03-05", "2024-03-06"]);
    let q = parse_query(&body, chrono_tz::UTC, DAY0 + 3 * 86_400_000_000, None).expect("valid query");
    let json = |cells: Vec<Cell>| cells.iter().map(Cell::to_json).collect();
    let answer = engine.query(1, &q, &q.period, goals).expect("answer");
    answer.rows.into_iter().map(|r| (json(r.dimensions), json(r.metrics))).collect()
}

/// What every `ReportStore` must answer for [`ROWS`].
fn conformance(engine: &dyn ReportStore) {
    let totals = ask(
        engine,
        json!({"metrics": ["visitors", "visits", "pageviews", "events", "bounce_rate", "visit_duration"]}),
        &[],
    );
    // 2 people, 3 visits, 4 pageviews, 5 events; visits 2 and 3 bounced (67 %); 120 s / 3 visits.
    assert_eq!(totals, vec![(vec![], vec![json!(2), json!(3), json!(4), json!(5), json!(67), json!(40)])]);

    let pages = ask(engine, json!({"metrics": ["visitors", "pageviews"], "dimensions": ["event:page"]}), &[]);
    assert_eq!(
        pages,
        vec![
            (vec![json!("/")], vec![json!(2), json!(2)]),
            (vec![json!("/blog")], vec![json!(1), json!(1)]),
            (vec![json!("/pricing")], vec![json!(1), json!(1)]),
        ]
    );

    let days = ask(engine, json!({"metrics": ["visitors", "pageviews"], "dimensions": ["time:day"]}), &[]);
    assert_eq!(
        days,
        vec![
            (vec![json!("2024-03-05")], vec![json!(2), json!(3)]),
            (vec![json!("2024-03-06")], vec![json!(1), json!(1)]),
        ]
    );

    let firefox = ask(engine, json!({"metrics": ["visitors"], "filters": [["is", "visit:browser", ["Firefox"]]]}), &[]);
    assert_eq!(firefox, vec![(vec![], vec![json!(1)])]);

    let signup =
        Goal { id: 1, display_name: "Signed up".into(), kind: GoalKind::Event("Signup".into()), currency: None };
    let goals = ask(engine, json!({"metrics": ["visitors"], "dimensions": ["event:goal"]}), &[signup]);
    assert_eq!(goals, vec![(vec![json!("Signed up")], vec![json!(1)])]);

    assert_eq!(engine.first_event_micros(1).expect("first"), Some(T0));
    assert_eq!(engine.first_event_micros(2).expect("first"), None);
    // Since 10:30: visitor 2 at 11:00 and visitor 1 the next day.
    assert_eq!(engine.current_visitors(1, T0 + 30 * MIN).expect("count"), 2);

    let q = parse_query(
        &json!({"site_id": "c.test", "date_range": ["2024-03-05", "2024-03-06"], "metrics": ["visitors"]}),
        chrono_tz::UTC,
        DAY0,
        None,
    )
    .expect("valid");
    let steps = [GoalKind::Page("/".into()), GoalKind::Event("Signup".into())];
    assert_eq!(engine.funnel(1, &q.period, &steps).expect("funnel"), vec![2, 1]);
    assert_eq!(engine.web_vitals(1, &q.period, None).expect("vitals").len(), 0);
}

fn load(db: &Database) -> DuckReports {
    let mut store = DuckEventStore::new(db.connect().expect("connect"));
    store.append(WriteBatch::events(&events())).expect("append");
    DuckReports::new(db.connect().expect("connect"), u64::MAX)
}

#[test]
fn duckdb_in_memory_conforms() {
    let db = Database::open_in_memory().expect("open");
    conformance(&load(&db));
}

#[test]
fn duckdb_file_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Database::open(&dir.path().join("hitkeep.db"), &DuckSettings::default()).expect("open");
    conformance(&load(&db));
}

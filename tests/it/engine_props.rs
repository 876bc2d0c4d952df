//! Property test: random valid queries answered by the DuckDB engine equal a straightforward
//! computation over the same raw events (written independently, in plain Rust).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use hitkeep::adapters::duckdb::{Database, DuckEventStore, DuckReports, DuckVisitFolder, fold_until};
use hitkeep::adapters::memory::report_cache::{CachedReports, DataVersions};
use hitkeep::domain::channel::Channel;
use hitkeep::domain::client::DeviceClass;
use hitkeep::domain::event::{Event, Location, PreviousPage, TrafficSource, VisitStats};
use hitkeep::domain::page::Utm;
use hitkeep::domain::query::{Cell, GoalKind, parse_query};
use hitkeep::ports::reports::ReportStore;
use hitkeep::ports::store::{EventStore, WriteBatch};
use hitkeep::ports::visit_folding::VisitFolding;
use proptest::prelude::*;
use serde_json::{Value, json};

const DAY0: i64 = 1_709_596_800_000_000; // 2024-03-05T00:00:00Z
const PAGES: [&str; 4] = ["/", "/pricing", "/blog", "/docs"];
const SOURCES: [Option<&str>; 3] = [None, Some("Google"), Some("Twitter")];
const BROWSERS: [&str; 2] = ["Chrome", "Firefox"];

#[derive(Debug, Clone)]
struct Ev {
    ts: i64,
    visitor: u64,
    visit: u64,
    pageview: bool,
    page: usize,
    source: usize,
    browser: usize,
}

/// Visits of 1-5 events, a few minutes apart, spread over two days.
fn dataset() -> impl Strategy<Value = Vec<Ev>> {
    dataset_starting(0..2 * 24 * 60)
}

/// Visits starting in the hour around the midnight between the two days: many cross it (the
/// edge of a one-day period).
fn midnight_dataset() -> impl Strategy<Value = Vec<Ev>> {
    dataset_starting(24 * 60 - 40..24 * 60 + 20)
}

/// Visits of 1-5 events, a few minutes apart, starting at minutes `starts` after DAY0.
fn dataset_starting(starts: std::ops::Range<i64>) -> impl Strategy<Value = Vec<Ev>> {
    prop::collection::vec(
        (0u64..6, 0usize..3, 0usize..2, starts, prop::collection::vec((any::<bool>(), 0usize..4, 0i64..10), 1..5)),
        1..12,
    )
    .prop_map(|visits| {
        let mut out = Vec::new();
        for (i, (visitor, source, browser, start_min, events)) in visits.into_iter().enumerate() {
            let mut t = DAY0 + start_min * 60_000_000;
            for (j, (custom, page, gap)) in events.into_iter().enumerate() {
                out.push(Ev {
                    ts: t,
                    visitor,
                    visit: i as u64 + 1,
                    pageview: j == 0 || !custom,
                    page,
                    source,
                    browser,
                });
                t += (gap + 1) * 60_000_000;
            }
        }
        out.sort_by_key(|e| e.ts);
        out
    })
}

/// Visits over a week. Half the time a visitor's id is new on each day a visit of theirs starts
/// (as daily salts make them; a visit over midnight keeps its id), else the few ids recur on any
/// day (with gaps: the day totals must then not be added up).
fn week_dataset() -> impl Strategy<Value = Vec<Ev>> {
    // Half the datasets start their visits around a midnight, moved to a random day each.
    let around_midnights = (midnight_dataset(), prop::collection::vec(0i64..6, 1..6)).prop_map(|(mut evs, days)| {
        for e in &mut evs {
            e.ts += days[e.visit as usize % days.len()] * 86_400_000_000;
        }
        evs.sort_by_key(|e| e.ts);
        evs
    });
    (prop_oneof![dataset_starting(0..7 * 24 * 60), around_midnights], any::<bool>()).prop_map(|(mut evs, salted)| {
        if salted {
            let mut start_day: BTreeMap<u64, i64> = BTreeMap::new();
            for e in &evs {
                start_day.entry(e.visit).or_insert((e.ts - DAY0).div_euclid(86_400_000_000));
            }
            for e in &mut evs {
                e.visitor += 100 * start_day[&e.visit] as u64;
            }
        }
        evs
    })
}

/// What the writer stores with each event, computed here from the whole dataset.
fn to_event(e: &Ev, all: &[Ev]) -> Event {
    let visit: Vec<&Ev> = all.iter().filter(|x| x.visit == e.visit).collect();
    let pos = visit.iter().position(|x| std::ptr::eq(*x, e)).expect("member");
    let first = visit[0];
    let visit_stats = VisitStats {
        visit_start: pos == 0,
        bounce_delta: match pos {
            0 => first.pageview as i8,
            1 if first.pageview => -1,
            _ => 0,
        },
        duration_delta: if pos == 0 { 0 } else { ((e.ts - visit[pos - 1].ts) / 1_000_000) as u32 },
        previous_page: visit[..pos]
            .iter()
            .rev()
            .find(|x| x.pageview)
            .filter(|_| e.pageview)
            .map(|p| PreviousPage { path: PAGES[p.page].into(), gap_ms: ((e.ts - p.ts) / 1000) as u32 }),
    };
    Event {
        visit_stats,
        revenue: None,
        engagement: None,
        ts: e.ts,
        site_id: 1,
        name: if e.pageview { "pageview".into() } else { "Signup".into() },
        visitor_id: e.visitor,
        visit_id: e.visit,
        hostname: "p.test".into(),
        pathname: PAGES[e.page].into(),
        traffic: Arc::new(TrafficSource {
            entry_page: PAGES[first.page].into(),
            referrer: None,
            source: SOURCES[e.source].map(str::to_string),
            channel: Channel::Direct,
            utm: Utm::default(),
        }),
        location: Location::default(),
        browser: Some(BROWSERS[e.browser].into()),
        browser_version: None,
        os: None,
        os_version: None,
        device: DeviceClass::Desktop,
        screen: None,
        language: None,
        props: vec![],
    }
}

#[derive(Debug, Clone)]
enum F {
    None,
    PageIs(usize),
    PageContains(&'static str),
    SourceIs(usize),
    BrowserIsNot(usize),
    /// `has_done` (false) or `has_not_done` (true) a Signup in the visit.
    SignedUp(bool),
}

fn filter_json(f: &F) -> Value {
    let source = |i: usize| SOURCES[i].unwrap_or("Direct / None");
    match f {
        F::None => json!([]),
        F::PageIs(p) => json!([["is", "event:page", [PAGES[*p]]]]),
        F::PageContains(s) => json!([["contains", "event:page", [s]]]),
        F::SourceIs(i) => json!([["is", "visit:source", [source(*i)]]]),
        F::BrowserIsNot(b) => json!([["is_not", "visit:browser", [BROWSERS[*b]]]]),
        F::SignedUp(negated) => {
            json!([[if *negated { "has_not_done" } else { "has_done" }, ["is", "event:name", ["Signup"]]]])
        }
    }
}

/// Whether `e` passes `f`; visit conditions look at the events of its visit in `range`.
fn matches(f: &F, e: &Ev, evs: &[Ev], range: (i64, i64)) -> bool {
    match f {
        F::SignedUp(negated) => {
            let signup = evs.iter().any(|x| x.visit == e.visit && !x.pageview && x.ts >= range.0 && x.ts < range.1);
            signup != *negated
        }
        F::None => true,
        F::PageIs(p) => e.page == *p,
        F::PageContains(s) => PAGES[e.page].contains(s),
        F::SourceIs(i) => e.source == *i,
        F::BrowserIsNot(b) => e.browser != *b,
    }
}

fn filters() -> impl Strategy<Value = F> {
    prop_oneof![
        Just(F::None),
        (0usize..4).prop_map(F::PageIs),
        prop::sample::select(vec!["o", "pric", "/b"]).prop_map(F::PageContains),
        (0usize..3).prop_map(F::SourceIs),
        (0usize..2).prop_map(F::BrowserIsNot),
        any::<bool>().prop_map(F::SignedUp),
    ]
}

/// Expected rows keyed by dimension value (or "" without a dimension): (visitors, pageviews, events).
fn expected_event_metrics(
    evs: &[Ev],
    f: &F,
    dim: Option<&str>,
    range: (i64, i64),
) -> BTreeMap<String, (u64, u64, u64)> {
    let mut groups: BTreeMap<String, (BTreeSet<u64>, u64, u64)> = BTreeMap::new();
    for e in evs.iter().filter(|e| e.ts >= range.0 && e.ts < range.1 && matches(f, e, evs, range)) {
        let key = match dim {
            Some("event:page") => PAGES[e.page].to_string(),
            Some("visit:source") => SOURCES[e.source].unwrap_or("Direct / None").to_string(),
            Some("visit:browser") => BROWSERS[e.browser].to_string(),
            _ => String::new(),
        };
        let g = groups.entry(key).or_default();
        g.0.insert(e.visitor);
        g.1 += e.pageview as u64;
        g.2 += 1;
    }
    groups.into_iter().map(|(k, (v, p, n))| (k, (v.len() as u64, p, n))).collect()
}

/// Expected (visits, bounce_rate, visit_duration) per source, per landing page (the page
/// dimension of visit metrics) or overall.
fn expected_visit_metrics(
    evs: &[Ev],
    f: &F,
    dim: Option<&str>,
    range: (i64, i64),
) -> BTreeMap<String, (u64, i64, i64)> {
    let in_range: Vec<&Ev> = evs.iter().filter(|e| e.ts >= range.0 && e.ts < range.1).collect();
    let visits: BTreeSet<u64> = in_range.iter().filter(|e| matches(f, e, evs, range)).map(|e| e.visit).collect();
    let mut groups: BTreeMap<String, Vec<(bool, i64)>> = BTreeMap::new();
    for v in visits {
        let es: Vec<&&Ev> = in_range.iter().filter(|e| e.visit == v).collect();
        let pv = es.iter().filter(|e| e.pageview).count();
        let ce = es.len() - pv;
        let dur = (es.iter().map(|e| e.ts).max().unwrap() - es.iter().map(|e| e.ts).min().unwrap()) / 1_000_000;
        let key = match dim {
            Some("visit:source") => SOURCES[es[0].source].unwrap_or("Direct / None").to_string(),
            Some("event:page") => PAGES[es[0].page].to_string(),
            _ => String::new(),
        };
        groups.entry(key).or_default().push((pv <= 1 && ce == 0, dur));
    }
    groups
        .into_iter()
        .map(|(k, vs)| {
            let n = vs.len() as f64;
            let bounce = (100.0 * vs.iter().filter(|v| v.0).count() as f64 / n).round() as i64;
            let dur = (vs.iter().map(|v| v.1 as f64).sum::<f64>() / n).round() as i64;
            (k, (vs.len() as u64, bounce, dur))
        })
        .collect()
}

/// Expected (visitors, visits, pageviews) per exit page (the last pageview's page) of the
/// visits whose events pass `f` (a filter on visit attributes).
fn expected_exit_pages(evs: &[Ev], f: &F, range: (i64, i64)) -> BTreeMap<String, (u64, u64, u64)> {
    let in_range: Vec<&Ev> =
        evs.iter().filter(|e| e.ts >= range.0 && e.ts < range.1 && matches(f, e, evs, range)).collect();
    let visits: BTreeSet<u64> = in_range.iter().map(|e| e.visit).collect();
    let mut groups: BTreeMap<String, (BTreeSet<u64>, u64, u64)> = BTreeMap::new();
    for v in visits {
        let pvs: Vec<&&Ev> = in_range.iter().filter(|e| e.visit == v && e.pageview).collect();
        let Some(last) = pvs.iter().max_by_key(|e| e.ts) else { continue };
        let g = groups.entry(PAGES[last.page].to_string()).or_default();
        g.0.insert(last.visitor);
        g.1 += 1;
        g.2 += pvs.len() as u64;
    }
    groups.into_iter().map(|(k, (v, n, p))| (k, (v.len() as u64, n, p))).collect()
}

/// Expected time on page (the average of gaps rounded to whole seconds, itself rounded; `None`
/// without a next pageview) per page of the matching events: the gaps between consecutive
/// pageviews of visits with a matching event, counted on the first page, the second pageview in
/// `range`.
fn expected_time_on_page(evs: &[Ev], f: &F, range: (i64, i64)) -> BTreeMap<String, Option<i64>> {
    let inside = |e: &&Ev| e.ts >= range.0 && e.ts < range.1;
    let visits: BTreeSet<u64> =
        evs.iter().filter(inside).filter(|e| matches(f, e, evs, range)).map(|e| e.visit).collect();
    let mut gaps: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for v in &visits {
        let pvs: Vec<&Ev> = evs.iter().filter(|e| e.visit == *v && e.pageview).collect();
        for w in pvs.windows(2).filter(|w| inside(&w[1])) {
            // Each gap in whole seconds, rounded from its milliseconds (as stored).
            gaps.entry(PAGES[w[0].page]).or_default().push(((w[1].ts - w[0].ts) / 1000 + 500) / 1000);
        }
    }
    evs.iter()
        .filter(inside)
        .filter(|e| matches(f, e, evs, range))
        .map(|e| {
            let avg = gaps.get(PAGES[e.page]).map(|g| (g.iter().sum::<i64>() as f64 / g.len() as f64).round() as i64);
            (PAGES[e.page].to_string(), avg)
        })
        .collect()
}

/// A funnel step: a pageview of `PAGES[i]` (`Some(i)`, i < 4), of a page matching the wildcard
/// `/b*` (`Some(4)`: `/blog`), or a Signup (`None`).
type Step = Option<usize>;

fn step_kind(s: &Step) -> GoalKind {
    match s {
        Some(4) => GoalKind::Page("/b*".into()),
        Some(p) => GoalKind::Page(PAGES[*p].into()),
        None => GoalKind::Event("Signup".into()),
    }
}

/// Expected visitors reaching each funnel step: each visit's events in `range`, in time order,
/// advance it one step when they complete the next one.
fn expected_funnel(evs: &[Ev], steps: &[Step], range: (i64, i64)) -> Vec<u64> {
    let mut reached: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); steps.len()];
    let visits: BTreeSet<u64> = evs.iter().map(|e| e.visit).collect();
    for v in visits {
        let mut es: Vec<&Ev> = evs.iter().filter(|e| e.visit == v && e.ts >= range.0 && e.ts < range.1).collect();
        es.sort_by_key(|e| e.ts);
        let mut level = 0;
        for e in es {
            let completes = match steps.get(level) {
                Some(Some(4)) => e.pageview && PAGES[e.page] == "/blog",
                Some(Some(p)) => e.pageview && e.page == *p,
                Some(None) => !e.pageview,
                None => false,
            };
            if completes {
                reached[level].insert(e.visitor);
                level += 1;
            }
        }
    }
    reached.iter().map(|s| s.len() as u64).collect()
}

fn engine(evs: &[Ev]) -> CachedReports {
    engine_with(evs, Stored::default())
}

/// How the engine under test got its rows and finds its answers.
#[derive(Debug, Clone, Copy)]
struct Stored {
    /// The rows look stored before pageviews kept their previous page (the engine then
    /// computes time on page with a window over each visit).
    legacy: bool,
    /// Visits with a matching event are a bitmap over the period's visit ids (else a semi-join).
    bitmaps: bool,
    /// The visits closed at this many minutes after DAY0 are folded into `visit_ends`.
    folded_at: Option<i64>,
    /// The engine reads folded visits (else it groups every visit's events).
    reads_folded: bool,
}

impl Default for Stored {
    fn default() -> Self {
        Stored { legacy: false, bitmaps: true, folded_at: None, reads_folded: true }
    }
}

/// The engine behind the result cache the server puts in front of it (answers are asked twice:
/// the second comes from the cache).
fn engine_with(evs: &[Ev], how: Stored) -> CachedReports {
    let db = Database::open_in_memory().unwrap();
    let mut store = DuckEventStore::new(db.connect().unwrap());
    let events: Vec<Event> = evs.iter().map(|e| to_event(e, evs)).collect();
    store.append(WriteBatch::events(&events)).unwrap();
    if how.legacy {
        db.connect().unwrap().execute_batch("UPDATE events SET prev_page = NULL, page_gap_s = NULL").unwrap();
    }
    if let Some(minutes) = how.folded_at {
        fold_until(&mut db.connect().unwrap(), DAY0 + minutes * 60_000_000).unwrap();
    }
    let reports = DuckReports::new(db.connect().unwrap(), u64::MAX)
        .with_visit_bitmaps(how.bitmaps)
        .with_folded_visits(how.reads_folded);
    std::mem::forget(db); // the first connection must outlive the clones
    CachedReports::new(Arc::new(reports), Arc::new(DataVersions::default()), 16)
}

/// The week's events of a site in `tz` stored through a writer sharing the day gate with the
/// job: the ones not `late` first, the job run at `rolled_at` minutes after DAY0 (if at all), then the late ones,
/// then the job again at the end when `again`. Returns the engine adding up day totals and the
/// one counting every event.
fn rolled_engines(
    evs: &[Ev],
    late: &[bool],
    rolled_at: Option<i64>,
    tz: chrono_tz::Tz,
    again: bool,
) -> (DuckReports, DuckReports) {
    let db = Database::open_in_memory().unwrap();
    db.connect()
        .unwrap()
        .execute("INSERT INTO sites (id, domain, timezone) VALUES (1, 'p.test', ?)", [tz.name()])
        .unwrap();
    let mut store = DuckEventStore::new(db.connect().unwrap()).with_day_gate(db.day_gate());
    let job = DuckVisitFolder::new(db.connect().unwrap()).with_day_gate(db.day_gate());
    let events: Vec<Event> = evs.iter().map(|e| to_event(e, evs)).collect();
    let is_late = |i: usize| late[i % late.len()];
    let (early, later): (Vec<_>, Vec<_>) = events.into_iter().enumerate().partition(|(i, _)| !is_late(*i));
    let strip = |v: Vec<(usize, Event)>| v.into_iter().map(|(_, e)| e).collect::<Vec<_>>();
    store.append(WriteBatch::events(&strip(early))).unwrap();
    if let Some(minutes) = rolled_at {
        job.fold_closed_visits(DAY0 + minutes * 60_000_000).unwrap();
    }
    store.append(WriteBatch::events(&strip(later))).unwrap();
    if again {
        job.fold_closed_visits(DAY0 + 10 * 86_400_000_000).unwrap();
    }
    let on = DuckReports::new(db.connect().unwrap(), u64::MAX);
    let off = DuckReports::new(db.connect().unwrap(), u64::MAX).with_day_totals(false);
    std::mem::forget(db);
    (on, off)
}

fn ask(r: &CachedReports, body: Value) -> Vec<(Vec<Value>, Vec<Value>)> {
    let q = parse_query(&body, chrono_tz::UTC, DAY0 + 3 * 86_400_000_000, None).unwrap();
    let json = |cells: Vec<Cell>| cells.iter().map(Cell::to_json).collect();
    let first = r.query(1, &q, &q.period, &[]).unwrap();
    assert_eq!(r.query(1, &q, &q.period, &[]).unwrap(), first, "the cached answer is the computed one");
    first.rows.into_iter().map(|row| (json(row.dimensions), json(row.metrics))).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn event_metrics_match(evs in dataset(), f in filters(), dim in prop::sample::select(vec![None, Some("event:page"), Some("visit:source"), Some("visit:browser")]), whole in any::<bool>()) {
        let r = engine(&evs);
        let (range_json, range) = if whole {
            (json!(["2024-03-05", "2024-03-06"]), (DAY0, DAY0 + 2 * 86_400_000_000))
        } else {
            (json!(["2024-03-06", "2024-03-06"]), (DAY0 + 86_400_000_000, DAY0 + 2 * 86_400_000_000))
        };
        let mut body = json!({"site_id": "p.test", "date_range": range_json, "metrics": ["visitors", "pageviews", "events"], "filters": filter_json(&f)});
        if let Some(d) = dim { body["dimensions"] = json!([d]); }
        let got: BTreeMap<String, (u64, u64, u64)> = ask(&r, body)
            .into_iter()
            .map(|(d, m)| (d.first().and_then(Value::as_str).unwrap_or("").to_string(), (m[0].as_u64().unwrap(), m[1].as_u64().unwrap(), m[2].as_u64().unwrap())))
            .filter(|(_, m)| dim.is_some() || m.2 > 0)
            .collect();
        let want = expected_event_metrics(&evs, &f, dim, range);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn visit_metrics_match(evs in dataset(), f in filters(), dim in prop::sample::select(vec![None, Some("visit:source"), Some("event:page")]), bitmaps in any::<bool>()) {
        let r = engine_with(&evs, Stored { bitmaps, ..Stored::default() });
        let mut body = json!({"site_id": "p.test", "date_range": ["2024-03-05", "2024-03-06"], "metrics": ["visits", "bounce_rate", "visit_duration"], "filters": filter_json(&f)});
        if let Some(d) = dim { body["dimensions"] = json!([d]); }
        let got: BTreeMap<String, (u64, i64, i64)> = ask(&r, body)
            .into_iter()
            .map(|(d, m)| (d.first().and_then(Value::as_str).unwrap_or("").to_string(), (m[0].as_u64().unwrap(), m[1].as_i64().unwrap(), m[2].as_i64().unwrap())))
            .filter(|(_, m)| dim.is_some() || m.0 > 0)
            .collect();
        let want = expected_visit_metrics(&evs, &f, dim, (DAY0, DAY0 + 2 * 86_400_000_000));
        prop_assert_eq!(got, want);
    }

    /// Folded visits (closed at a random time, read or not) answer as their events do, also
    /// for periods cutting visits at midnight.
    #[test]
    fn exit_pages_match(evs in prop_oneof![dataset(), midnight_dataset()], f in prop_oneof![Just(F::None), (0usize..3).prop_map(F::SourceIs), (0usize..2).prop_map(F::BrowserIsNot), any::<bool>().prop_map(F::SignedUp)], bitmaps in any::<bool>(), folded_at in prop::option::of(0i64..3 * 24 * 60), reads_folded in any::<bool>(), whole in any::<bool>()) {
        let r = engine_with(&evs, Stored { bitmaps, folded_at, reads_folded, ..Stored::default() });
        let (range_json, range) = if whole {
            (json!(["2024-03-05", "2024-03-06"]), (DAY0, DAY0 + 2 * 86_400_000_000))
        } else {
            (json!(["2024-03-06", "2024-03-06"]), (DAY0 + 86_400_000_000, DAY0 + 2 * 86_400_000_000))
        };
        let body = json!({"site_id": "p.test", "date_range": range_json, "metrics": ["visitors", "visits", "pageviews"], "dimensions": ["visit:exit_page"], "filters": filter_json(&f)});
        let got: BTreeMap<String, (u64, u64, u64)> = ask(&r, body)
            .into_iter()
            .map(|(d, m)| (d[0].as_str().unwrap_or("").to_string(), (m[0].as_u64().unwrap(), m[1].as_u64().unwrap(), m[2].as_u64().unwrap())))
            .collect();
        let want = expected_exit_pages(&evs, &f, range);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn funnel_matches(evs in prop_oneof![dataset(), midnight_dataset()], steps in prop::collection::vec(prop::option::of(0usize..5), 1..4), whole in any::<bool>()) {
        let r = engine(&evs);
        let (range_json, range) = if whole {
            (json!(["2024-03-05", "2024-03-06"]), (DAY0, DAY0 + 2 * 86_400_000_000))
        } else {
            (json!(["2024-03-06", "2024-03-06"]), (DAY0 + 86_400_000_000, DAY0 + 2 * 86_400_000_000))
        };
        let body = json!({"site_id": "p.test", "date_range": range_json, "metrics": ["visitors"]});
        let q = parse_query(&body, chrono_tz::UTC, DAY0 + 3 * 86_400_000_000, None).unwrap();
        let kinds: Vec<GoalKind> = steps.iter().map(step_kind).collect();
        let got = r.funnel(1, &q.period, &kinds).unwrap();
        prop_assert_eq!(got, expected_funnel(&evs, &steps, range));
    }

    #[test]
    fn time_on_page_matches(evs in dataset(), f in filters(), legacy in any::<bool>(), bitmaps in any::<bool>()) {
        let r = engine_with(&evs, Stored { legacy, bitmaps, ..Stored::default() });
        let body = json!({"site_id": "p.test", "date_range": ["2024-03-05", "2024-03-06"], "metrics": ["pageviews", "time_on_page"], "dimensions": ["event:page"], "filters": filter_json(&f)});
        let got: BTreeMap<String, Option<i64>> = ask(&r, body)
            .into_iter()
            .map(|(d, m)| (d[0].as_str().unwrap_or("").to_string(), m[1].as_i64()))
            .collect();
        let want = expected_time_on_page(&evs, &f, (DAY0, DAY0 + 2 * 86_400_000_000));
        prop_assert_eq!(got, want);
    }
}

proptest! {
    // More cases: the interesting ones (a visit over midnight inside a rolled run) are a fraction.
    #![proptest_config(ProptestConfig { cases: 160, .. ProptestConfig::default() })]

    /// KPIs, daily charts and the dashboard's breakdowns over a few days of a week, in three
    /// time zones, answer the same from day totals and day dimensions rolled at any time, with
    /// late events after it, as from every event; the KPIs' visitors, pageviews and events also
    /// equal a count of the events.
    #[test]
    fn kpis_from_day_totals_match(evs in week_dataset(), late in prop::collection::vec(any::<bool>(), 1..8), rolled_at in prop::option::of(0i64..9 * 24 * 60), again in any::<bool>(), from in 0u64..7, len in 0u64..7, tz in prop::sample::select(vec![chrono_tz::UTC, chrono_tz::Europe::Berlin, chrono_tz::America::New_York]), dim in prop::sample::select(vec![None, Some("time:day"), Some("event:page"), Some("visit:entry_page"), Some("visit:source"), Some("visit:browser"), Some("visit:country")])) {
        let (on, off) = rolled_engines(&evs, &late, rolled_at, tz, again);
        let day = |n: u64| (chrono::NaiveDate::from_ymd_opt(2024, 3, 5).unwrap() + chrono::Days::new(n)).to_string();
        let mut body = json!({"site_id": "p.test", "date_range": [day(from), day(from + len)], "metrics": ["visitors", "pageviews", "events", "visits", "bounce_rate", "visit_duration", "views_per_visit"]});
        if let Some(d) = dim {
            body["dimensions"] = json!([d]);
        }
        if dim == Some("event:page") {
            // Pages group events: their visit metrics are the landing pages' (not rolled).
            body["metrics"] = json!(["visitors", "pageviews", "events"]);
        }
        let q = parse_query(&body, tz, DAY0 + 10 * 86_400_000_000, None).unwrap();
        let got = on.query(1, &q, &q.period, &[]).unwrap().rows;
        prop_assert_eq!(&got, &off.query(1, &q, &q.period, &[]).unwrap().rows);
        if dim.is_some() {
            return Ok(());
        }
        let want = expected_event_metrics(&evs, &F::None, None, (q.period.start, q.period.end)).remove("").unwrap_or((0, 0, 0));
        let m: Vec<Value> = got[0].metrics.iter().map(Cell::to_json).collect();
        prop_assert_eq!((m[0].as_u64().unwrap(), m[1].as_u64().unwrap(), m[2].as_u64().unwrap()), want);
    }
}

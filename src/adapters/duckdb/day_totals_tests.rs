//! Unit tests of `day_totals.rs` (and the `day_dims` rows it rolls).

use std::collections::HashSet;

use duckdb::{Connection, params};

use super::*;
use crate::adapters::duckdb::day_reads::{DayTotals, period_totals};
use crate::domain::query::Period;
use crate::ports::store::WriteBatch;

const HOUR: i64 = 3_600_000_000;

/// Stores `(hour, visitor, visit, name, visit_start, bounce_delta, duration_delta)` events of
/// site 1.
fn insert(conn: &Connection, rows: &[(i64, u64, u64, &str, bool, i8, u32)]) {
    for (hour, visitor, visit, name, start, bounce, duration) in rows {
        conn.execute(
            "INSERT INTO events (ts, site_id, name, visitor_id, visit_id, pathname, visit_start, bounce_delta, \
             duration_delta) VALUES (make_timestamp(?), 1, ?, ?, ?, '/', ?, ?, ?)",
            params![hour * HOUR, name, visitor, visit, start, bounce, duration],
        )
        .unwrap();
    }
}

fn period(from_hour: i64, to_hour: i64) -> Period {
    let d = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    Period { tz: chrono_tz::UTC, start: from_hour * HOUR, end: to_hour * HOUR, first_date: d, last_date: d }
}

/// Visitor 1 on days 0-1 (a visit over midnight), 2 on day 1, 3 on days 2 and 4 (a gap),
/// 4 on days 3 and 5, 9 on day 8.
fn data() -> Connection {
    let conn = super::super::memory_connection();
    conn.execute("INSERT INTO sites (id, domain) VALUES (1, 'd.test')", []).unwrap();
    insert(
        &conn,
        &[
            (23, 1, 1, "pageview", true, 1, 0),
            (24, 1, 1, "pageview", false, -1, 3600),
            (30, 2, 2, "Signup", true, 0, 0),
            (50, 3, 3, "pageview", true, 1, 0),
            (80, 4, 4, "pageview", true, 1, 0),
            (100, 3, 5, "pageview", true, 1, 0),
            (121, 4, 6, "pageview", true, 1, 0),
            (200, 9, 7, "pageview", true, 1, 0),
        ],
    );
    conn
}

#[test]
fn closed_days_are_rolled_once_and_added_up_with_the_rest() {
    let mut conn = data();
    let gate = DayGate::read(&conn).unwrap();
    let mut empty = HashSet::new();
    assert_eq!(roll_until(&mut conn, &gate, 5 * 24 * HOUR, &mut empty).unwrap(), 5, "days 0-4");
    assert_eq!(roll_until(&mut conn, &gate, 5 * 24 * HOUR, &mut empty).unwrap(), 0, "nothing new");
    let rows: Vec<(i64, i64, i64, i64)> = super::super::all_rows(
        &conn,
        "SELECT day, visitors, shared_prev, gaps FROM day_totals ORDER BY day",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .unwrap();
    assert_eq!(rows, vec![(0, 1, 0, 0), (1, 2, 1, 0), (2, 1, 0, 0), (3, 1, 0, 0), (4, 1, 0, 1)]);
    // Per page ('/' for all): the same; per entry page too, with a visit each day but day 1's
    // second event, which continues visit 1.
    let page: Vec<(i64, Option<String>, i64, i64, i64, i64)> = super::super::all_rows(
        &conn,
        "SELECT day, value, visitors, visits, shared_prev, gaps FROM day_dims WHERE dim = 'page' ORDER BY day",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
    )
    .unwrap();
    let slash = Some("/".to_string());
    let want: Vec<_> = [(0, 1, 1, 0, 0), (1, 2, 1, 1, 0), (2, 1, 1, 0, 0), (3, 1, 1, 0, 0), (4, 1, 1, 0, 1)]
        .into_iter()
        .map(|(d, v, n, s, g)| (d, slash.clone(), v, n, s, g))
        .collect();
    assert_eq!(page, want);
    let browsers: i64 = conn
        .query_row("SELECT count(*) FROM day_dims WHERE dim = 'browser' AND value = '(not set)'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(browsers, 5, "a missing browser is labelled as breakdowns label it");
    // Day 4 has a visitor of day 2 but not of day 3: never added up with its neighbours.
    assert_eq!(period_totals(&conn, 1, &period(0, 121)).unwrap(), None);
    // Days 0-3: visitors 1, 2, 3, 4; the pageviews, visits and bounces add up.
    let t = period_totals(&conn, 1, &period(0, 4 * 24)).unwrap().expect("rolled");
    assert_eq!(t, DayTotals { visitors: 4, pageviews: 4, events: 5, visits: 4, bounces: 2, duration_sum: 3600 });
    // 11 p.m. of day 0 to noon of day 4: days 1-3 rolled, the rest scanned; visitor 1 of
    // the rest is also day 1's, visitor 3 (day 4) also day 2's.
    let t = period_totals(&conn, 1, &period(23, 4 * 24 + 12)).unwrap().expect("rolled");
    assert_eq!(t.visitors, 4, "1 (both sides of midnight), 2, 3, 4");
    assert_eq!((t.pageviews, t.events, t.visits), (5, 6, 5));
    assert_eq!(period_totals(&conn, 1, &period(24, 3 * 24)).unwrap(), None, "two whole days only");
}

#[test]
fn a_late_event_takes_its_days_rows_away_until_rolled_again() {
    use crate::ports::store::EventStore;
    let mut conn = data();
    let gate = std::sync::Arc::new(DayGate::read(&conn).unwrap());
    roll_until(&mut conn, &gate, 5 * 24 * HOUR, &mut HashSet::new()).unwrap();
    let mut writer = super::super::DuckEventStore::new(conn.try_clone().unwrap()).with_day_gate(gate.clone());
    let today = crate::ports::conformance::pageview(1, 5 * 24 * HOUR + 1, 8, 78, "/", true);
    writer.append(WriteBatch::events(&[today])).unwrap();
    let count = || -> i64 { conn.query_row("SELECT count(*) FROM day_totals", [], |r| r.get(0)).unwrap() };
    assert_eq!(count(), 5, "an event of a day not rolled yet takes no row away");
    let late = crate::ports::conformance::pageview(1, 30 * HOUR, 7, 77, "/", true);
    writer.append(WriteBatch::events(&[late])).unwrap();
    let days: Vec<i64> =
        super::super::all_rows(&conn, "SELECT day FROM day_totals ORDER BY day", [], |r| r.get(0)).unwrap();
    assert_eq!(days, Vec::<i64>::new(), "days 0-2 (day 1 in any time zone) and the two after");
    let dims: i64 = conn.query_row("SELECT count(*) FROM day_dims", [], |r| r.get(0)).unwrap();
    assert_eq!(dims, 0, "the days' dimension rows go with them");
    assert_eq!(period_totals(&conn, 1, &period(0, 4 * 24)).unwrap(), None, "nothing rolled");
    assert_eq!(roll_until(&mut conn, &gate, 5 * 24 * HOUR, &mut HashSet::new()).unwrap(), 5);
    let t = period_totals(&conn, 1, &period(0, 4 * 24)).unwrap().expect("rolled");
    assert_eq!((t.visitors, t.pageviews), (5, 5));
}

#[test]
fn runs_cut_consecutive_days_into_weeks() {
    assert_eq!(runs(&[]), vec![]);
    assert_eq!(runs(&[1, 2, 3, 5]), vec![(1, 4), (5, 6)]);
    let days: Vec<i64> = (10..25).collect();
    assert_eq!(runs(&days), vec![(10, 17), (17, 24), (24, 25)]);
}

use duckdb::{Connection, params};

use super::*;

const MIN: i64 = 60_000_000;

/// Stores `(minute, visit, name, path)` events of site 1, visitor = visit.
fn insert(conn: &Connection, rows: &[(i64, u64, &str, &str)]) {
    for (minute, visit, name, path) in rows {
        conn.execute(
            "INSERT INTO events (ts, site_id, name, visitor_id, visit_id, pathname) VALUES (make_timestamp(?), 1, ?, ?, ?, ?)",
            params![minute * MIN, name, visit, visit, path],
        )
        .unwrap();
    }
}

/// Every folded row: (visit, start minute, end minute, pageviews, custom events, exit page).
fn folded(conn: &Connection) -> Vec<(u64, i64, i64, u32, u32, Option<String>)> {
    let mut stmt = conn
        .prepare(
            "SELECT visit_id, epoch_us(vstart) // 60000000, epoch_us(vend) // 60000000, pv, ce, exit_page \
             FROM visit_ends ORDER BY visit_id",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn data() -> Connection {
    let conn = super::super::memory_connection();
    insert(
        &conn,
        &[
            (0, 1, "pageview", "/"),
            (3, 1, "pageview", "/a"),
            (4, 1, "Signup", "/b"),
            (1, 2, "Signup", "/"),
            (10, 3, "pageview", "/"),
            // Visit 4 is still open at minute 30: visit 5, though over, waits behind it.
            (20, 4, "pageview", "/"),
            (40, 4, "pageview", "/x"),
            (21, 5, "pageview", "/c"),
        ],
    );
    conn
}

#[test]
fn folds_the_visits_below_the_first_open_one_once() {
    let mut conn = data();
    assert_eq!(folded_through(&conn).unwrap(), None);
    let first = fold_until(&mut conn, 30 * MIN).unwrap();
    assert_eq!(first, FoldOutcome { visits: 3, events: 5, days: 0 });
    assert_eq!(folded_through(&conn).unwrap(), Some(3));
    let s = |p: &str| Some(p.to_string());
    assert_eq!(folded(&conn), [(1, 0, 4, 2, 1, s("/a")), (2, 1, 1, 0, 1, None), (3, 10, 10, 1, 0, s("/"))]);
    assert_eq!(fold_until(&mut conn, 30 * MIN).unwrap(), FoldOutcome::default(), "nothing twice");
    assert_eq!(fold_until(&mut conn, 41 * MIN).unwrap(), FoldOutcome { visits: 2, events: 3, days: 0 });
    assert_eq!(folded(&conn).iter().map(|r| (r.0, r.5.clone())).collect::<Vec<_>>()[3..], [(4, s("/x")), (5, s("/c"))]);
    assert_eq!(folded_through(&conn).unwrap(), Some(5));
}

#[test]
fn the_job_waits_the_visit_timeout_and_a_margin_after_the_newest_event() {
    let conn = data();
    insert(&conn, &[(200, 6, "pageview", "/")]);
    let folder = DuckVisitFolder::new(conn.try_clone().unwrap());
    let wait = (VISIT_TIMEOUT_MICROS + CLOSED_MARGIN) / MIN;
    // A clock behind the newest event (minute 200) counts from the clock: at 25 + wait the
    // visits ending before minute 25 are closed, but visit 4 (until 40) holds 4 and 5 back.
    assert_eq!(folder.fold_closed_visits((25 + wait) * MIN).unwrap().visits, 3);
    // Else from the newest event: visit 6 is open at any later time.
    assert_eq!(folder.fold_closed_visits(i64::MAX).unwrap().visits, 2);
    assert_eq!(folded_through(&conn).unwrap(), Some(5));
}

#[test]
fn retention_folds_the_visits_it_cuts_again() {
    let mut conn = data();
    fold_until(&mut conn, 100 * MIN).unwrap();
    let tx = conn.transaction().unwrap();
    tx.execute("DELETE FROM events WHERE site_id = 1 AND ts < make_timestamp(?)", [2 * MIN]).unwrap();
    forget_before(&tx, 1, 2 * MIN).unwrap();
    tx.commit().unwrap();
    let s = |p: &str| Some(p.to_string());
    assert_eq!(
        folded(&conn),
        [(1, 3, 4, 1, 1, s("/a")), (3, 10, 10, 1, 0, s("/")), (4, 20, 40, 2, 0, s("/x")), (5, 21, 21, 1, 0, s("/c"))]
    );
}

#[test]
fn the_writer_never_gives_a_folded_visit_id_again() {
    use crate::ports::store::EventStore;
    let mut conn = data();
    fold_until(&mut conn, 100 * MIN).unwrap();
    // The newest visits' site goes (here: their events): the highest stored id is now 3.
    conn.execute("DELETE FROM events WHERE visit_id > 3", []).unwrap();
    let store = super::super::DuckEventStore::new(conn.try_clone().unwrap());
    assert_eq!(store.resume_state(0).unwrap().next_visit_id, 6);
}

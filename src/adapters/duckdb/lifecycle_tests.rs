//! The lifecycle adapter on a real DuckDB file: what a backup holds, how archives merge.

use super::*;
use crate::adapters::duckdb::{Database, DuckSites};
use crate::domain::site::{NewSite, SiteDomain, TimeZoneName};
use crate::domain::visitor::Salt;
use crate::ports::sites::SiteRepository;
use crate::ports::store::SaltStore;

fn db_with_site(dir: &Path) -> (Database, Site) {
    let db = Database::open(&dir.join("hitkeep.db"), &Default::default()).unwrap();
    let site = DuckSites::new(db.connect().unwrap())
        .add(NewSite { domain: SiteDomain::parse("a.test").unwrap(), hostnames: vec![], timezone: TimeZoneName::utc() })
        .unwrap();
    (db, site)
}

/// Inserts one pageview at `ts` (`YYYY-MM-DD HH:MM:SS`, UTC) on `path`.
fn event(db: &Database, site: &Site, ts: &str, path: &str) {
    db.connect()
        .unwrap()
        .execute(
            "INSERT INTO events (ts, site_id, name, visitor_id, visit_id, pathname) VALUES (?::TIMESTAMP, ?, 'pageview', 1, 1, ?)",
            duckdb::params![ts, site.id.0, path],
        )
        .unwrap();
}

fn micros(day: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

fn archived_paths(file: &Path) -> Vec<String> {
    let conn = Connection::open_in_memory().unwrap();
    let mut stmt = conn.prepare(&format!("SELECT pathname FROM read_parquet({}) ORDER BY ts", sql_path(file))).unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn a_backup_holds_everything_but_the_visitor_salts_and_salted_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, site) = db_with_site(tmp.path());
    let salts = DuckSites::new(db.connect().unwrap());
    salts.save_salt(20_000, &Salt([0xA7; 32])).unwrap();
    event(&db, &site, "2026-11-01 10:00:00", "/");
    let numbers = "SELECT count(*) FROM visitor_numbers";
    db.connect()
        .unwrap()
        .execute_batch(
            "INSERT INTO visitor_numbers VALUES (123456789, 281474976710656, TIMESTAMP '2026-11-01 10:00:00')",
        )
        .unwrap();
    let backup = DuckLifecycle::new(db.connect().unwrap()).backup(&tmp.path().join("b")).unwrap();
    assert_eq!(salts.load_salts().unwrap().len(), 1, "the live database keeps its salt");

    let bytes = std::fs::read(&backup.file).unwrap();
    assert!(!bytes.windows(32).any(|w| w == [0xA7; 32]), "the salt's bytes are nowhere in the backup file");
    let copy = Database::open(&backup.file, &Default::default()).unwrap();
    let copied = DuckSites::new(copy.connect().unwrap());
    assert!(copied.load_salts().unwrap().is_empty());
    assert_eq!(copied.list().unwrap(), vec![site]);
    let events: i64 = copy.connect().unwrap().query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(events, 1);
    let kept = |db: &Database| db.connect().unwrap().query_row(numbers, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!((kept(&db), kept(&copy)), (1, 0), "salted visitor keys stay in the live database only");
    // Sequences keep their values: the next site does not reuse an id.
    let next = copied
        .add(NewSite { domain: SiteDomain::parse("b.test").unwrap(), hostnames: vec![], timezone: TimeZoneName::utc() })
        .unwrap();
    assert_eq!(next.id.0, 2);
}

#[test]
fn a_late_event_in_an_archived_month_keeps_every_archived_row() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, site) = db_with_site(tmp.path());
    let lifecycle = DuckLifecycle::new(db.connect().unwrap());
    let archive = tmp.path().join("archive");
    event(&db, &site, "2026-03-10 12:00:00", "/a");
    event(&db, &site, "2026-03-20 12:00:00", "/b");
    event(&db, &site, "2026-03-20 12:00:00", "/b");
    let first = lifecycle.apply_retention(&site, micros("2026-06-01"), Some(&archive)).unwrap();
    assert_eq!(first.deleted_events, 3);
    let file = archive.join("a.test").join("2026-03.parquet");
    assert_eq!(archived_paths(&file), ["/a", "/b", "/b"]);

    // Backfilled later, earlier in the month than everything archived.
    event(&db, &site, "2026-03-01 08:00:00", "/late");
    event(&db, &site, "2026-03-15 08:00:00", "/later");
    lifecycle.apply_retention(&site, micros("2026-06-01"), Some(&archive)).unwrap();
    assert_eq!(archived_paths(&file), ["/late", "/a", "/later", "/b", "/b"]);
}

#[test]
fn a_crashed_run_archived_rows_are_written_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, site) = db_with_site(tmp.path());
    let conn = db.connect().unwrap();
    let dir = tmp.path().join("archive");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("2026-03.parquet");
    event(&db, &site, "2026-03-10 12:00:00", "/a");
    event(&db, &site, "2026-03-10 12:00:00", "/a");
    // A run that archived but died before deleting, then the next run.
    archive_month(&conn, "events", site.id.0, "2026-03", micros("2026-06-01"), &file).unwrap();
    event(&db, &site, "2026-03-05 12:00:00", "/late");
    archive_month(&conn, "events", site.id.0, "2026-03", micros("2026-06-01"), &file).unwrap();
    assert_eq!(archived_paths(&file), ["/late", "/a", "/a"], "identical rows stay two, none doubles");
}

#[test]
fn passes_the_event_store_conformance_suite() {
    let db = Database::open_in_memory().unwrap();
    crate::ports::conformance::event_store(crate::adapters::duckdb::DuckEventStore::new(db.connect().unwrap()));
}

#[test]
fn passes_the_data_lifecycle_conformance_suite() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, site) = db_with_site(tmp.path());
    let store = crate::adapters::duckdb::DuckEventStore::new(db.connect().unwrap());
    crate::ports::conformance::data_lifecycle(&DuckLifecycle::new(db.connect().unwrap()), store, &site, tmp.path());
}

//! Suites for the event store and its lifecycle (retention, exports, backups).

use std::path::Path;
use std::sync::Arc;

use crate::domain::channel::Channel;
use crate::domain::client::DeviceClass;
use crate::domain::event::{Event, Location, PAGEVIEW, TrafficSource, VisitStats};
use crate::domain::lifecycle::date_span;
use crate::domain::site::Site;
use crate::domain::visitor_numbers::{FIRST_NUMBER, NumberingState, VisitorNumber};
use crate::ports::queue::QueuePosition;
use crate::ports::retention::{DataLifecycle, ExportFormat};
use crate::ports::store::{EventStore, WriteBatch};

/// Microseconds of `2026-03-DD HH:00` UTC.
fn at(day: u32, hour: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(2026, 3, day).unwrap().and_hms_opt(hour, 0, 0).unwrap().and_utc().timestamp_micros()
}

/// A pageview of `visitor`'s visit `visit` on `path` at `ts`, opening the visit when `first`.
pub fn pageview(site_id: u32, ts: i64, visitor: u64, visit: u64, path: &str, first: bool) -> Event {
    Event {
        ts,
        site_id,
        name: PAGEVIEW.into(),
        visitor_id: visitor,
        visit_id: visit,
        hostname: "a.test".into(),
        pathname: path.into(),
        traffic: Arc::new(TrafficSource {
            entry_page: path.into(),
            referrer: None,
            source: None,
            channel: Channel::Direct,
            utm: Default::default(),
        }),
        location: Location::default(),
        browser: Some("Firefox".into()),
        browser_version: None,
        os: None,
        os_version: None,
        device: DeviceClass::Desktop,
        screen: None,
        language: None,
        props: Vec::new(),
        visit_stats: VisitStats { visit_start: first, bounce_delta: if first { 1 } else { -1 }, ..Default::default() },
        revenue: None,
        engagement: None,
    }
}

/// An event store: visit numbering continues after what it holds; visits seen since a moment
/// come back (one per visitor, its latest); a batch stored with a queue position records it, per
/// queue; a failed batch leaves nothing.
pub fn event_store<S: EventStore>(mut store: S) {
    let none = store.resume_state(0).unwrap();
    assert!(none.open_visits.is_empty() && none.next_visit_id == 1, "an empty store resumes from nothing");
    assert_eq!(store.queue_position("hits").unwrap(), 0);

    let mut batch = [
        pageview(1, at(2, 9), 7, 1, "/old", true),
        pageview(1, at(3, 10), 7, 2, "/", true),
        pageview(1, at(3, 11), 7, 2, "/pricing", false),
        pageview(1, at(3, 12), 8, 3, "/blog", true),
    ];
    // Every event of a visit carries the visit's source and entry page.
    batch[2].traffic = batch[1].traffic.clone();
    store.append(WriteBatch::events(&batch)).unwrap();
    let resumed = store.resume_state(at(3, 0)).unwrap();
    assert_eq!(resumed.next_visit_id, 4, "numbering continues after the largest visit id");
    let mut open: Vec<(u64, u64, i64, u32)> =
        resumed.open_visits.iter().map(|v| (v.visitor_id, v.visit_id, v.last_seen, v.events)).collect();
    open.sort();
    assert_eq!(open, [(7, 2, at(3, 11), 2), (8, 3, at(3, 12), 1)], "each visitor's latest visit since the moment");
    assert_eq!(resumed.open_visits.iter().find(|v| v.visitor_id == 7).unwrap().attrs.entry_page, "/");

    let position = |sequence| QueuePosition { queue: "hits".into(), sequence };
    store
        .append(WriteBatch {
            position: Some(&position(41)),
            ..WriteBatch::events(&[pageview(1, at(3, 13), 9, 4, "/", true)])
        })
        .unwrap();
    store
        .append(WriteBatch {
            position: Some(&position(42)),
            ..WriteBatch::events(&[pageview(1, at(3, 14), 9, 4, "/a", false)])
        })
        .unwrap();
    assert_eq!(store.queue_position("hits").unwrap(), 42, "the last stored position");
    assert_eq!(store.queue_position("other").unwrap(), 0, "positions are per queue");
    assert_eq!(store.resume_state(at(3, 0)).unwrap().next_visit_id, 5);
    visitor_numbering(&mut store);
    store.checkpoint().unwrap();
}

/// Visitor numbers given with a batch come back on resume (only when the batch committed), the
/// next number continues after every stored one, and numbers older than two days are forgotten.
fn visitor_numbering<S: EventStore>(store: &mut S) {
    let numbering = |store: &S| store.resume_state(at(3, 0)).unwrap().visitor_numbers;
    let Some(start) = numbering(store) else { return };
    assert_eq!(start, NumberingState { next: FIRST_NUMBER, known: vec![] }, "ids below 2^48 are keys, not numbers");
    let given = VisitorNumber { key: 0xfeed, number: FIRST_NUMBER + 9, since: at(3, 15) };
    store.remember_visitors(vec![given]);
    store.append(WriteBatch::events(&[pageview(1, at(3, 15), FIRST_NUMBER + 9, 5, "/", true)])).unwrap();
    assert_eq!(numbering(store).unwrap(), NumberingState { next: FIRST_NUMBER + 10, known: vec![given] });
    store.append(WriteBatch::events(&[pageview(1, at(6, 15), FIRST_NUMBER + 2, 6, "/", true)])).unwrap();
    let later = numbering(store).unwrap();
    assert_eq!(later, NumberingState { next: FIRST_NUMBER + 10, known: vec![] }, "forgotten after two days");
}

/// The lifecycle of stored events, given a lifecycle and an event store over the same data and
/// a site (id and domain) to work on: counts and exports per day span, retention deleting (and
/// archiving when asked) only what is older than the cutoff, of that site only; a backup
/// refuses to overwrite another.
pub fn data_lifecycle<L: DataLifecycle, S: EventStore>(lifecycle: &L, mut store: S, site: &Site, dir: &Path) {
    let id = site.id.0;
    let events: Vec<Event> =
        (1..=6).map(|d| pageview(id, at(d, 12), d as u64, d as u64, &format!("/day{d}"), true)).collect();
    store.append(WriteBatch::events(&events)).unwrap();
    store.append(WriteBatch::events(&[pageview(id + 1, at(1, 12), 99, 99, "/other-site", true)])).unwrap();
    let utc = chrono_tz::UTC;
    let span = |from, to| date_span(utc, from, to).unwrap();
    assert_eq!(lifecycle.count_events(id, &span("2026-03-02", "2026-03-04")).unwrap(), 3, "days are inclusive");
    assert_eq!(lifecycle.count_events(id, &span("2026-01-01", "2026-12-31")).unwrap(), 6, "only the site's events");

    let csv = dir.join("export.csv");
    assert_eq!(lifecycle.export(id, &span("2026-03-05", "2026-03-06"), ExportFormat::Csv, &csv).unwrap(), 2);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains("/day5") && text.contains("/day6") && !text.contains("/day4"), "{text}");

    let kept = lifecycle.apply_retention(site, at(3, 0), None).unwrap();
    assert_eq!((kept.deleted_events, kept.archives.len()), (2, 0), "days 1 and 2 go, nothing archived");
    let archived = lifecycle.apply_retention(site, at(4, 0), Some(&dir.join("archive"))).unwrap();
    assert_eq!(archived.deleted_events, 1);
    assert!(!archived.archives.is_empty() && archived.archives.iter().all(|f| f.exists()), "{archived:?}");
    assert_eq!(lifecycle.count_events(id, &span("2026-01-01", "2026-12-31")).unwrap(), 3);
    assert_eq!(
        lifecycle.count_events(id + 1, &span("2026-01-01", "2026-12-31")).unwrap(),
        1,
        "other sites keep theirs"
    );

    let backup = lifecycle.backup(&dir.join("backup")).unwrap();
    assert!(backup.file.exists() && backup.bytes > 0, "{backup:?}");
    assert!(lifecycle.backup(&dir.join("backup")).is_err(), "a backup is never overwritten");
}

//! Conformance suites: what every adapter of a port must do, run against each of them.

mod accounts;
mod annotations;
mod crawlers;
mod edges;
mod events;
mod passkeys;
mod second_factors;
mod signals;

pub use accounts::{audit_store, invite_store, membership_store, session_store, share_store, token_store, user_store};
pub use annotations::annotation_repository;
pub use crawlers::crawler_store;
pub use edges::{geo_lookup, unpacker, user_agent_classifier};
pub use events::{data_lifecycle, event_store, pageview};
pub use passkeys::passkey_store;
pub use second_factors::{external_identity_store, second_factor_store, security_policy_store};
pub use signals::{alert_store, webhook_store};

use crate::domain::imports::merge::ImportGrouping;
use crate::domain::imports::{DayTotals, ImportBatch, ImportSource, Totals};
use crate::domain::lifecycle::Frequency;
use crate::domain::query::GoalKind;
use crate::domain::query::Period;
use crate::domain::site::{NewSite, SiteDomain, SiteId, TimeZoneName};
use crate::domain::visitor::{Day, Salt};
use crate::ports::imports::ImportStore;
use crate::ports::mail::{Mail, MailError, Mailer};
use crate::ports::reports::GoalRepository;
use crate::ports::sites::{SiteRepoError, SiteRepository};
use crate::ports::store::SaltStore;
use crate::ports::subscriptions::SubscriptionStore;

fn new_site(domain: &str) -> NewSite {
    NewSite { domain: SiteDomain::parse(domain).unwrap(), hostnames: vec![], timezone: TimeZoneName::utc() }
}

/// The site repository: sites listed by domain, duplicates refused, updates by id, deletes.
pub fn site_repository<S: SiteRepository>(make: impl Fn() -> S) {
    let repo = make();
    assert!(repo.list().unwrap().is_empty(), "a new repository holds no sites");
    let b = repo.add(new_site("b.test")).unwrap();
    let a = repo.add(new_site("a.test")).unwrap();
    assert_ne!(a.id, b.id, "ids are distinct");
    assert!(a.honor_dnt && a.honor_gpc && a.retention_days == 0, "new sites start with the defaults");
    let domains: Vec<String> = repo.list().unwrap().iter().map(|s| s.domain.to_string()).collect();
    assert_eq!(domains, ["a.test", "b.test"], "listed by domain");
    assert!(matches!(repo.add(new_site("a.test")), Err(SiteRepoError::Duplicate(_))));

    let mut changed = a.clone();
    changed.retention_days = 30;
    changed.honor_dnt = false;
    repo.update(&changed).unwrap();
    let stored = repo.list().unwrap().into_iter().find(|s| s.id == a.id).unwrap();
    assert_eq!((stored.retention_days, stored.honor_dnt), (30, false));

    let mut ghost = a.clone();
    ghost.id = SiteId(9_999);
    assert!(matches!(repo.update(&ghost), Err(SiteRepoError::NotFound(_))), "updates match by id");

    repo.delete(&b).unwrap();
    let left: Vec<SiteId> = repo.list().unwrap().iter().map(|s| s.id).collect();
    assert_eq!(left, [a.id]);
}

/// The goal repository: goals and funnels per site in creation order, deletes scoped to the site.
pub fn goal_repository<G: GoalRepository>(make: impl Fn() -> G) {
    let repo = make();
    assert!(repo.goals(1).unwrap().is_empty() && repo.funnels(1).unwrap().is_empty());
    let signup = repo.add_goal(1, "Signup", &GoalKind::Event("Signup".into()), None).unwrap();
    let pricing = repo.add_goal(1, "Visit /pricing", &GoalKind::Page("/pricing".into()), None).unwrap();
    let purchase = repo.add_goal(2, "Purchase", &GoalKind::Event("Purchase".into()), Some("EUR")).unwrap();
    assert_eq!(repo.goals(2).unwrap(), std::slice::from_ref(&purchase), "a revenue goal keeps its currency");
    assert_eq!(purchase.currency.as_deref(), Some("EUR"));
    assert_ne!(signup.id, pricing.id, "ids are distinct");
    assert_eq!(repo.goals(1).unwrap(), [signup.clone(), pricing.clone()], "a site's goals in creation order");
    assert!(!repo.delete_goal(2, signup.id).unwrap(), "another site's goal is not deleted");
    assert!(repo.delete_goal(1, signup.id).unwrap());
    assert!(!repo.delete_goal(1, signup.id).unwrap(), "a deleted goal is gone");
    assert_eq!(repo.goals(1).unwrap(), [pricing]);

    let steps = [GoalKind::Page("/".into()), GoalKind::Event("Signup".into())];
    let funnel = repo.add_funnel(1, "Home to signup", &steps).unwrap();
    assert_eq!((funnel.name.as_str(), funnel.steps.as_slice()), ("Home to signup", &steps[..]));
    assert_eq!(repo.funnels(1).unwrap(), std::slice::from_ref(&funnel), "steps survive the round trip in order");
    assert!(repo.funnels(2).unwrap().is_empty());
    assert!(!repo.delete_funnel(2, funnel.id).unwrap(), "another site's funnel is not deleted");
    assert!(repo.delete_funnel(1, funnel.id).unwrap());
    assert!(repo.funnels(1).unwrap().is_empty());
}

/// The subscription store: one subscription per site, address and frequency, listed in order,
/// the last sent period remembered.
pub fn subscription_store<S: SubscriptionStore>(make: impl Fn() -> S) {
    let store = make();
    assert!(store.subscriptions(None).unwrap().is_empty());
    assert!(store.subscribe(2, "b@x.test", Frequency::Week).unwrap());
    assert!(store.subscribe(1, "b@x.test", Frequency::Week).unwrap());
    assert!(store.subscribe(1, "b@x.test", Frequency::Month).unwrap());
    assert!(store.subscribe(1, "a@x.test", Frequency::Week).unwrap());
    assert!(!store.subscribe(1, "a@x.test", Frequency::Week).unwrap(), "a repeat is not a new subscription");
    let listed: Vec<(u32, String, Frequency)> =
        store.subscriptions(None).unwrap().into_iter().map(|s| (s.site_id, s.email, s.frequency)).collect();
    let expected = [
        (1, "a@x.test", Frequency::Week),
        (1, "b@x.test", Frequency::Month),
        (1, "b@x.test", Frequency::Week),
        (2, "b@x.test", Frequency::Week),
    ];
    assert_eq!(listed, expected.map(|(s, e, f)| (s, e.to_string(), f)), "by site, address, frequency");
    assert_eq!(store.subscriptions(Some(2)).unwrap().len(), 1);

    store.mark_sent(1, "a@x.test", Frequency::Week, "2026-W47").unwrap();
    let sent = store.subscriptions(Some(1)).unwrap();
    assert_eq!(sent[0].last_period.as_deref(), Some("2026-W47"));
    assert!(sent[1..].iter().all(|s| s.last_period.is_none()), "only the one subscription is marked");

    assert!(store.unsubscribe(1, "a@x.test", Frequency::Week).unwrap());
    assert!(!store.unsubscribe(1, "a@x.test", Frequency::Week).unwrap(), "nothing left to remove");
    assert_eq!(store.subscriptions(Some(1)).unwrap().len(), 2);
}

/// The salt store: salts by day, newest first, a day's salt replaced when saved again, and
/// deletes through a day.
pub fn salt_store<S: SaltStore>(make: impl Fn() -> S) {
    let store = make();
    assert!(store.load_salts().unwrap().is_empty());
    for (day, byte) in [(10, 1), (12, 2), (11, 3), (12, 4)] {
        store.save_salt(day, &Salt([byte; 32])).unwrap();
    }
    let days =
        |store: &S| -> Vec<(Day, u8)> { store.load_salts().unwrap().iter().map(|(d, s)| (*d, s.0[0])).collect() };
    assert_eq!(days(&store), [(12, 4), (11, 3), (10, 1)], "newest first; a day saved again is replaced");
    store.delete_salts_through(11).unwrap();
    assert_eq!(days(&store), [(12, 4)], "the day named and earlier ones go");
}

/// A mailer: an address that is not one is refused as such before anything is delivered.
pub fn mailer<M: Mailer>(make: impl Fn() -> M) {
    let mailer = make();
    let mail = Mail { to: "no-at-sign".into(), subject: "Weekly report".into(), text: "t".into(), html: "h".into() };
    assert!(matches!(mailer.send(&mail), Err(MailError::Address(_))), "an invalid address is refused");
}

/// The import store: imported days summed over a period, a later import replacing the days it
/// covers, nothing shared between sites.
pub fn import_store<S: ImportStore>(make: impl Fn() -> S) {
    let store = make();
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2024, 3, d).unwrap();
    let micros = |d: u32| day(d).and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_micros();
    let week = Period { tz: chrono_tz::UTC, start: micros(1), end: micros(8), first_date: day(1), last_date: day(7) };
    let batch = |days: &[(u32, u64)]| ImportBatch {
        days: days
            .iter()
            .map(|&(d, v)| DayTotals {
                date: day(d),
                totals: Totals { visitors: v, visits: v, pageviews: 2 * v, bounces: 1, visit_duration: 10 * v },
            })
            .collect(),
        ..ImportBatch::default()
    };
    let visitors = |site| -> Vec<u64> {
        store.imported_totals(site, ImportGrouping::Total, &week).unwrap().iter().map(|r| r.totals.visitors).collect()
    };
    assert!(visitors(1).is_empty(), "nothing imported yet");
    let first = store.save_import(1, ImportSource::Umami, &batch(&[(1, 5), (2, 7), (9, 100)])).unwrap();
    let second = store.save_import(1, ImportSource::GoatCounter, &batch(&[(2, 3)])).unwrap();
    assert_ne!(first, second, "ids are distinct");
    assert_eq!(visitors(1), [8], "day 2 replaced by the later import; day 9 outside the period");
    let days = store.imported_totals(1, ImportGrouping::Day, &week).unwrap();
    assert_eq!(days.iter().map(|r| r.totals.pageviews).collect::<Vec<_>>(), [10, 6], "per day, in order");
    assert!(visitors(2).is_empty(), "another site's imports are its own");
}

/// The segment repository: segments per site in creation order with their owner, filters and
/// labels; updates and deletes scoped to the site.
pub fn segment_repository<R: crate::ports::segments::SegmentRepository>(make: impl Fn() -> R) {
    use crate::domain::segments::{SegmentDraft, SegmentKind};
    use serde_json::json;
    let repo = make();
    assert!(repo.segments(1).unwrap().is_empty());
    let draft = |name: &str, kind| SegmentDraft {
        name: name.into(),
        kind,
        filters: vec![json!(["is", "visit:source", ["Google"]]), json!(["has_done", ["is", "event:goal", ["Signup"]]])],
        labels: json!({"visit:source": "Google"}),
    };
    let mine = repo.add_segment(1, Some(7), &draft("Mine", SegmentKind::Personal), 100).unwrap();
    let shared = repo.add_segment(1, Some(8), &draft("Shared", SegmentKind::Site), 200).unwrap();
    repo.add_segment(2, None, &draft("Other", SegmentKind::Site), 300).unwrap();
    assert_ne!(mine.id, shared.id, "ids are distinct");
    assert_eq!((mine.owner, mine.kind, mine.created_at, mine.updated_at), (Some(7), SegmentKind::Personal, 100, 100));
    assert_eq!(repo.segments(1).unwrap(), [mine.clone(), shared.clone()], "a site's segments in creation order");
    assert_eq!(repo.segments(1).unwrap()[0].filters, draft("", SegmentKind::Site).filters, "filters round-trip");

    let renamed = SegmentDraft {
        name: "Renamed".into(),
        filters: vec![json!(["is", "event:page", ["/"]])],
        ..draft("", SegmentKind::Site)
    };
    assert!(repo.update_segment(2, mine.id, &renamed, 400).unwrap().is_none(), "another site's segment is not changed");
    let updated = repo.update_segment(1, mine.id, &renamed, 400).unwrap().expect("updated");
    assert_eq!((updated.name.as_str(), updated.kind, updated.owner), ("Renamed", SegmentKind::Site, Some(7)));
    assert_eq!((updated.created_at, updated.updated_at), (100, 400));
    assert_eq!(repo.segments(1).unwrap()[0], updated, "the change is stored");

    assert!(!repo.delete_segment(2, shared.id).unwrap(), "another site's segment is not deleted");
    assert!(repo.delete_segment(1, shared.id).unwrap());
    assert!(!repo.delete_segment(1, shared.id).unwrap(), "a deleted segment is gone");
    assert_eq!(repo.segments(1).unwrap(), [updated]);
}

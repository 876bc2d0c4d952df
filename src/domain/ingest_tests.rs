//! The ingest rules with in-memory ports: no network, no database.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::*;
use crate::domain::client::{ClientInfo, DeviceClass};
use crate::domain::event::Location;
use crate::domain::site::{SiteDomain, SiteId, TimeZoneName};
use crate::ports::queue::{PublishError, Receipt};

struct FixedClock(i64);
impl Clock for FixedClock {
    fn now_micros(&self) -> i64 {
        self.0
    }
}

struct NoGeo;
impl GeoLookup for NoGeo {
    fn locate(&self, _: IpAddr) -> Location {
        Location { country: Some("DE".into()), ..Default::default() }
    }
}

/// "bot" anywhere in the UA makes a bot; everything else is Chrome on Linux.
struct FakeUa;
impl UserAgentClassifier for FakeUa {
    fn classify(&self, ua: &str) -> Arc<ClientInfo> {
        Arc::new(ClientInfo {
            browser: Some("Chrome".into()),
            browser_version: Some("1.0".into()),
            os: Some("Linux".into()),
            os_version: None,
            device: DeviceClass::Desktop,
            bot: ua.contains("bot").then_some(BotKind::Other),
            crawler: None,
        })
    }
}

#[derive(Default)]
struct VecQueue {
    records: Mutex<Vec<Record>>,
    capacity: usize,
    /// A durable queue whose confirmations fail (the stream refused the hits after all).
    unconfirmed: bool,
}
impl RecordPublisher for VecQueue {
    fn try_publish(&self, record: Record) -> Result<Receipt, PublishError> {
        let mut r = self.records.lock().unwrap();
        if r.len() >= self.capacity {
            return Err(PublishError::Full);
        }
        r.push(record);
        if self.unconfirmed {
            return Ok(Receipt::pending(async { Err(PublishError::Full) }));
        }
        Ok(Receipt::taken())
    }
    fn published(&self) -> u64 {
        self.records.lock().unwrap().len() as u64
    }
    fn depth(&self) -> usize {
        self.records.lock().unwrap().len()
    }
    fn capacity(&self) -> usize {
        self.capacity
    }
}

fn service(capacity: usize) -> (IngestService, Arc<VecQueue>) {
    let queue = Arc::new(VecQueue { capacity, ..VecQueue::default() });
    (service_on(queue.clone()), queue)
}

fn service_on(queue: Arc<VecQueue>) -> IngestService {
    let site = Site {
        id: SiteId(3),
        domain: SiteDomain::parse("shop.test").unwrap(),
        hostnames: vec![],
        timezone: TimeZoneName::utc(),
        honor_dnt: true,
        honor_gpc: true,
        excluded_ips: vec!["192.0.2.0/24".parse().unwrap()],
        retention_days: 0,
    };
    let lax = Site { id: SiteId(4), domain: SiteDomain::parse("lax.test").unwrap(), honor_dnt: false, ..site.clone() };
    let svc = IngestService::new(
        SiteDirectory::new(vec![site, lax]),
        SaltRing::default(),
        Arc::new(FakeUa),
        Arc::new(NoGeo),
        Arc::new(FixedClock(1_700_000_000_000_000)),
        queue,
    );
    svc.rotate_salts(|| Salt([7; 32]));
    svc
}

fn hit(site: &str, ua: &str) -> IncomingHit {
    IncomingHit {
        kind: HitKind::Pageview { props: Vec::new() },
        site_host: site.into(),
        page: Page::parse("/a?utm_source=x", false).unwrap(),
        referrer: Some("https://duckduckgo.com/".into()),
        user_agent: ua.into(),
        client_ip: "203.0.113.5".parse().unwrap(),
        screen_width: Some(400),
        language: Some("de_de".into()),
        do_not_track: false,
        global_privacy_control: false,
        timestamp: None,
    }
}

#[test]
fn accepted_hits_are_enriched_and_queued() {
    let (svc, queue) = service(10);
    assert!(matches!(svc.ingest(hit("https://www.shop.test", "Mozilla")), Ok(Outcome::Accepted(_))));
    let records = queue.records.lock().unwrap();
    let Record::Event { event, visitor } = &records[0] else { panic!("not an event") };
    assert_eq!(event.site_id, 3);
    assert_eq!(event.hostname, "shop.test");
    assert_eq!(event.pathname, "/a");
    assert_eq!(event.traffic.source.as_deref(), Some("x"), "utm_source wins over the referrer");
    assert_eq!(event.location.country.as_deref(), Some("DE"));
    assert_eq!(event.screen, Some(ScreenClass::Mobile));
    assert_eq!(event.language.as_deref(), Some("de-DE"));
    assert_eq!(event.visitor_id, visitor.current);
    assert_eq!(svc.counters.accepted.load(Ordering::Relaxed), 1);
}

#[test]
fn drop_rules_in_order() {
    let (svc, queue) = service(10);
    assert!(matches!(svc.ingest(hit("https://other.test", "Mozilla")), Ok(Outcome::Dropped(DropReason::UnknownSite))));
    assert!(matches!(svc.ingest(hit("https://shop.test", "somebot/1")), Ok(Outcome::Dropped(DropReason::Bot))));
    let mut dnt = hit("https://shop.test", "Mozilla");
    dnt.do_not_track = true;
    assert!(matches!(svc.ingest(dnt.clone()), Ok(Outcome::Dropped(DropReason::DoNotTrack))));
    dnt.site_host = "https://lax.test".into();
    assert!(matches!(svc.ingest(dnt), Ok(Outcome::Accepted(_))), "a site may record despite DNT");
    let mut gpc = hit("https://lax.test", "Mozilla");
    gpc.global_privacy_control = true;
    assert!(matches!(svc.ingest(gpc), Ok(Outcome::Dropped(DropReason::GlobalPrivacyControl))));
    let mut excluded = hit("https://shop.test", "Mozilla");
    excluded.client_ip = "192.0.2.77".parse().unwrap();
    assert!(matches!(svc.ingest(excluded), Ok(Outcome::Dropped(DropReason::ExcludedIp))));
    assert_eq!(queue.depth(), 1);
    assert_eq!(svc.counters.dropped(DropReason::Bot), 1);
    assert_eq!(svc.counters.received.load(Ordering::Relaxed), 6);
}

#[test]
fn invalid_custom_events_and_full_queue() {
    let (svc, _queue) = service(1);
    let mut e = hit("https://shop.test", "Mozilla");
    e.kind = HitKind::Custom { name: "pageview".into(), props: vec![], revenue: None };
    assert!(matches!(svc.ingest(e.clone()), Err(IngestError::Invalid(i)) if i.field == "name"));
    e.kind = HitKind::Custom {
        name: "signup".into(),
        props: (0..31).map(|i| (format!("k{i}"), "v".into())).collect(),
        revenue: None,
    };
    assert!(matches!(svc.ingest(e.clone()), Err(IngestError::Invalid(i)) if i.field == "props"));
    e.kind = HitKind::Custom {
        name: "signup".into(),
        props: vec![("a".into(), "1".into()), ("a".into(), "2".into())],
        revenue: None,
    };
    assert!(matches!(svc.ingest(e.clone()), Ok(Outcome::Accepted(_))));
    assert!(matches!(svc.ingest(e), Err(IngestError::Overloaded)));
    assert_eq!(svc.counters.overloaded.load(Ordering::Relaxed), 1);
}

/// Polls a receipt whose confirmation is already decided.
fn confirmed_now(receipt: Receipt) -> Result<(), PublishError> {
    use std::future::Future;
    let mut confirmation = std::pin::pin!(receipt.confirmed());
    match confirmation.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(r) => r,
        std::task::Poll::Pending => panic!("the confirmation is not decided"),
    }
}

#[test]
fn a_hit_the_durable_queue_does_not_confirm_is_not_counted_accepted() {
    let (svc, queue) = service(10);
    let ok = svc.ingest(hit("https://shop.test", "Mozilla")).unwrap().into_receipt();
    assert_eq!(svc.counters.accepted.load(Ordering::Relaxed), 1, "a memory queue's receipt is final");
    assert_eq!(confirmed_now(ok), Ok(()));
    assert_eq!(queue.depth(), 1);
    let refusing = VecQueue { capacity: 10, unconfirmed: true, ..VecQueue::default() };
    let svc = service_on(Arc::new(refusing));
    let receipt = svc.ingest(hit("https://shop.test", "Mozilla")).unwrap().into_receipt();
    assert_eq!(svc.counters.accepted.load(Ordering::Relaxed), 0, "not accepted before the confirmation");
    assert_eq!(confirmed_now(receipt), Err(PublishError::Full));
    assert_eq!(svc.counters.accepted.load(Ordering::Relaxed), 0, "answered 503, so not accepted");
    assert_eq!(svc.counters.overloaded.load(Ordering::Relaxed), 1);
}

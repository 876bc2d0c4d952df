//! The ingest service: a validated hit -> drop rules -> enrichment -> visitor key -> queue.
//! Runs on the request path, so everything here is constant work per hit.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::channel::classify;
use super::client::{BotKind, ScreenClass, normalize_language};
use super::event::{ENGAGEMENT, Engagement, Event, PAGEVIEW, Record, TrafficSource, VitalMetric, VitalSample};
use super::limits::{InvalidHit, MAX_REFERRER_LEN, MAX_USER_AGENT_LEN, check_len};
use super::page::Page;
use super::revenue::Revenue;
use super::site::{Site, SiteDirectory};
use super::visitor::{Salt, SaltRing, VisitorKey, day_of};
use crate::ports::clock::Clock;
use crate::ports::geo::GeoLookup;
use crate::ports::queue::{PublishError, Receipt, RecordPublisher};
use crate::ports::useragent::UserAgentClassifier;

/// What kind of hit arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum HitKind {
    /// A page view, with custom properties when the sender gave some (Plausible's `props`).
    Pageview {
        props: Vec<(String, String)>,
    },
    Custom {
        name: String,
        props: Vec<(String, String)>,
        revenue: Option<Revenue>,
    },
    /// Scroll depth and engaged time of the page view on the hit's page.
    Engagement(Engagement),
}

/// A hit as the HTTP edge received it, before any decision.
#[derive(Debug, Clone)]
pub struct IncomingHit {
    pub kind: HitKind,
    /// The host that names the site: the `Origin` header's, or the Plausible `domain`.
    pub site_host: String,
    pub page: Page,
    pub referrer: Option<String>,
    pub user_agent: String,
    pub client_ip: IpAddr,
    pub screen_width: Option<u32>,
    pub language: Option<String>,
    pub do_not_track: bool,
    pub global_privacy_control: bool,
    /// When the event happened, for authenticated server-side senders backfilling history;
    /// `None` means now.
    pub timestamp: Option<i64>,
}

/// A Web Vitals report as received.
#[derive(Debug, Clone)]
pub struct IncomingVital {
    pub site_host: String,
    pub metric: String,
    pub value: f64,
    pub pathname: String,
    pub navigation_type: Option<String>,
    pub user_agent: String,
    pub client_ip: IpAddr,
    pub do_not_track: bool,
    pub global_privacy_control: bool,
}

/// Why an acceptable-looking hit was not recorded. The client still gets 202: telling it would
/// reveal which sites exist or that it was classified as a bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    UnknownSite,
    Bot,
    AiCrawler,
    DoNotTrack,
    GlobalPrivacyControl,
    ExcludedIp,
}

impl DropReason {
    pub const ALL: [DropReason; 6] = [
        DropReason::UnknownSite,
        DropReason::Bot,
        DropReason::AiCrawler,
        DropReason::DoNotTrack,
        DropReason::GlobalPrivacyControl,
        DropReason::ExcludedIp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::UnknownSite => "unknown_site",
            DropReason::Bot => "bot",
            DropReason::AiCrawler => "ai_crawler",
            DropReason::DoNotTrack => "dnt",
            DropReason::GlobalPrivacyControl => "gpc",
            DropReason::ExcludedIp => "excluded_ip",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|r| *r == self).expect("listed")
    }
}

/// The decision for one hit.
#[derive(Debug)]
pub enum Outcome {
    /// Queued; a durable queue's receipt is awaited before the sender gets its 202.
    Accepted(Receipt),
    Dropped(DropReason),
    /// An AI crawler's page view: left out of visitor stats (counted as dropped with
    /// `ai_crawler`) and queued for the crawler report.
    Crawled(Receipt),
}

/// An admitted hit's site, client and visitor.
type Admitted = (Arc<Site>, Arc<super::client::ClientInfo>, VisitorKey);

impl Outcome {
    /// The queue's receipt (a dropped hit has nothing to wait for).
    pub fn into_receipt(self) -> Receipt {
        match self {
            Self::Accepted(r) | Self::Crawled(r) => r,
            Self::Dropped(_) => Receipt::taken(),
        }
    }
}

/// Why a hit was refused (the client sees an error status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Invalid(#[from] InvalidHit),
    /// The queue is full: retry later (503).
    #[error("server busy: ingest queue is full")]
    Overloaded,
    /// Not accepting hits (shutting down, or no writer).
    #[error("server unavailable: not accepting hits right now")]
    Unavailable,
    /// The store cannot write (disk full, I/O errors): hits would only pile up in memory.
    #[error("storage is failing: not accepting hits until it can write again")]
    StoreFailing,
}

/// Counters exported as metrics.
#[derive(Debug, Default)]
pub struct IngestCounters {
    pub received: AtomicU64,
    pub accepted: AtomicU64,
    pub invalid: AtomicU64,
    pub too_large: AtomicU64,
    pub overloaded: AtomicU64,
    pub unavailable: AtomicU64,
    dropped: [AtomicU64; DropReason::ALL.len()],
}

impl IngestCounters {
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.index()].load(Ordering::Relaxed)
    }

    fn count_drop(&self, reason: DropReason) {
        self.dropped[reason.index()].fetch_add(1, Ordering::Relaxed);
    }

    fn count_confirmation(&self, confirmed: &Result<(), PublishError>) {
        let counter = match confirmed {
            Ok(()) => &self.accepted,
            Err(PublishError::Full) => &self.overloaded,
            Err(PublishError::Closed) => &self.unavailable,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Validates, filters, enriches and queues hits.
pub struct IngestService {
    sites: RwLock<Arc<SiteDirectory>>,
    salts: RwLock<SaltRing>,
    user_agents: Arc<dyn UserAgentClassifier>,
    geo: Arc<dyn GeoLookup>,
    clock: Arc<dyn Clock>,
    queue: Arc<dyn RecordPublisher>,
    /// Set by the writer while appends fail.
    store_failing: Arc<AtomicBool>,
    /// Shared with the receipts, which count a hit accepted only once the queue confirmed it.
    pub counters: Arc<IngestCounters>,
}

impl IngestService {
    pub fn new(
        sites: SiteDirectory,
        salts: SaltRing,
        user_agents: Arc<dyn UserAgentClassifier>,
        geo: Arc<dyn GeoLookup>,
        clock: Arc<dyn Clock>,
        queue: Arc<dyn RecordPublisher>,
    ) -> Self {
        Self {
            sites: RwLock::new(Arc::new(sites)),
            salts: RwLock::new(salts),
            user_agents,
            geo,
            clock,
            queue,
            store_failing: Arc::default(),
            counters: Arc::default(),
        }
    }

    /// Refuses hits (503) while `failing` is set: the writer's view of the store.
    pub fn with_store_health(mut self, failing: Arc<AtomicBool>) -> Self {
        self.store_failing = failing;
        self
    }

    /// Replaces the site directory (after sites change).
    pub fn set_sites(&self, sites: SiteDirectory) {
        *self.sites.write().expect("sites lock") = Arc::new(sites);
    }

    pub fn sites(&self) -> Arc<SiteDirectory> {
        self.sites.read().expect("sites lock").clone()
    }

    /// Ensures today's salt exists; returns a salt to persist when one was created and the day
    /// through which stored salts must be deleted.
    pub fn rotate_salts(&self, fresh: impl FnOnce() -> Salt) -> super::visitor::Rotation {
        self.rotate_salts_on(day_of(self.clock.now_micros()), fresh)
    }

    /// Makes `today` the salts' day (`hitkeep seed`, whose hits are days in the past).
    pub fn rotate_salts_on(
        &self,
        today: super::visitor::Day,
        fresh: impl FnOnce() -> Salt,
    ) -> super::visitor::Rotation {
        self.salts.write().expect("salts lock").rotate(today, fresh)
    }

    pub fn queue_depth(&self) -> usize {
        self.queue.depth()
    }

    /// Records queued since start; see `WriterCounters::committed`.
    pub fn published(&self) -> u64 {
        self.queue.published()
    }

    pub fn queue_capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// Whether the queue can take hits now (a durable queue: connected).
    pub fn queue_ready(&self) -> bool {
        self.queue.ready()
    }

    /// Whether a hit the queue confirmed is safe before the writer stored it.
    pub fn queue_durable(&self) -> bool {
        self.queue.durable()
    }

    /// The queue adapter's own metrics.
    pub fn queue_metrics(&self) -> Vec<crate::ports::queue::QueueMetric> {
        self.queue.metrics()
    }

    /// Decides on one pageview or custom event.
    pub fn ingest(&self, hit: IncomingHit) -> Result<Outcome, IngestError> {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        let result = self.ingest_inner(hit);
        self.count(result)
    }

    /// Decides on one Web Vitals report.
    pub fn ingest_vital(&self, vital: IncomingVital) -> Result<Outcome, IngestError> {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        let result = self.ingest_vital_inner(vital);
        self.count(result)
    }

    /// Counts a body refused before parsing (too large).
    pub fn count_too_large(&self) {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        self.counters.too_large.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a body that could not be parsed at all.
    pub fn count_malformed(&self) {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        self.counters.invalid.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts the decision; an accepted hit when its receipt confirms it (a durable queue may
    /// still answer 503), so `accepted` never counts a hit the sender was refused.
    fn count(&self, result: Result<Outcome, IngestError>) -> Result<Outcome, IngestError> {
        let c = &self.counters;
        match &result {
            Ok(Outcome::Accepted(_)) => {
                let counters = self.counters.clone();
                return result.map(|o| {
                    Outcome::Accepted(o.into_receipt().inspect(move |confirmed| counters.count_confirmation(confirmed)))
                });
            }
            Ok(Outcome::Dropped(r)) => c.count_drop(*r),
            Ok(Outcome::Crawled(_)) => c.count_drop(DropReason::AiCrawler),
            Err(IngestError::Invalid(_)) => _ = c.invalid.fetch_add(1, Ordering::Relaxed),
            Err(IngestError::Overloaded) => _ = c.overloaded.fetch_add(1, Ordering::Relaxed),
            Err(IngestError::Unavailable | IngestError::StoreFailing) => {
                _ = c.unavailable.fetch_add(1, Ordering::Relaxed)
            }
        }
        result
    }

    /// `admit`, then the visitor's key under today's salt; `Ok(Err(reason))` for a dropped hit.
    fn admit_visitor(
        &self,
        (site_host, user_agent, ip, dnt, gpc): (&str, &str, IpAddr, bool, bool),
    ) -> Result<Result<Admitted, DropReason>, IngestError> {
        let (site, client) = match self.admit(site_host, user_agent, ip, dnt, gpc) {
            Ok(admitted) => admitted,
            Err(reason) => return Ok(Err(reason)),
        };
        let salts = self.salts.read().expect("salts lock");
        let visitor = salts.visitor_key(site.id.0, ip, user_agent).ok_or(IngestError::Unavailable)?;
        Ok(Ok((site, client, visitor)))
    }

    /// The common gate: site known, not a bot, privacy signals, exclusions.
    fn admit(
        &self,
        site_host: &str,
        user_agent: &str,
        ip: IpAddr,
        dnt: bool,
        gpc: bool,
    ) -> Result<(Arc<Site>, Arc<super::client::ClientInfo>), DropReason> {
        let sites = self.sites();
        let site = sites.resolve(site_host).ok_or(DropReason::UnknownSite)?.clone();
        if gpc && site.honor_gpc {
            return Err(DropReason::GlobalPrivacyControl);
        }
        if dnt && site.honor_dnt {
            return Err(DropReason::DoNotTrack);
        }
        if site.excluded_ips.iter().any(|net| net.contains(&ip)) {
            return Err(DropReason::ExcludedIp);
        }
        let client = self.user_agents.classify(user_agent);
        match client.bot {
            Some(BotKind::AiCrawler) => return Err(DropReason::AiCrawler),
            Some(BotKind::Other) => return Err(DropReason::Bot),
            None => {}
        }
        Ok((site, client))
    }

    fn ingest_inner(&self, hit: IncomingHit) -> Result<Outcome, IngestError> {
        let pageview = matches!(hit.kind, HitKind::Pageview { .. });
        let (name, props, revenue, engagement) = match hit.kind {
            HitKind::Pageview { props } => (PAGEVIEW.to_string(), validate_props(props)?, None, None),
            HitKind::Custom { name, props, revenue } => {
                let (name, props) = validate_custom(name, props)?;
                (name, props, revenue, None)
            }
            HitKind::Engagement(e) => (ENGAGEMENT.to_string(), Vec::new(), None, Some(e)),
        };
        if let Some(r) = &hit.referrer {
            check_len("referrer", r, MAX_REFERRER_LEN)?;
        }
        let user_agent = truncate(&hit.user_agent, MAX_USER_AGENT_LEN);
        let gate = (hit.site_host.as_str(), user_agent, hit.client_ip, hit.do_not_track, hit.global_privacy_control);
        let (site, client, visitor) = match self.admit_visitor(gate)? {
            Ok(admitted) => admitted,
            Err(DropReason::AiCrawler) if pageview => {
                return self.crawled(&hit.site_host, user_agent, hit.page.pathname, hit.timestamp);
            }
            Err(reason) => return Ok(Outcome::Dropped(reason)),
        };
        let hostname = hit
            .page
            .hostname
            .or_else(|| super::site::normalize_host(&hit.site_host))
            .unwrap_or_else(|| site.domain.to_string());
        let source = classify(hit.referrer.as_deref(), site.domain.as_str(), &hit.page.utm, hit.page.paid_click);
        let now = self.clock.now_micros();
        let ts = match hit.timestamp {
            Some(t) if t > now + 60_000_000 => return Err(InvalidHit::new("timestamp", "is in the future").into()),
            Some(t) => t,
            None => now,
        };
        let event = Event {
            ts,
            site_id: site.id.0,
            name,
            visitor_id: visitor.current,
            visit_id: 0,
            hostname,
            pathname: hit.page.pathname.clone(),
            traffic: Arc::new(TrafficSource {
                entry_page: hit.page.pathname,
                referrer: source.referrer,
                source: source.source,
                channel: source.channel,
                utm: hit.page.utm,
            }),
            location: self.geo.locate(hit.client_ip),
            browser: client.browser.clone(),
            browser_version: client.browser_version.clone(),
            os: client.os.clone(),
            os_version: client.os_version.clone(),
            device: client.device,
            screen: hit.screen_width.and_then(ScreenClass::from_width),
            language: hit.language.as_deref().and_then(normalize_language),
            props,
            visit_stats: Default::default(),
            revenue,
            engagement,
        };
        self.publish(Record::Event { visitor, event: Box::new(event) })
    }

    fn ingest_vital_inner(&self, v: IncomingVital) -> Result<Outcome, IngestError> {
        let metric = VitalMetric::parse(&v.metric)
            .ok_or_else(|| InvalidHit::new("n", "must be one of LCP, INP, CLS, FCP, TTFB"))?;
        if !v.value.is_finite() || v.value < 0.0 || v.value > 3_600_000.0 {
            return Err(InvalidHit::new("v", "must be a finite, non-negative number").into());
        }
        let page = Page::parse(&v.pathname, false)?;
        let user_agent = truncate(&v.user_agent, MAX_USER_AGENT_LEN);
        let gate = (v.site_host.as_str(), user_agent, v.client_ip, v.do_not_track, v.global_privacy_control);
        let (site, client, visitor) = match self.admit_visitor(gate)? {
            Ok(admitted) => admitted,
            Err(reason) => return Ok(Outcome::Dropped(reason)),
        };
        let sample = VitalSample {
            ts: self.clock.now_micros(),
            site_id: site.id.0,
            visitor_id: visitor.current,
            metric,
            value: v.value,
            pathname: page.pathname,
            navigation_type: v.navigation_type.map(|t| truncate(&t, 32).to_string()),
            device: client.device,
            country: self.geo.locate(v.client_ip).country,
        };
        self.publish(Record::Vital(sample))
    }

    /// Queues a record another node already admitted, enriched and acknowledged (a deposed
    /// leader's hand-over): no second admission, no second count.
    pub fn republish(&self, record: Record) -> Result<Outcome, IngestError> {
        self.publish(record)
    }

    fn publish(&self, record: Record) -> Result<Outcome, IngestError> {
        if self.store_failing.load(Ordering::Relaxed) {
            return Err(IngestError::StoreFailing);
        }
        match self.queue.try_publish(record) {
            Ok(receipt) => Ok(Outcome::Accepted(receipt)),
            Err(PublishError::Full) => Err(IngestError::Overloaded),
            Err(PublishError::Closed) => Err(IngestError::Unavailable),
        }
    }
}

#[path = "ingest_crawl.rs"]
mod crawl;

#[path = "ingest_validate.rs"]
mod validate;
pub use validate::explicit_utm;
use validate::{truncate, validate_custom, validate_props};

#[cfg(test)]
#[path = "ingest_tests.rs"]
mod tests;

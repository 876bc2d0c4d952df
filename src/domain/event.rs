//! What is recorded: pageviews and custom events (one wide row each), and Web Vitals samples.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::channel::Channel;
use super::client::{DeviceClass, ScreenClass};
use super::page::Utm;
use super::visitor::VisitorKey;

/// The name pageviews are stored under (custom events carry their own).
pub const PAGEVIEW: &str = "pageview";

/// The name of Plausible's engagement events: never stored as events, see [`Engagement`].
pub const ENGAGEMENT: &str = "engagement";

/// How far a visitor scrolled and how long they were engaged on one page view, sent when the
/// page is hidden or left. Stored apart from events (the `engagements` table), so it feeds
/// scroll depth and time on page but no event count, goal or bounce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Engagement {
    /// Deepest point of the page seen, percent of its height (0..=100); `None` when not sent.
    pub scroll_depth: Option<u8>,
    /// Time the page was visible and focused since the last report, milliseconds.
    pub engaged_ms: u32,
}

/// Longest engaged time one report may carry (a tab left open for days is not reading).
pub const MAX_ENGAGED_MS: u32 = 30 * 60 * 1000;

impl Engagement {
    /// From Plausible's `sd` and `e`: scroll depth clamped to 0..=100 (negative means unknown),
    /// engaged time clamped to [`MAX_ENGAGED_MS`].
    pub fn from_wire(sd: Option<f64>, e: Option<f64>) -> Self {
        let scroll_depth = sd.filter(|v| v.is_finite() && *v >= 0.0).map(|v| v.round().min(100.0) as u8);
        let engaged_ms = e.filter(|v| v.is_finite() && *v > 0.0).map_or(0, |v| v.min(MAX_ENGAGED_MS as f64) as u32);
        Self { scroll_depth, engaged_ms }
    }
}

/// Where a visitor was, from the client IP (the IP itself is never kept).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// ISO 3166-2 subdivision code or name, when a city database is configured.
    pub region: Option<String>,
    pub city: Option<String>,
}

/// Where a visit came from and where it landed. Decided by the visit's first event and carried
/// by all its events, so `visit:source`, `visit:entry_page` and friends are plain column reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficSource {
    /// The visit's first page.
    pub entry_page: String,
    /// Referrer as host + path, when another site.
    pub referrer: Option<String>,
    /// Grouped source (Google, Twitter, a utm_source, a referrer host).
    pub source: Option<String>,
    pub channel: Channel,
    pub utm: Utm,
}

/// One stored event: a pageview (`name == "pageview"`) or a custom event; or, when
/// `engagement` is set, an engagement report for the page view on `pathname` (not an event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// UTC, microseconds since the epoch; the server's receive time.
    pub ts: i64,
    pub site_id: u32,
    pub name: String,
    pub visitor_id: u64,
    pub visit_id: u64,
    pub hostname: String,
    pub pathname: String,
    /// The visit's traffic source (replaced by the first event's when the visit continues).
    pub traffic: Arc<TrafficSource>,
    pub location: Location,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    pub device: DeviceClass,
    pub screen: Option<ScreenClass>,
    pub language: Option<String>,
    /// Custom properties, keys unique, in the order sent.
    pub props: Vec<(String, String)>,
    /// Running visit statistics, set by the writer: summed over any set of whole visits they
    /// give visits, bounces and total duration without grouping by visit.
    pub visit_stats: VisitStats,
    /// Revenue the event carried (custom events only).
    #[serde(default)]
    pub revenue: Option<super::revenue::Revenue>,
    /// Set for engagement reports, which are stored apart and count as no event.
    #[serde(default)]
    pub engagement: Option<Engagement>,
}

/// An event's contribution to its visit's numbers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VisitStats {
    /// The event opened its visit (1 per visit).
    pub visit_start: bool,
    /// +1 when a visit starts with a pageview (a bounce so far), -1 when its second event
    /// arrives (no longer a bounce); sums to the number of bounced visits.
    pub bounce_delta: i8,
    /// Whole seconds since the visit's previous event; sums to the visit's duration.
    pub duration_delta: u32,
    /// On a pageview after the visit's first: the previous pageview's page and how long it was
    /// viewed (time on page without a window over the visit's events).
    #[serde(default)]
    pub previous_page: Option<PreviousPage>,
}

/// The page a visit viewed before this pageview, and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousPage {
    pub path: String,
    /// Milliseconds from that pageview to this one.
    pub gap_ms: u32,
}

impl PreviousPage {
    /// The gap in whole seconds, to the nearest (what is stored and reported: time on page is
    /// in seconds, and seconds pack into half the bits of milliseconds).
    pub fn gap_secs(&self) -> u32 {
        self.gap_ms.saturating_add(500) / 1000
    }
}

/// A Web Vitals measurement from a page load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VitalSample {
    pub ts: i64,
    pub site_id: u32,
    pub visitor_id: u64,
    pub metric: VitalMetric,
    pub value: f64,
    pub pathname: String,
    pub navigation_type: Option<String>,
    pub device: DeviceClass,
    pub country: Option<String>,
}

impl VitalSample {
    /// A sample for tests (unit and integration) that need some record: an LCP of 1 ms on `/`
    /// of `site_id` at `ts`.
    pub fn test_lcp(site_id: u32, ts: i64) -> Self {
        Self {
            ts,
            site_id,
            visitor_id: 0,
            metric: VitalMetric::Lcp,
            value: 1.0,
            pathname: "/".into(),
            navigation_type: None,
            device: DeviceClass::Desktop,
            country: None,
        }
    }
}

/// The Core Web Vitals and their helpers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VitalMetric {
    Lcp,
    Inp,
    Cls,
    Fcp,
    Ttfb,
}

impl VitalMetric {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "LCP" => Self::Lcp,
            "INP" => Self::Inp,
            "CLS" => Self::Cls,
            "FCP" => Self::Fcp,
            "TTFB" => Self::Ttfb,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lcp => "LCP",
            Self::Inp => "INP",
            Self::Cls => "CLS",
            Self::Fcp => "FCP",
            Self::Ttfb => "TTFB",
        }
    }

    /// `good` / `needs-improvement` / `poor` by the web.dev thresholds.
    pub fn rating(self, value: f64) -> &'static str {
        let (good, poor) = match self {
            Self::Lcp => (2500.0, 4000.0),
            Self::Inp => (200.0, 500.0),
            Self::Cls => (0.1, 0.25),
            Self::Fcp => (1800.0, 3000.0),
            Self::Ttfb => (800.0, 1800.0),
        };
        if value <= good {
            "good"
        } else if value <= poor {
            "needs-improvement"
        } else {
            "poor"
        }
    }
}

/// What travels through the ingest queue: enriched, not yet assigned to a visit. Serializable
/// so a deposed leader can hand what it acknowledged but did not write to the next leader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Record {
    Event {
        visitor: VisitorKey,
        event: Box<Event>,
    },
    Vital(VitalSample),
    /// A page fetched by an AI crawler: kept apart from visitor stats.
    Crawl(super::crawlers::CrawlerFetch),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vitals_ratings_follow_thresholds() {
        assert_eq!(VitalMetric::Lcp.rating(2500.0), "good");
        assert_eq!(VitalMetric::Lcp.rating(3000.0), "needs-improvement");
        assert_eq!(VitalMetric::Cls.rating(0.3), "poor");
        assert_eq!(VitalMetric::parse("INP"), Some(VitalMetric::Inp));
        assert_eq!(VitalMetric::parse("XYZ"), None);
    }

    #[test]
    fn engagement_from_plausible_fields() {
        let e = Engagement::from_wire(Some(61.4), Some(3012.0));
        assert_eq!((e.scroll_depth, e.engaged_ms), (Some(61), 3012));
        let e = Engagement::from_wire(Some(250.0), Some(1e12));
        assert_eq!((e.scroll_depth, e.engaged_ms), (Some(100), MAX_ENGAGED_MS));
        let e = Engagement::from_wire(Some(-1.0), None);
        assert_eq!((e.scroll_depth, e.engaged_ms), (None, 0));
    }
}

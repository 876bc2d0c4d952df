//! Outbound webhooks: what a site can subscribe to, how bodies are shaped (generic JSON, Slack,
//! Discord), how they are signed, which targets are refused (SSRF), and when a failed delivery
//! is tried again.

use std::net::IpAddr;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// Something a webhook can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    /// Goal conversions since the last batch (one body per batch).
    GoalConverted,
    ReportDaily,
    ReportWeekly,
    TrafficSpike,
    TrafficDrop,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 5] =
        [Self::GoalConverted, Self::ReportDaily, Self::ReportWeekly, Self::TrafficSpike, Self::TrafficDrop];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::GoalConverted => "goal.converted",
            Self::ReportDaily => "report.daily",
            Self::ReportWeekly => "report.weekly",
            Self::TrafficSpike => "traffic.spike",
            Self::TrafficDrop => "traffic.drop",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s.trim())
    }
}

/// The shape of a delivered body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `{"event", "site", "sent_at", "data"}`.
    Generic,
    /// An incoming-webhook message: `{"text"}`.
    Slack,
    /// A channel webhook message: `{"content"}`.
    Discord,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generic => "generic",
            Self::Slack => "slack",
            Self::Discord => "discord",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Generic, Self::Slack, Self::Discord].into_iter().find(|f| f.as_str() == s.trim())
    }
}

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRuleError {
    #[error("invalid webhook: {0}")]
    Invalid(String),
    #[error(
        "webhook target {0} is a loopback, link-local, private or unspecified address; the operator can allow \
         such targets with --webhooks-allow-private"
    )]
    PrivateTarget(String),
}

/// A validated subscription request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDraft {
    pub url: url::Url,
    pub events: Vec<WebhookEvent>,
    pub format: BodyFormat,
}

/// Longest accepted target URL.
pub const MAX_URL_LEN: usize = 2048;

impl WebhookDraft {
    /// Parses a target and its events (at least one, no duplicates kept).
    pub fn parse(url: &str, events: &[String], format: Option<&str>) -> Result<Self, WebhookRuleError> {
        let bad = |m: String| WebhookRuleError::Invalid(m);
        if url.len() > MAX_URL_LEN {
            return Err(bad(format!("url is longer than {MAX_URL_LEN} characters")));
        }
        let parsed = url::Url::parse(url.trim()).map_err(|e| bad(format!("url {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(bad(format!("url {url:?} must be an http:// or https:// address with a host")));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(bad("url must not carry a user name or password; use the signature instead".into()));
        }
        let mut list = Vec::new();
        for e in events {
            let event = WebhookEvent::parse(e).ok_or_else(|| {
                let all: Vec<_> = WebhookEvent::ALL.iter().map(|e| e.as_str()).collect();
                bad(format!("unknown event {e:?}; one of {}", all.join(", ")))
            })?;
            if !list.contains(&event) {
                list.push(event);
            }
        }
        if list.is_empty() {
            return Err(bad("events must name at least one event".into()));
        }
        let format = match format {
            None => BodyFormat::Generic,
            Some(f) => BodyFormat::parse(f).ok_or_else(|| bad(format!("format {f:?}: generic, slack or discord")))?,
        };
        Ok(Self { url: parsed, events: list, format })
    }
}

/// Whether a delivery may connect to `ip`: loopback, link-local, private (RFC 1918, unique
/// local), shared (CGNAT), unspecified, broadcast and documentation ranges are internal.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
        }
    }
}

/// Refuses a target whose resolved addresses include an internal one, unless allowed.
pub fn check_addresses(host: &str, addresses: &[IpAddr], allow_private: bool) -> Result<(), WebhookRuleError> {
    if addresses.is_empty() {
        return Err(WebhookRuleError::Invalid(format!("{host} does not resolve to an address")));
    }
    match addresses.iter().find(|a| is_internal(**a)) {
        Some(a) if !allow_private => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let named = if bare == a.to_string() { host.to_string() } else { format!("{host} ({a})") };
            Err(WebhookRuleError::PrivateTarget(named))
        }
        _ => Ok(()),
    }
}

/// Header with the signature: `sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub const SIGNATURE_HEADER: &str = "X-HitKeep-Signature";
/// Header with the signing time in Unix seconds; receivers reject old ones (see `REPLAY_WINDOW_SECS`).
pub const TIMESTAMP_HEADER: &str = "X-HitKeep-Timestamp";
/// How old a timestamp receivers should still accept (documented; the sender signs each attempt anew).
pub const REPLAY_WINDOW_SECS: i64 = 300;

/// The signature header's value for a body sent at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: u32 = 6;

/// When attempt `attempts + 1` is due after `attempts` failures: `base` doubled per failure
/// (base 30 s: 30 s, 1 min, 2 min, 4 min, 8 min); `None` once `MAX_ATTEMPTS` were made.
pub fn retry_delay_micros(attempts: u32, base_micros: i64) -> Option<i64> {
    (attempts < MAX_ATTEMPTS).then(|| base_micros.saturating_mul(1 << attempts.saturating_sub(1).min(20)))
}

/// The one-line summary chat formats show.
pub fn summary(event: &str, site: &str, data: &Value) -> String {
    let n = |k: &str| data.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    match event {
        "traffic.spike" | "traffic.drop" => format!(
            "Traffic {} on {site}: {} pageviews in the last hour, typically {:.0}",
            if event == "traffic.spike" { "spike" } else { "drop" },
            n("pageviews"),
            n("typical"),
        ),
        "goal.converted" => {
            let goals = data.get("goals").and_then(Value::as_array).cloned().unwrap_or_default();
            let parts: Vec<String> =
                goals.iter().map(|g| format!("{} × {}", g["conversions"], g["goal"].as_str().unwrap_or("?"))).collect();
            format!("Goal conversions on {site}: {}", parts.join(", "))
        }
        _ => format!(
            "{} report for {site} ({} to {}): {} visitors, {} pageviews",
            if event == "report.daily" { "Daily" } else { "Weekly" },
            data["from"].as_str().unwrap_or(""),
            data["to"].as_str().unwrap_or(""),
            n("visitors"),
            n("pageviews"),
        ),
    }
}

/// The body sent for `event` on `site` in `format`.
pub fn render(format: BodyFormat, event: &str, site: &str, sent_at: &str, data: &Value) -> String {
    match format {
        BodyFormat::Generic => json!({"event": event, "site": site, "sent_at": sent_at, "data": data}),
        BodyFormat::Slack => json!({"text": summary(event, site, data)}),
        BodyFormat::Discord => json!({"content": summary(event, site, data)}),
    }
    .to_string()
}

/// The daily report due at `now` in `tz`: yesterday, keyed by its date (sent once the day is over).
pub fn daily_due(tz: chrono_tz::Tz, now_micros: i64) -> (String, chrono::NaiveDate) {
    let yesterday = super::lifecycle::local_date(tz, now_micros) - chrono::Duration::days(1);
    (yesterday.to_string(), yesterday)
}

/// A report's figures as webhook data; the previous period's only for weekly reports (a daily
/// report has no figures of the day before).
pub fn report_data(f: &super::email_report::ReportFigures, weekly: bool) -> Value {
    let list = |l: &[(String, u64)], key: &str| -> Vec<Value> {
        l.iter().map(|(name, visitors)| json!({key: name, "visitors": visitors})).collect()
    };
    let mut data = json!({
        "period": if weekly { "week" } else { "day" },
        "from": f.from.to_string(), "to": f.to.to_string(),
        "visitors": f.visitors, "pageviews": f.pageviews,
        "top_pages": list(&f.top_pages, "page"), "top_sources": list(&f.top_sources, "source"),
    });
    if weekly {
        data["previous_visitors"] = json!(f.previous_visitors);
        data["previous_pageviews"] = json!(f.previous_pageviews);
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        for a in ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.4", "169.254.169.254", "0.0.0.0", "::1", "fe80::1"]
        {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["::ffff:127.0.0.1", "fd00::1", "100.64.0.1"] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["93.184.216.34", "2606:4700::1111", "1.1.1.1"] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
        let loopback = ["127.0.0.1".parse().unwrap()];
        assert!(matches!(check_addresses("x", &loopback, false), Err(WebhookRuleError::PrivateTarget(_))));
        assert!(check_addresses("x", &loopback, true).is_ok());
        let mixed = ["1.1.1.1".parse().unwrap(), "10.0.0.1".parse().unwrap()];
        assert!(check_addresses("x", &mixed, false).is_err(), "one internal address is enough to refuse");
    }

    #[test]
    fn drafts_are_parsed() {
        let events = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let d =
            WebhookDraft::parse("https://hooks.test/x", &events(&["traffic.spike", "traffic.spike"]), None).unwrap();
        assert_eq!((d.events, d.format), (vec![WebhookEvent::TrafficSpike], BodyFormat::Generic));
        assert!(WebhookDraft::parse("ftp://hooks.test/x", &events(&["traffic.spike"]), None).is_err());
        assert!(WebhookDraft::parse("https://u:p@hooks.test/x", &events(&["traffic.spike"]), None).is_err());
        assert!(WebhookDraft::parse("https://hooks.test/x", &events(&["goal.made"]), None).is_err());
        assert!(WebhookDraft::parse("https://hooks.test/x", &[], None).is_err());
        assert!(WebhookDraft::parse("https://hooks.test/x", &events(&["report.daily"]), Some("teams")).is_err());
    }

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_and_body() {
        // Computed independently: Python's hmac.new(b"key", b"1700000000.{}", sha256).
        let s = signature("key", 1_700_000_000, "{}");
        assert_eq!(s, "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae");
    }

    #[test]
    fn retries_back_off_exponentially_then_stop() {
        let base = 30_000_000;
        let delays: Vec<_> = (1..=MAX_ATTEMPTS).map(|a| retry_delay_micros(a, base)).collect();
        assert_eq!(delays[0], Some(30_000_000));
        assert_eq!(delays[1], Some(60_000_000));
        assert_eq!(delays[4], Some(480_000_000));
        assert_eq!(delays[5], None);
    }

    #[test]
    fn chat_formats_carry_a_summary() {
        let data = json!({"pageviews": 40, "typical": 5.0});
        let slack: Value =
            serde_json::from_str(&render(BodyFormat::Slack, "traffic.spike", "a.test", "t", &data)).unwrap();
        assert_eq!(slack["text"], "Traffic spike on a.test: 40 pageviews in the last hour, typically 5");
        let discord: Value =
            serde_json::from_str(&render(BodyFormat::Discord, "traffic.spike", "a.test", "t", &data)).unwrap();
        assert_eq!(discord["content"], slack["text"]);
        let generic: Value =
            serde_json::from_str(&render(BodyFormat::Generic, "traffic.spike", "a.test", "t", &data)).unwrap();
        assert_eq!(generic["data"]["pageviews"], 40);
    }
}

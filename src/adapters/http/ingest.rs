//! Ingest endpoints: `POST /ingest`, `/ingest/event`, `/ingest/web-vitals` (HitKeep's protocol)
//! and `POST /api/event` (Plausible's). Each answers 202 as soon as the hit is queued.

use std::net::IpAddr;
use std::sync::Arc;

use poem::http::{HeaderMap, StatusCode, header};
use poem::web::{Data, RemoteAddr};
use poem::{Body, IntoResponse, Response, handler};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::errors::json_error;
use super::payloads::{EventPayload, PageviewPayload, PlausiblePayload, VitalPayload, props_to_pairs, revenue, width};
use super::{AppState, HttpConfig};
use crate::domain::event::{ENGAGEMENT, Engagement, PAGEVIEW};
use crate::domain::ingest::{HitKind, IncomingHit, IncomingVital, IngestError, explicit_utm};
use crate::domain::limits::InvalidHit;
use crate::domain::page::Page;
use crate::ports::queue::Receipt;

fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

/// Which ingest protocol a hit arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestEndpoint {
    /// `POST /ingest`
    Pageview,
    /// `POST /ingest/event`
    Event,
    /// `POST /ingest/web-vitals`
    WebVital,
    /// `POST /api/event`
    Plausible,
}

impl IngestEndpoint {
    /// The endpoint served at `path`.
    pub fn from_path(path: &str) -> Option<Self> {
        match path {
            "/ingest" => Some(Self::Pageview),
            "/ingest/event" => Some(Self::Event),
            "/ingest/web-vitals" => Some(Self::WebVital),
            "/api/event" => Some(Self::Plausible),
            _ => None,
        }
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    TooLarge(usize),
    Unreadable(String),
}

impl IntoResponse for BodyError {
    fn into_response(self) -> Response {
        match self {
            BodyError::TooLarge(limit) => json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                &format!("request body is larger than {limit} bytes"),
                None,
            ),
            BodyError::Unreadable(e) => json_error(StatusCode::BAD_REQUEST, "unreadable_body", &e, None),
        }
    }
}

/// Reads a body of at most `limit` bytes (a declared larger length is refused before reading).
pub async fn read_limited(limit: usize, headers: &HeaderMap, body: Body) -> Result<bytes::Bytes, BodyError> {
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge(limit));
    }
    // A hit is a few hundred bytes: a body still arriving after this is a client holding the
    // connection, not a slow network.
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), body.into_bytes_limit(limit));
    let Ok(read) = read.await else {
        return Err(BodyError::Unreadable("request body not received within 10 s".into()));
    };
    match read {
        Ok(b) => Ok(b),
        Err(poem::error::ReadBodyError::PayloadTooLarge) => Err(BodyError::TooLarge(limit)),
        Err(e) => Err(BodyError::Unreadable(e.to_string())),
    }
}

/// The answer to a body that is not JSON.
pub fn malformed_json(e: &serde_json::Error) -> Response {
    json_error(
        StatusCode::BAD_REQUEST,
        "malformed_json",
        &format!("body is not valid JSON for this endpoint: {e}"),
        None,
    )
}

/// Parses a JSON body of any content type (beacons send text/plain).
fn parse_json<T: DeserializeOwned>(state: &AppState, bytes: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(bytes).inspect_err(|_| state.ingest.count_malformed())
}

/// What the edge learned about a request besides its body. A follower determines these (its
/// trusted proxies, its socket peer) and forwards them with the body to the leader.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestFacts {
    /// The request carries the server's API token: a trusted server-side sender.
    pub trusted_sender: bool,
    pub client_ip: IpAddr,
    pub user_agent: String,
    pub origin_host: Option<String>,
    pub referer_header: Option<String>,
    pub dnt: bool,
    pub gpc: bool,
    /// When a follower received the hit (Unix microseconds): its time unless the body names one,
    /// so hits held during a failover keep the time they happened.
    #[serde(default)]
    pub received_at: Option<i64>,
}

/// The facts of a request as this node sees it.
pub fn facts(config: &HttpConfig, remote: &RemoteAddr, headers: &HeaderMap) -> RequestFacts {
    let peer = remote.as_socket_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    RequestFacts {
        trusted_sender: matches!((bearer, &config.api_token), (Some(b), Some(t)) if t.matches(b)),
        client_ip: config.trusted_proxies.client_ip(peer, headers),
        user_agent: text(header::USER_AGENT).unwrap_or_default(),
        origin_host: text(header::ORIGIN).filter(|o| o != "null"),
        referer_header: text(header::REFERER),
        dnt: headers.get("dnt").is_some_and(|v| v.as_bytes() == b"1"),
        gpc: headers.get("sec-gpc").is_some_and(|v| v.as_bytes() == b"1"),
        received_at: None,
    }
}

/// Reads, checks and records one hit received over HTTP on this node.
async fn receive(
    state: &AppState,
    endpoint: IngestEndpoint,
    remote: &RemoteAddr,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let bytes = match read_limited(state.config.max_body_bytes, headers, body).await {
        Ok(b) => b,
        Err(e) => {
            match e {
                BodyError::TooLarge(_) => state.ingest.count_too_large(),
                BodyError::Unreadable(_) => state.ingest.count_malformed(),
            }
            return e.into_response();
        }
    };
    let receipts = match handle(state, endpoint, facts(&state.config, remote, headers), &bytes) {
        Ok(receipts) => receipts,
        Err(refused) => return refused.into_response(),
    };
    // A durable queue: 202 only once it confirmed every record of this request.
    match crate::ports::queue::confirm(receipts).await {
        Ok(()) => accepted(),
        Err(crate::ports::queue::PublishError::Full) => IngestError::Overloaded.into_response(),
        Err(crate::ports::queue::PublishError::Closed) => IngestError::Unavailable.into_response(),
    }
}

/// Records one hit from its body and facts: the same path for hits received here and hits a
/// follower forwarded. `Ok` when queued (or dropped by a privacy or bot rule) with the queue's
/// receipts: once they are confirmed the sender gets 202.
pub fn handle(
    state: &AppState,
    endpoint: IngestEndpoint,
    f: RequestFacts,
    bytes: &[u8],
) -> Result<Vec<Receipt>, HitRefused> {
    match endpoint {
        IngestEndpoint::Pageview => pageview_hit(state, f, bytes),
        IngestEndpoint::Event => custom_event_hit(state, f, bytes),
        IngestEndpoint::WebVital => web_vital_hit(state, f, bytes),
        IngestEndpoint::Plausible => plausible_hit(state, f, bytes),
    }
}

/// Why a hit was not taken; the edge answers it, a forwarding leader only asks `retry_later`.
#[derive(Debug)]
pub enum HitRefused {
    /// The body is not JSON of the endpoint's shape.
    Json(serde_json::Error),
    Ingest(IngestError),
}

impl HitRefused {
    /// The hit was valid but not taken now (a full queue, shutting down, failing storage).
    pub fn retry_later(&self) -> bool {
        matches!(self, Self::Ingest(IngestError::Overloaded | IngestError::Unavailable | IngestError::StoreFailing))
    }
}

impl IntoResponse for HitRefused {
    fn into_response(self) -> Response {
        match self {
            Self::Json(e) => malformed_json(&e),
            Self::Ingest(e) => e.into_response(),
        }
    }
}

fn outcome(result: Result<crate::domain::ingest::Outcome, IngestError>) -> Result<Vec<Receipt>, HitRefused> {
    result.map(|o| vec![o.into_receipt()]).map_err(HitRefused::Ingest)
}

fn invalid(state: &AppState, field: &'static str, message: impl Into<String>) -> HitRefused {
    rejected(state, InvalidHit::new(field, message))
}

/// A hit refused at the edge, before the service saw it: counted like the service's refusals.
fn rejected(state: &AppState, e: InvalidHit) -> HitRefused {
    state.ingest.count_malformed();
    HitRefused::Ingest(IngestError::Invalid(e))
}

/// An explicit hit time, accepted only from trusted senders.
fn timestamp(f: &RequestFacts, raw: Option<&str>) -> Result<Option<i64>, InvalidHit> {
    match raw {
        None => Ok(f.received_at),
        Some(_) if !f.trusted_sender => {
            Err(InvalidHit::new("timestamp", "only server-side senders with the API token may set a timestamp"))
        }
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.timestamp_micros()))
            .map_err(|_| InvalidHit::new("timestamp", "must be an RFC 3339 date-time")),
    }
}

/// The site host: the `Origin`, else an explicit domain, else the `Referer`.
fn site_host(f: &RequestFacts, explicit: Option<&str>) -> Option<String> {
    f.origin_host.clone().or_else(|| explicit.map(str::to_string)).or_else(|| f.referer_header.clone())
}

/// Where and when a hit of HitKeep's protocol happened: its site host (see `site_host`) and
/// its time (see `timestamp`), from the body's `domain` and `timestamp` and the request.
fn site_and_time(
    state: &AppState,
    f: &RequestFacts,
    domain: Option<&str>,
    raw_time: Option<&str>,
) -> Result<(String, Option<i64>), HitRefused> {
    let Some(site_host) = site_host(f, domain) else {
        return Err(invalid(state, "origin", "no Origin header and no domain in the body"));
    };
    let timestamp = timestamp(f, raw_time).map_err(|e| rejected(state, e))?;
    Ok((site_host, timestamp))
}

/// The poem handlers of the ingest routes: each hands its protocol to `receive`.
macro_rules! ingest_handlers {
    ($($(#[$doc:meta])* $name:ident => $endpoint:ident;)*) => {$(
        $(#[$doc])*
        #[handler]
        pub async fn $name(
            state: Data<&Arc<AppState>>,
            remote: &RemoteAddr,
            headers: &HeaderMap,
            body: Body,
        ) -> Response {
            receive(&state, IngestEndpoint::$endpoint, remote, headers, body).await
        }
    )*};
}

ingest_handlers! {
    pageview => Pageview;
    custom_event => Event;
    web_vital => WebVital;
    /// Plausible's Events API; a comma-separated `domain` records the hit for each site.
    plausible_event => Plausible;
}

fn pageview_hit(state: &AppState, mut f: RequestFacts, bytes: &[u8]) -> Result<Vec<Receipt>, HitRefused> {
    let p: PageviewPayload = parse_json(state, bytes).map_err(HitRefused::Json)?;
    let Some(raw) = p.path.as_deref().or(p.url.as_deref()) else {
        return Err(invalid(state, "path", "is required"));
    };
    // A fragment in `path` is there because the tracker runs in hash-routing mode: keep it.
    let hash_routing = p.hash || p.path.as_deref().is_some_and(|path| path.contains('#'));
    let mut page = match Page::parse(raw, hash_routing) {
        Ok(page) => page,
        Err(e) => return Err(rejected(state, e)),
    };
    page.utm = explicit_utm(p.u_src, p.u_med, p.u_cmp, p.u_cnt, p.u_trm).or(page.utm);
    let (site_host, timestamp) = site_and_time(state, &f, p.domain.as_deref(), p.timestamp.as_deref())?;
    let user_agent = p.ua.filter(|u| !u.is_empty()).unwrap_or_else(|| std::mem::take(&mut f.user_agent));
    let hit = IncomingHit {
        timestamp,
        referrer: p.referrer.filter(|r| !r.is_empty()),
        screen_width: width(p.sc_w).or(width(p.vp_w)),
        language: p.lang,
        ..request_hit(&f, site_host, HitKind::Pageview { props: Vec::new() }, page, user_agent)
    };
    outcome(state.ingest.ingest(hit))
}

/// A hit with what the request says about its sender; the payload's own fields go on top.
fn request_hit(f: &RequestFacts, site_host: String, kind: HitKind, page: Page, user_agent: String) -> IncomingHit {
    IncomingHit {
        timestamp: f.received_at,
        kind,
        site_host,
        page,
        referrer: None,
        user_agent,
        client_ip: f.client_ip,
        screen_width: None,
        language: None,
        do_not_track: f.dnt,
        global_privacy_control: f.gpc,
    }
}

fn custom_event_hit(state: &AppState, mut f: RequestFacts, bytes: &[u8]) -> Result<Vec<Receipt>, HitRefused> {
    let p: EventPayload = parse_json(state, bytes).map_err(HitRefused::Json)?;
    let Some(name) = p.n.filter(|n| !n.trim().is_empty()) else {
        return Err(invalid(state, "n", "event name is required"));
    };
    let props = props_to_pairs(p.p).map_err(|message| invalid(state, "p", message))?;
    // HitKeep's hk.js sends no page with events: fall back to the page that sent the request.
    let raw_page = p.u.or_else(|| f.referer_header.clone()).unwrap_or_else(|| "/".into());
    let page = Page::parse(&raw_page, raw_page.contains('#')).map_err(|e| rejected(state, e))?;
    let (site_host, timestamp) = site_and_time(state, &f, p.domain.as_deref(), p.timestamp.as_deref())?;
    let kind = hit_kind(false, name, props, p.revenue, p.sd, p.e).map_err(|e| rejected(state, e))?;
    let user_agent = p.ua.filter(|u| !u.is_empty()).unwrap_or_else(|| std::mem::take(&mut f.user_agent));
    let hit = IncomingHit {
        timestamp,
        referrer: p.r.filter(|r| !r.is_empty()),
        ..request_hit(&f, site_host, kind, page, user_agent)
    };
    outcome(state.ingest.ingest(hit))
}

fn web_vital_hit(state: &AppState, f: RequestFacts, bytes: &[u8]) -> Result<Vec<Receipt>, HitRefused> {
    let p: VitalPayload = parse_json(state, bytes).map_err(HitRefused::Json)?;
    let (Some(metric), Some(value)) = (p.n, p.v) else {
        return Err(invalid(state, "n", "metric name `n` and value `v` are required"));
    };
    let Some(site_host) = site_host(&f, None) else {
        return Err(invalid(state, "origin", "no Origin header"));
    };
    let vital = IncomingVital {
        site_host,
        metric,
        value,
        pathname: p.p.unwrap_or_else(|| "/".into()),
        navigation_type: p.nt,
        user_agent: f.user_agent,
        client_ip: f.client_ip,
        do_not_track: f.dnt,
        global_privacy_control: f.gpc,
    };
    let result = state.ingest.ingest_vital(vital);
    outcome(result)
}

/// What an event body is: a pageview (with its props; on Plausible's API only), an engagement
/// report (`sd`, `e`), or a custom event (with its revenue).
fn hit_kind(
    plausible: bool,
    name: String,
    props: Vec<(String, String)>,
    revenue_field: Option<serde_json::Value>,
    sd: Option<f64>,
    e: Option<f64>,
) -> Result<HitKind, InvalidHit> {
    Ok(match name.as_str() {
        PAGEVIEW if plausible => HitKind::Pageview { props },
        ENGAGEMENT => HitKind::Engagement(Engagement::from_wire(sd, e)),
        _ => HitKind::Custom { name, props, revenue: revenue(revenue_field)? },
    })
}

fn plausible_hit(state: &AppState, f: RequestFacts, bytes: &[u8]) -> Result<Vec<Receipt>, HitRefused> {
    let p: PlausiblePayload = parse_json(state, bytes).map_err(HitRefused::Json)?;
    let Some(name) = p.name.filter(|n| !n.trim().is_empty()) else {
        return Err(invalid(state, "name", "is required"));
    };
    let Some(url) = p.url else {
        return Err(invalid(state, "url", "is required"));
    };
    let Some(domains) = p.domain.filter(|d| !d.trim().is_empty()) else {
        return Err(invalid(state, "domain", "is required"));
    };
    let page = match Page::parse(&url, p.h) {
        Ok(page) => page,
        Err(e) => return Err(rejected(state, InvalidHit::new("url", e.message))),
    };
    let props = props_to_pairs(p.props).map_err(|message| invalid(state, "props", message))?;
    let kind = hit_kind(true, name, props, p.revenue, p.sd, p.e).map_err(|e| rejected(state, e))?;
    let mut receipts = Vec::new();
    for domain in domains.split(',').map(str::trim).filter(|d| !d.is_empty()).take(10) {
        let hit = IncomingHit {
            referrer: p.referrer.clone().filter(|r| !r.is_empty()),
            screen_width: width(p.w),
            ..request_hit(&f, domain.to_string(), kind.clone(), page.clone(), f.user_agent.clone())
        };
        receipts.extend(outcome(state.ingest.ingest(hit))?);
    }
    Ok(receipts)
}

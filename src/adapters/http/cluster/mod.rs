//! The HTTP edge of a cluster node. The node's own router is always up; the "engine" (database,
//! writer, reports: the single-node routes) is installed only while this node leads. Requests are
//! dispatched per role: the leader serves them locally, a follower queues ingest for the leader
//! and proxies `/api` to it.

pub mod forward;
mod internal;
mod proxy;
pub mod status;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use poem::endpoint::BoxEndpoint;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Endpoint, EndpointExt, Request, Response, Route, get, handler};

use super::client_ip::ForwardedClient;
use super::errors::json_error;
use super::health::{counter, gauge};
use super::{AppState, HttpConfig, SecretToken, assets, cors, health};
use crate::ports::cluster::{CLIENT_IP_HEADER, CLUSTER_SECRET_HEADER, ConsensusInbox};
use crate::ports::leadership::Leadership;
use crate::ports::queue::HitRelay;
use forward::ForwardQueue;

/// Counters of the forwarding path, exported as metrics.
#[derive(Debug, Default)]
pub struct ForwardCounters {
    /// Hits this node acknowledged (202) into its forward queue.
    pub queued: AtomicU64,
    /// Hits handed to the leader and acknowledged by it.
    pub forwarded: AtomicU64,
    /// Failed hand-overs (retried).
    pub failures: AtomicU64,
    /// Hits refused with 503 because the forward queue was full.
    pub refused: AtomicU64,
    /// `/api` requests proxied to the leader.
    pub proxied: AtomicU64,
    /// Records this node's writer, deposed, handed to the forward queue for the next leader.
    pub handed_over: AtomicU64,
    /// Hits this node relayed through the durable queue (202 once it confirmed them).
    pub relayed: AtomicU64,
    /// Relayed hits this node, leading, ingested.
    pub relay_ingested: AtomicU64,
}

/// The single-node routes over an open database, while this node leads.
pub struct Engine {
    pub state: Arc<AppState>,
    routes: BoxEndpoint<'static, Response>,
    /// Cleared when stepping down: new requests are no longer given to this engine.
    accepting: AtomicBool,
}

enum Slot {
    Closed,
    Open(Arc<Engine>),
    /// Leadership was lost or the node is stopping: the engine is draining and closing.
    Stopping,
}

/// Everything a cluster node's edge needs.
pub struct ClusterGate {
    pub node_id: u64,
    pub leadership: Arc<dyn Leadership>,
    pub consensus: Arc<dyn ConsensusInbox>,
    /// Base URLs by node id.
    pub members: Arc<BTreeMap<u64, String>>,
    pub config: HttpConfig,
    /// Checks the secret on internal routes.
    pub secret: SecretToken,
    /// Sent on outbound internal calls.
    pub secret_text: Arc<str>,
    pub client: reqwest::Client,
    pub forward: ForwardQueue,
    /// With a durable queue: where hits go while this node does not hold the database.
    pub relay: Option<Arc<dyn HitRelay>>,
    pub counters: ForwardCounters,
    /// Set once shutdown began.
    pub draining: AtomicBool,
    slot: parking_lot::RwLock<Slot>,
}

impl ClusterGate {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        node_id: u64,
        leadership: Arc<dyn Leadership>,
        consensus: Arc<dyn ConsensusInbox>,
        members: Arc<BTreeMap<u64, String>>,
        config: HttpConfig,
        secret: &str,
        client: reqwest::Client,
        forward_capacity: usize,
    ) -> Self {
        Self {
            node_id,
            leadership,
            consensus,
            members,
            config,
            secret: SecretToken::new(secret),
            secret_text: secret.into(),
            client,
            forward: ForwardQueue::new(forward_capacity),
            relay: None,
            counters: ForwardCounters::default(),
            draining: AtomicBool::new(false),
            slot: parking_lot::RwLock::new(Slot::Closed),
        }
    }

    /// Relays ingest through a durable queue instead of the forward queue.
    pub fn with_relay(mut self, relay: Option<Arc<dyn HitRelay>>) -> Self {
        self.relay = relay;
        self
    }

    /// Hands the node an open engine: from now on it serves locally.
    pub fn install(&self, state: Arc<AppState>) {
        let routes = super::routes(state.clone()).map_to_response().boxed();
        *self.slot.write() = Slot::Open(Arc::new(Engine { state, routes, accepting: AtomicBool::new(true) }));
    }

    /// Stops giving requests to the engine and returns it for draining and closing.
    pub fn begin_stop(&self) -> Option<Arc<Engine>> {
        let mut slot = self.slot.write();
        match std::mem::replace(&mut *slot, Slot::Stopping) {
            Slot::Open(engine) => {
                engine.accepting.store(false, Ordering::SeqCst);
                Some(engine)
            }
            Slot::Closed => {
                *slot = Slot::Closed;
                None
            }
            Slot::Stopping => None,
        }
    }

    /// The engine is closed.
    pub fn finish_stop(&self) {
        *self.slot.write() = Slot::Closed;
    }

    /// The engine, while it accepts requests.
    pub fn engine(&self) -> Option<Arc<Engine>> {
        match &*self.slot.read() {
            Slot::Open(e) if e.accepting.load(Ordering::SeqCst) => Some(e.clone()),
            _ => None,
        }
    }

    fn stopping(&self) -> bool {
        matches!(*self.slot.read(), Slot::Stopping)
    }

    /// The leader's base URL when another node leads.
    pub fn remote_leader(&self) -> Option<(u64, String)> {
        let leader = self.leadership.leader()?;
        if leader.node_id == self.node_id {
            return None;
        }
        Some((leader.node_id, leader.url?))
    }

    /// Hits waiting in the engine's queue (0 without one).
    pub fn ingest_queue_depth(&self) -> usize {
        self.engine().map_or(0, |e| e.state.ingest.queue_depth())
    }
}

/// A 503 with `Retry-After` and a JSON reason.
pub fn unavailable(code: &str, message: &str) -> Response {
    json_error(StatusCode::SERVICE_UNAVAILABLE, code, message, None)
}

/// The routes of a cluster node.
pub fn routes(gate: Arc<ClusterGate>) -> impl Endpoint + 'static {
    let ingest = || {
        let ep = poem::endpoint::make(ingest_gate);
        poem::post(ep).options(poem::endpoint::make(ingest_gate)).with(cors::IngestCors)
    };
    Route::new()
        .nest("/_cluster", internal::routes())
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics))
        .at("/ingest", ingest())
        .at("/ingest/event", ingest())
        .at("/ingest/web-vitals", ingest())
        .at("/api/event", ingest())
        .at("/hk.js", get(assets::core_script).with(poem::middleware::Compression::new()))
        .at("/hk-vitals.js", get(assets::vitals_script).with(poem::middleware::Compression::new()))
        .at("/api/*path", poem::endpoint::make(api_gate).with(gate.config.api_body_limit(proxy::MAX_API_BODY)))
        .at("/", get(super::spa::dashboard).with(poem::middleware::Compression::new()))
        .at("/*path", get(super::spa::dashboard).with(poem::middleware::Compression::new()))
        .data(gate)
}

fn gate_of(req: &Request) -> poem::Result<Arc<ClusterGate>> {
    req.data::<Arc<ClusterGate>>().cloned().ok_or_else(|| poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR))
}

/// Ingest: the engine when this node leads, else the durable queue's relay (202 once it has
/// the hit) or the forward queue (202 at once).
async fn ingest_gate(req: Request) -> poem::Result<Response> {
    let gate = gate_of(&req)?;
    if let Some(engine) = gate.engine() {
        return engine.routes.call(req).await;
    }
    if let Some(relay) = gate.relay.clone() {
        return Ok(forward::relay(&gate, relay.as_ref(), req).await);
    }
    Ok(forward::accept(&gate, req).await)
}

/// `/api`: the engine when this node leads, else the leader through the proxy.
async fn api_gate(mut req: Request) -> poem::Result<Response> {
    let gate = gate_of(&req)?;
    if let Some(engine) = gate.engine() {
        vouch_for_client(&gate, &mut req);
        return engine.routes.call(req).await;
    }
    if gate.stopping() || gate.leadership.is_leader() {
        return Ok(unavailable("leader_changing", "this node is handing over or taking over the database; retry"));
    }
    let Some((_, url)) = gate.remote_leader() else {
        return Ok(unavailable("no_leader", "the cluster has no leader right now; retry"));
    };
    gate.counters.proxied.fetch_add(1, Ordering::Relaxed);
    Ok(proxy::forward(&gate, &url, req).await)
}

/// A call a follower passed on names the client it came from; believed only with the secret.
fn vouch_for_client(gate: &ClusterGate, req: &mut Request) {
    let headers = req.headers_mut();
    let client = headers.remove(CLIENT_IP_HEADER);
    let secret = headers.remove(CLUSTER_SECRET_HEADER);
    let vouched = secret.as_ref().and_then(|s| s.to_str().ok()).is_some_and(|s| gate.secret.matches(s));
    if let Some(ip) = client.filter(|_| vouched).and_then(|v| v.to_str().ok()?.parse::<IpAddr>().ok()) {
        req.set_data(ForwardedClient(ip));
    }
}

/// Ready when this node can take hits now: it leads with the database open (and its queue
/// connected), or it relays through a connected durable queue, or it follows a known leader
/// and has room in its forward queue.
#[handler]
fn readyz(gate: Data<&Arc<ClusterGate>>) -> Response {
    let engine = gate.engine();
    let leader = gate.leadership.leader();
    let draining = gate.draining.load(Ordering::SeqCst);
    let depth = gate.forward.len();
    let room = depth < gate.forward.capacity();
    let queue_connected = match (&engine, &gate.relay) {
        (Some(e), _) => e.state.ingest.queue_ready(),
        (None, Some(relay)) => relay.ready(),
        (None, None) => true,
    };
    let ready = !draining
        && queue_connected
        && match (&engine, &gate.relay) {
            (Some(e), _) => !e.state.draining.load(Ordering::SeqCst),
            (None, Some(_)) => true,
            (None, None) => room && leader.as_ref().is_some_and(|l| l.node_id != gate.node_id),
        };
    let body = serde_json::json!({
        "ready": ready,
        "node_id": gate.node_id,
        "role": gate.leadership.role(),
        "leader": leader.as_ref().map(|l| l.node_id),
        "term": gate.leadership.term(),
        "database_open": engine.is_some(),
        "draining": draining,
        "forward_queue_depth": depth,
        "forward_queue_capacity": gate.forward.capacity(),
        "queue_connected": queue_connected,
    });
    health::readiness(ready, body)
}

/// The engine's metrics when it is open, plus the cluster's.
#[handler]
fn metrics(gate: Data<&Arc<ClusterGate>>) -> Response {
    let mut m = match gate.engine() {
        Some(e) => health::engine_metrics(&e.state),
        None => {
            let mut m = health::Exposition::default();
            m.leader(gate.leadership.is_leader());
            m
        }
    };
    let c = &gate.counters;
    let leader_id = gate.leadership.leader().map_or(-1, |l| l.node_id as i64);
    let open = if gate.engine().is_some() { 1.0 } else { 0.0 };
    m.singles(&[
        gauge("hitkeep_cluster_node_id", "This node's id.", gate.node_id as f64),
        gauge("hitkeep_cluster_leader_id", "The leader this node knows (-1: none).", leader_id as f64),
        gauge("hitkeep_cluster_term", "The latest Raft term this node knows.", gate.leadership.term() as f64),
        gauge("hitkeep_cluster_database_open", "1 while this node holds the database open.", open),
        gauge(
            "hitkeep_forward_queue_depth",
            "Acknowledged hits waiting to be handed to the leader.",
            gate.forward.len() as f64,
        ),
        gauge(
            "hitkeep_forward_queue_capacity",
            "Forward queue capacity; when full, ingest answers 503.",
            gate.forward.capacity() as f64,
        ),
        counter("hitkeep_forward_queued_total", "Hits acknowledged into the forward queue.", &c.queued),
        counter(
            "hitkeep_forwarded_total",
            "Hits the leader acknowledged from this node's forward queue.",
            &c.forwarded,
        ),
        counter("hitkeep_forward_failures_total", "Failed hand-overs to the leader (retried).", &c.failures),
        counter(
            "hitkeep_forward_refused_total",
            "Hits refused with 503 because the forward queue was full.",
            &c.refused,
        ),
        counter("hitkeep_api_proxied_total", "/api requests proxied to the leader.", &c.proxied),
        counter(
            "hitkeep_forward_handed_over_total",
            "Acknowledged records this node's writer, deposed, handed on to the next leader.",
            &c.handed_over,
        ),
        counter(
            "hitkeep_relayed_total",
            "Hits this node relayed through the durable queue (answered 202 once it confirmed them).",
            &c.relayed,
        ),
        counter("hitkeep_relay_ingested_total", "Relayed hits this node ingested while leading.", &c.relay_ingested),
    ]);
    m.into_response()
}

//! Hits received by a node that does not hold the database: acknowledged (202) into a bounded
//! queue and handed to the leader in batches. A hit leaves the queue only when the leader has
//! committed it to the database, so a leader that dies or is deposed mid-batch loses nothing
//! of it: the batch is sent again to the next leader.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use poem::http::StatusCode;
use poem::{IntoResponse, Request, Response};
use serde::{Deserialize, Serialize};

use super::{ClusterGate, unavailable};
use crate::adapters::http::AppState;
use crate::adapters::http::ingest::{self, IngestEndpoint, RequestFacts};
use crate::domain::event::Record;
use crate::ports::cluster::CLUSTER_SECRET_HEADER;
use crate::ports::queue::{HitRelay, PublishError, RecordHandover};

/// A deposed leader's writer hands its queue to this node's forwarder, which delivers it to the
/// next leader like any follower's hits.
pub struct ForwardHandover(pub std::sync::Weak<ClusterGate>);

impl RecordHandover for ForwardHandover {
    fn hand_over(&self, records: Vec<Record>) -> usize {
        match self.0.upgrade() {
            Some(gate) => {
                gate.counters.handed_over.fetch_add(records.len() as u64, Ordering::Relaxed);
                gate.forward.push_records(records);
                0
            }
            None => records.len(),
        }
    }
}

/// Most hits per hand-over.
pub const BATCH: usize = 500;
/// Longest the leader waits for its writer to commit a batch before answering 503.
const COMMIT_WAIT: Duration = Duration::from_secs(10);

/// One acknowledged hit: the raw body and what the receiving node saw of the request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForwardedHit {
    pub endpoint: IngestEndpoint,
    pub facts: RequestFacts,
    /// The JSON body as received.
    pub body: String,
    /// Unique per hit and receiving node: a durable queue's de-duplication id, so a batch sent
    /// again after a leader crash is stored once.
    #[serde(default)]
    pub id: Option<String>,
}

/// What a node hands to the leader: a hit as received, or a record a deposed leader had
/// already enriched and acknowledged but was no longer allowed to write.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardItem {
    Hit(ForwardedHit),
    Record(Record),
}

/// A batch on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForwardBatch {
    /// The sending node.
    pub from: u64,
    pub hits: Vec<ForwardItem>,
}

/// The leader's answer: the first `accepted` hits are committed (or refused for good, like an
/// invalid payload); the rest must be sent again.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForwardAck {
    pub accepted: usize,
}

/// A bounded FIFO of acknowledged hits with a single consumer (the forwarder task).
pub struct ForwardQueue {
    items: parking_lot::Mutex<VecDeque<ForwardItem>>,
    capacity: usize,
    wake: tokio::sync::Notify,
}

impl ForwardQueue {
    pub fn new(capacity: usize) -> Self {
        Self { items: parking_lot::Mutex::new(VecDeque::new()), capacity, wake: tokio::sync::Notify::new() }
    }

    /// Queues a hit; `false` when full.
    pub fn push(&self, hit: ForwardedHit) -> bool {
        let mut items = self.items.lock();
        if items.len() >= self.capacity {
            return false;
        }
        items.push_back(ForwardItem::Hit(hit));
        drop(items);
        self.wake.notify_one();
        true
    }

    /// Queues records a deposed writer hands over. They were acknowledged already, so they are
    /// taken even past the capacity (they are bounded by the writer's own queue capacity).
    pub fn push_records(&self, records: Vec<Record>) {
        self.items.lock().extend(records.into_iter().map(ForwardItem::Record));
        self.wake.notify_one();
    }

    /// Copies of up to `max` hits at the front, which stay queued until `remove_front`.
    fn peek(&self, max: usize) -> Vec<ForwardItem> {
        self.items.lock().iter().take(max).cloned().collect()
    }

    fn remove_front(&self, n: usize) {
        let mut items = self.items.lock();
        let n = n.min(items.len());
        items.drain(..n);
    }

    /// Everything queued, removed (for the spool at shutdown; the forwarder has stopped).
    pub fn take_all(&self) -> Vec<ForwardItem> {
        self.items.lock().drain(..).collect()
    }

    /// Queues items from the spool of an earlier run: acknowledged then, so taken past the capacity.
    pub fn push_items(&self, items: Vec<ForwardItem>) {
        self.items.lock().extend(items);
        self.wake.notify_one();
    }

    pub fn len(&self) -> usize {
        self.items.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// An ingest request on a node without the database: checked for size and JSON, queued, 202.
/// Deeper validation happens on the leader (an invalid hit is counted there, not answered 400).
pub async fn accept(gate: &ClusterGate, req: Request) -> Response {
    let hit = crate::or_return!(received(gate, req).await);
    if gate.forward.push(hit) {
        gate.counters.queued.fetch_add(1, Ordering::Relaxed);
        StatusCode::ACCEPTED.into_response()
    } else {
        gate.counters.refused.fetch_add(1, Ordering::Relaxed);
        unavailable("overloaded", "no leader to hand hits to and the forward queue is full")
    }
}

/// The same on a cluster with a durable queue: relayed through it, 202 once it confirmed the
/// hit; the leader takes it from there (`run_relay`), so this node holds nothing in memory.
pub async fn relay(gate: &ClusterGate, relay: &dyn HitRelay, req: Request) -> Response {
    let hit = crate::or_return!(received(gate, req).await);
    let id = hit.id.clone().unwrap_or_default();
    let wire = serde_json::to_vec(&ForwardItem::Hit(hit)).expect("a hit serialises");
    let confirmed = match relay.send(&id, wire) {
        Ok(receipt) => receipt.confirmed().await,
        Err(e) => Err(e),
    };
    match confirmed {
        Ok(()) => {
            gate.counters.relayed.fetch_add(1, Ordering::Relaxed);
            StatusCode::ACCEPTED.into_response()
        }
        Err(e) => {
            gate.counters.refused.fetch_add(1, Ordering::Relaxed);
            match e {
                PublishError::Full => unavailable("overloaded", "the ingest queue is full"),
                PublishError::Closed => unavailable("unavailable", "the ingest queue is unreachable"),
            }
        }
    }
}

/// Reads a hit this node cannot ingest itself: body size and JSON checked, facts and a unique
/// id attached; `Err` is the answer to a request refused.
async fn received(gate: &ClusterGate, req: Request) -> Result<ForwardedHit, Response> {
    let Some(endpoint) = IngestEndpoint::from_path(req.uri().path()) else {
        return Err(StatusCode::NOT_FOUND.into_response());
    };
    let remote = req.remote_addr().clone();
    let headers = req.headers().clone();
    let bytes = match ingest::read_limited(gate.config.max_body_bytes, &headers, req.into_body()).await {
        Ok(b) => b,
        Err(e) => return Err(e.into_response()),
    };
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        return Err(ingest::malformed_json(&e));
    }
    let body = String::from_utf8_lossy(&bytes).into_owned();
    let mut facts = ingest::facts(&gate.config, &remote, &headers);
    facts.received_at = Some(now_micros());
    if gate.draining.load(Ordering::SeqCst) {
        return Err(unavailable("unavailable", "this node is shutting down"));
    }
    static BOOT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let boot = BOOT.get_or_init(rand::random::<u64>);
    let id = Some(format!("n{}-{boot:016x}-{}", gate.node_id, SEQ.fetch_add(1, Ordering::Relaxed)));
    Ok(ForwardedHit { endpoint, facts, body, id })
}

/// On the leader with a durable queue: ingests the hits other nodes relayed, until aborted.
/// A relayed hit is settled only once the records made of it are confirmed; one handled again
/// after a crash makes records with the same message ids, which the queue stores once.
pub async fn run_relay(relay: Arc<dyn HitRelay>, state: Arc<AppState>, ingested: Arc<ClusterGate>) {
    loop {
        // Short waits: a relayed hit is stored within about this much more than a direct one.
        let wire = relay.take(BATCH, Duration::from_millis(100)).await;
        if wire.is_empty() {
            continue;
        }
        let items: Vec<Option<ForwardItem>> = wire
            .iter()
            .map(|w| {
                serde_json::from_slice(w)
                    .inspect_err(|e| tracing::error!(error = %e, "undecodable relayed hit; dropped"))
                    .ok()
            })
            .collect();
        let decoded: Vec<ForwardItem> = items.iter().flatten().cloned().collect();
        let taken = record_batch(&state, &decoded).await.unwrap_or(0);
        // The first `taken` decodable hits are handled; undecodable ones are dropped for good.
        let mut left = taken;
        let handled: Vec<bool> = items
            .iter()
            .map(|i| match i {
                None => true,
                Some(_) if left > 0 => {
                    left -= 1;
                    true
                }
                Some(_) => false,
            })
            .collect();
        ingested.counters.relay_ingested.fetch_add(taken as u64, Ordering::Relaxed);
        relay.settle(handled).await;
        if taken < decoded.len() {
            // The queue refused some: give it a moment.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn now_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

/// Records forwarded hits on the leader in order, stopping at the first one its queue cannot
/// take, then waits until the writer has committed them (or, deposed meanwhile, handed them on
/// to the next leader). Returns how many were taken.
pub async fn record_batch(state: &AppState, hits: &[ForwardItem]) -> Result<usize, &'static str> {
    let mut receipts = Vec::new();
    for item in hits {
        let result = match item {
            ForwardItem::Hit(hit) => {
                let handle = || ingest::handle(state, hit.endpoint, hit.facts.clone(), hit.body.as_bytes());
                match &hit.id {
                    Some(id) => crate::ports::queue::with_message_id(id, handle),
                    None => handle(),
                }
                .map_err(|refused| refused.retry_later())
            }
            ForwardItem::Record(record) => {
                state.ingest.republish(record.clone()).map(|o| vec![o.into_receipt()]).map_err(|_| true)
            }
        };
        match result {
            Ok(r) => receipts.push(r),
            // Refused for good (invalid): taken, there is nothing to store.
            Err(false) => receipts.push(Vec::new()),
            Err(true) => break,
        }
    }
    let taken = receipts.len();
    if state.ingest.queue_durable() {
        // A durable queue: once it confirmed a hit, the hit is safe; the sender may forget it.
        let confirmed = futures_util::future::join_all(receipts.into_iter().map(crate::ports::queue::confirm)).await;
        return Ok(confirmed.iter().take_while(|r| r.is_ok()).count());
    }
    let target = state.ingest.published();
    let mut wakeups = state.broadcaster.subscribe();
    let deadline = Instant::now() + COMMIT_WAIT;
    let w = &state.writer;
    while w.committed() + w.handed_over_records.load(Ordering::SeqCst) < target {
        let fenced = w.fenced_records.load(Ordering::SeqCst);
        if fenced > w.handed_over_records.load(Ordering::SeqCst) {
            return Err("deposed before the batch was committed");
        }
        if Instant::now() > deadline {
            return Err("the writer did not commit the batch in time");
        }
        // Each commit wakes the broadcaster; the timeout covers a missed wake-up.
        let _ = tokio::time::timeout(Duration::from_millis(20), wakeups.recv()).await;
    }
    Ok(taken)
}

/// Hands queued hits to the leader until `stop` is set and the queue is empty.
pub async fn run_forwarder(gate: Arc<ClusterGate>) {
    let mut backoff = Duration::from_millis(20);
    loop {
        let batch = gate.forward.peek(BATCH);
        if batch.is_empty() {
            if gate.draining.load(Ordering::SeqCst) {
                return;
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), gate.forward.wake.notified()).await;
            continue;
        }
        let result = deliver(&gate, batch).await;
        match result {
            Ok((sent, taken)) => {
                gate.forward.remove_front(taken);
                gate.counters.forwarded.fetch_add(taken as u64, Ordering::Relaxed);
                backoff = Duration::from_millis(20);
                if taken < sent {
                    // The leader's queue is full: give it a moment.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Err(e) => {
                gate.counters.failures.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, "hand-over to the leader failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
        }
    }
}

/// One hand-over: to the local engine when this node leads, else to the leader over HTTP.
async fn deliver(gate: &ClusterGate, batch: Vec<ForwardItem>) -> Result<(usize, usize), String> {
    let sent = batch.len();
    // A deposed engine (still installed for a moment) would only hand the batch back.
    if let Some(engine) = gate.engine().filter(|e| e.state.writer.fenced_records.load(Ordering::SeqCst) == 0) {
        return record_batch(&engine.state, &batch).await.map(|taken| (sent, taken)).map_err(str::to_string);
    }
    let Some((leader, url)) = gate.remote_leader() else {
        return Err("no leader known".into());
    };
    let resp = gate
        .client
        .post(format!("{}/_cluster/ingest", url.trim_end_matches('/')))
        .header(CLUSTER_SECRET_HEADER, &*gate.secret_text)
        .timeout(COMMIT_WAIT + Duration::from_secs(5))
        .json(&ForwardBatch { from: gate.node_id, hits: batch })
        .send()
        .await
        .map_err(|e| format!("leader {leader}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("leader {leader} answered {}", resp.status()));
    }
    let ack: ForwardAck = resp.json().await.map_err(|e| format!("leader {leader}: {e}"))?;
    Ok((sent, ack.accepted.min(sent)))
}

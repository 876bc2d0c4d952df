//! Publishing hits to JetStream. Hits arriving together share one message: a batcher task takes
//! the first hit waiting and every other one already queued behind it (never waiting for more),
//! publishes them as one message (`codec`) and goes on with the next batch while the
//! acknowledgement is on its way (pipelined: while `BATCHES_IN_FLIGHT` batches are out, the next
//! hits gather - group commit); each request's 202 waits for its batch's acknowledgement.
//! Under load that is one publish, one stored message and one delivery for several hits; alone,
//! a hit is published at once. A hit with a message id of its own (relayed in a cluster) is
//! published alone, so JetStream can de-duplicate it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use async_nats::jetstream::message::PublishMessage;
use tokio::sync::{Semaphore, oneshot};

use super::{NatsQueue, PUBLISH_BUCKETS, codec};
use crate::domain::event::Record;
use crate::ports::queue::{PublishError, QueueMetric, Receipt, RecordPublisher, next_message_id};

/// Most hits in one message, and most bytes of their records.
const BATCH_HITS: usize = 256;
const BATCH_BYTES: usize = 256 * 1024;

/// Batches published and not yet acknowledged, at most (group commit: while they wait for their
/// acknowledgement, the next hits gather into one message). Measured on 2 cores with 32
/// connections (session 7, BENCHMARKS.md): 4 in flight carry about 4 hits per message, 2 about 7,
/// 1 about 10, at the same latency and CPU per hit within the machine's noise. Two keep publishes
/// pipelined (a slow acknowledgement, e.g. from an R=3 stream, does not stall the node) while
/// storing fewer, fuller messages; a lone hit still goes out at once.
const BATCHES_IN_FLIGHT: usize = 2;

/// Publishes records; bounded by `--nats-max-in-flight` hits waiting for their acknowledgement.
pub struct NatsPublisher {
    queue: Arc<NatsQueue>,
    subject: async_nats::Subject,
    permits: Arc<Semaphore>,
    closed: Arc<AtomicBool>,
    /// Hits for the batcher; it stops when this publisher is dropped.
    batcher: flume::Sender<Waiting>,
}

/// A hit's encoded record and where its batch's acknowledgement goes.
struct Waiting {
    bytes: Vec<u8>,
    done: oneshot::Sender<Result<(), PublishError>>,
}

impl NatsPublisher {
    /// Call inside the runtime: starts the batcher task.
    pub(super) fn new(queue: Arc<NatsQueue>, closed: Arc<AtomicBool>) -> Self {
        let permits = Arc::new(Semaphore::new(queue.settings.max_in_flight.max(1)));
        let subject: async_nats::Subject = queue.settings.subject().into();
        let (batcher, waiting) = flume::unbounded();
        tokio::spawn(run_batcher(queue.js.clone(), subject.clone(), waiting, queue.metrics.clone()));
        Self { queue, subject, permits, closed, batcher }
    }
}

/// Publishes what waits in batches, in arrival order, until every sender is gone.
async fn run_batcher(
    js: async_nats::jetstream::Context,
    subject: async_nats::Subject,
    waiting: flume::Receiver<Waiting>,
    metrics: Arc<super::NatsMetrics>,
) {
    // Distinguishes this batcher's message ids from every other node's, run's and session's.
    let boot = format!("{:016x}", rand::random::<u64>());
    let mut sent = 0u64;
    let window = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
    while let Ok(first) = waiting.recv_async().await {
        // At most a few batches wait for their acknowledgement: meanwhile the next hits gather
        // into one message (group commit). Without the bound every hit left alone, as a publish
        // takes microseconds to hand over and its acknowledgement a millisecond to come back.
        let Ok(slot) = window.clone().acquire_owned().await else { break };
        let mut payload = codec::begin(first.bytes.len() * 8);
        payload.extend_from_slice(&first.bytes);
        let mut dones = vec![first.done];
        while dones.len() < BATCH_HITS && payload.len() < BATCH_BYTES {
            let Ok(next) = waiting.try_recv() else { break };
            payload.extend_from_slice(&next.bytes);
            dones.push(next.done);
        }
        sent += 1;
        let message = PublishMessage::build().payload(payload.into()).message_id(format!("{boot}-{sent}"));
        // Sent in order here; the acknowledgement is awaited beside the next batches.
        let sent = js.send_publish(subject.clone(), message).await;
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let result = match sent {
                Ok(ack) => ack.await.map(|_| ()),
                Err(e) => Err(e),
            };
            drop(slot);
            if result.is_ok() {
                metrics.messages.fetch_add(1, Ordering::Relaxed);
            }
            let result = result.map_err(|e| {
                tracing::warn!(error = %e, hits = dones.len(), "JetStream publish failed");
                classify(&e)
            });
            for done in dones {
                let _ = done.send(result);
            }
        });
    }
}

/// One publish waiting for its acknowledgement: its permit and the in-flight gauge.
struct InFlight {
    metrics: Arc<super::NatsMetrics>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sends `message` and waits for JetStream's acknowledgement, counting it in `metrics`.
pub(super) async fn publish_confirmed(
    js: async_nats::jetstream::Context,
    subject: async_nats::Subject,
    message: PublishMessage,
    metrics: &super::NatsMetrics,
) -> Result<(), PublishError> {
    let started = Instant::now();
    let result = match js.send_publish(subject, message).await {
        Ok(ack) => ack.await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            metrics.messages.fetch_add(1, Ordering::Relaxed);
            metrics.record_publish(started.elapsed());
            Ok(())
        }
        Err(e) => {
            metrics.publish_failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, "JetStream publish failed");
            Err(classify(&e))
        }
    }
}

/// Stream full or over a limit: the client should retry later; anything else: unavailable.
fn classify(e: &async_nats::jetstream::context::PublishError) -> PublishError {
    let text = e.to_string().to_lowercase();
    if text.contains("maximum") || text.contains("exceeded") || text.contains("insufficient resources") {
        PublishError::Full
    } else {
        PublishError::Closed
    }
}

impl RecordPublisher for NatsPublisher {
    fn try_publish(&self, record: Record) -> Result<Receipt, PublishError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(PublishError::Closed);
        }
        // Disconnected: answer 503 now rather than let the client buffer hits we cannot confirm.
        if !self.queue.connected() {
            self.queue.metrics.publish_failures.fetch_add(1, Ordering::Relaxed);
            return Err(PublishError::Closed);
        }
        let permit = self.permits.clone().try_acquire_owned().map_err(|_| PublishError::Full)?;
        let bytes = codec::encode(&record).map_err(|_| PublishError::Closed)?;
        let metrics = self.queue.metrics.clone();
        metrics.in_flight.fetch_add(1, Ordering::Relaxed);
        // Counted out even when the receipt is dropped unawaited (the client went away).
        let in_flight = InFlight { metrics: metrics.clone(), _permit: permit };
        // A retried publish (a relayed hit handled again after a failover) carries the same id:
        // published alone, JetStream keeps one copy.
        if let Some(id) = next_message_id() {
            let mut payload = codec::begin(bytes.len());
            payload.extend(bytes);
            let message = PublishMessage::build().payload(payload.into()).message_id(id);
            let (js, subject) = (self.queue.js.clone(), self.subject.clone());
            return Ok(Receipt::pending(async move {
                let result = publish_confirmed(js, subject, message, &metrics).await;
                drop(in_flight);
                result
            }));
        }
        let (done, confirmation) = oneshot::channel();
        self.batcher.send(Waiting { bytes, done }).map_err(|_| PublishError::Closed)?;
        let started = Instant::now();
        Ok(Receipt::pending(async move {
            let result = confirmation.await.unwrap_or(Err(PublishError::Closed));
            match result {
                Ok(()) => metrics.record_publish(started.elapsed()),
                Err(_) => {
                    metrics.publish_failures.fetch_add(1, Ordering::Relaxed);
                }
            }
            drop(in_flight);
            result
        }))
    }

    fn published(&self) -> u64 {
        self.queue.metrics.published.load(Ordering::Relaxed)
    }

    fn depth(&self) -> usize {
        self.queue.metrics.in_flight.load(Ordering::Relaxed) as usize
    }

    fn capacity(&self) -> usize {
        self.queue.settings.max_in_flight
    }

    fn ready(&self) -> bool {
        !self.closed.load(Ordering::SeqCst) && self.queue.connected()
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    fn durable(&self) -> bool {
        true
    }

    fn metrics(&self) -> Vec<QueueMetric> {
        let m = &self.queue.metrics;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        let one = |name, kind, help, value| QueueMetric { name, kind, help, samples: vec![(String::new(), value)] };
        let mut latency: Vec<(String, f64)> = PUBLISH_BUCKETS
            .iter()
            .zip(&m.publish_buckets)
            .map(|(bound, n)| (format!("_bucket{{le=\"{bound}\"}}"), load(n)))
            .collect();
        latency.push(("_bucket{le=\"+Inf\"}".into(), load(&m.published)));
        latency.push(("_sum".into(), m.publish_micros_sum.load(Ordering::Relaxed) as f64 / 1e6));
        latency.push(("_count".into(), load(&m.published)));
        // Each row reads one counter or gauge of the adapter.
        let atomics: [(&'static str, &'static str, &'static str, &AtomicU64); 9] = [
            ("hitkeep_nats_published_total", "counter", "Hits acknowledged by JetStream.", &m.published),
            (
                "hitkeep_nats_messages_published_total",
                "counter",
                "Stream messages acknowledged by JetStream (under load several hits share one).",
                &m.messages,
            ),
            (
                "hitkeep_nats_publish_failures_total",
                "counter",
                "Publishes refused or not acknowledged (answered 503).",
                &m.publish_failures,
            ),
            ("hitkeep_nats_publish_in_flight", "gauge", "Publishes waiting for their acknowledgement.", &m.in_flight),
            (
                "hitkeep_nats_consumer_pending",
                "gauge",
                "Messages in the stream beyond what the writer has stored (its lag; leader only).",
                &m.consumer_pending,
            ),
            (
                "hitkeep_nats_relay_pending",
                "gauge",
                "Hits other cluster nodes relayed that the leader has not ingested yet (leader only).",
                &m.relay_pending,
            ),
            (
                "hitkeep_nats_redelivered_total",
                "counter",
                "Messages JetStream delivered more than once.",
                &m.redelivered,
            ),
            (
                "hitkeep_nats_skipped_duplicates_total",
                "counter",
                "Redelivered messages skipped because the database already held them.",
                &m.skipped_duplicates,
            ),
            (
                "hitkeep_nats_consumer_resets_total",
                "counter",
                "Times the writer repositioned its consumer after the sequence the database holds.",
                &m.consumer_resets,
            ),
        ];
        let connected = f64::from(self.queue.connected() as u8);
        let mut metrics = vec![one("hitkeep_nats_connected", "gauge", "1 while connected to NATS.", connected)];
        metrics.extend(atomics.into_iter().map(|(name, kind, help, value)| one(name, kind, help, load(value))));
        metrics.push(QueueMetric {
            name: "hitkeep_nats_publish_seconds",
            kind: "histogram",
            help: "Time from publish to JetStream's acknowledgement.",
            samples: latency,
        });
        metrics
    }
}

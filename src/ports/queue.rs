//! The ingest queue between request handlers and the writer.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::domain::event::Record;

/// Why a record could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The queue is at capacity: the client should retry later.
    #[error("ingest queue is full")]
    Full,
    /// The writer has stopped (shutdown or lost leadership).
    #[error("ingest queue is closed")]
    Closed,
}

/// A durable queue's confirmation that a record is stored (JetStream's publish acknowledgement).
pub type Receipt = Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send>>;

thread_local! {
    static RECEIPTS: RefCell<Option<Vec<Receipt>>> = const { RefCell::new(None) };
}

/// Runs `f` (which publishes synchronously) and returns the receipts a durable queue handed out
/// meanwhile: the caller awaits them before answering 202. Kept beside the synchronous
/// `try_publish` so the ingest service (validation, enrichment) stays synchronous and unaware
/// of which queue it feeds; a memory queue hands out none.
pub fn collect_receipts<R>(f: impl FnOnce() -> R) -> (R, Vec<Receipt>) {
    let outer = RECEIPTS.with(|r| r.borrow_mut().replace(Vec::new()));
    let result = f();
    let receipts = RECEIPTS.with(|r| std::mem::replace(&mut *r.borrow_mut(), outer)).unwrap_or_default();
    (result, receipts)
}

/// Called by a durable queue inside `try_publish`. Outside `collect_receipts` (seeding, tests)
/// the receipt is dropped: the publish still completes, nobody waits for it.
pub fn defer_receipt(receipt: Receipt) {
    RECEIPTS.with(|r| {
        if let Some(list) = r.borrow_mut().as_mut() {
            list.push(receipt);
        }
    });
}

thread_local! {
    static MESSAGE_ID: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Runs `f` with `id` naming what it publishes (a hit forwarded by another node, which may send
/// it again after a failover): a durable queue derives its de-duplication ids from it.
pub fn with_message_id<R>(id: &str, f: impl FnOnce() -> R) -> R {
    let outer = MESSAGE_ID.with(|m| m.borrow_mut().replace((id.to_string(), 0)));
    let result = f();
    MESSAGE_ID.with(|m| *m.borrow_mut() = outer);
    result
}

/// For a durable queue inside `try_publish`: the next id under `with_message_id` (`<id>.<n>`:
/// one hit may make several records), `None` outside it.
pub fn next_message_id() -> Option<String> {
    MESSAGE_ID.with(|m| {
        m.borrow_mut().as_mut().map(|(id, n)| {
            *n += 1;
            format!("{id}.{n}")
        })
    })
}

/// Waits for every receipt; the first failure wins.
pub async fn confirm(receipts: Vec<Receipt>) -> Result<(), PublishError> {
    for r in receipts {
        r.await?;
    }
    Ok(())
}

/// One metric a queue adapter adds to `/metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueMetric {
    pub name: &'static str,
    /// `counter`, `gauge` or `histogram`.
    pub kind: &'static str,
    pub help: &'static str,
    /// (labels such as `{le="0.5"}` or empty, value); a histogram's `_bucket`/`_sum`/`_count`
    /// samples carry their suffix in the labels' place: (`_bucket{le="0.5"}`, 3.0).
    pub samples: Vec<(String, f64)>,
}

/// The producer side: never blocks (a durable queue defers its confirmation, see `defer_receipt`).
pub trait RecordPublisher: Send + Sync {
    fn try_publish(&self, record: Record) -> Result<(), PublishError>;
    /// Records accepted since the queue was made: the sequence number of the latest one.
    fn published(&self) -> u64;
    /// Records waiting to be written (a durable queue: publishes waiting for their acknowledgement).
    fn depth(&self) -> usize;
    fn capacity(&self) -> usize;
    /// Stops accepting records; the writer drains what is queued and stops.
    fn close(&self) {}
    /// Whether the queue can take records now (a durable queue: connected to its servers).
    fn ready(&self) -> bool {
        true
    }
    /// Adapter-specific samples for `/metrics`.
    fn metrics(&self) -> Vec<QueueMetric> {
        Vec::new()
    }
}

/// Where a deposed writer puts what this node acknowledged but may no longer write: on to the
/// next leader, so a leader that loses its term (a stall longer than the election timeout) loses
/// no acknowledged hit.
pub trait RecordHandover: Send + Sync {
    /// Takes records for delivery elsewhere; returns how many it could not take.
    fn hand_over(&self, records: Vec<Record>) -> usize;
}

/// A single node is never deposed: there is nobody to hand records to.
pub struct NoHandover;

impl RecordHandover for NoHandover {
    fn hand_over(&self, records: Vec<Record>) -> usize {
        records.len()
    }
}

/// What the consumer got.
#[derive(Debug)]
pub enum Batch {
    /// Up to `max` records (possibly none if the wait ran out).
    Records(Vec<Record>),
    /// No producer is left and the queue is empty: the writer may stop.
    Closed,
}

/// Where a durable queue stands: the stream and the last sequence of a batch. The writer stores
/// it in the same transaction as the batch, so after a crash it knows exactly what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePosition {
    pub queue: String,
    pub sequence: u64,
}

/// The consumer side: micro-batches by size or time.
pub trait RecordConsumer: Send {
    /// Waits up to `wait` for the first record, then takes what arrives until `max` records or `linger` elapsed.
    fn next_batch(&self, max: usize, wait: Duration, linger: Duration) -> Batch;
    /// No producer is left (shutdown began); records may still be queued.
    fn is_closed(&self) -> bool;
    /// The durable queue's name, whose position the store keeps; `None` for a memory queue,
    /// whose records exist only in this process (a deposed or failing writer must hand them on).
    fn durable_queue(&self) -> Option<&str> {
        None
    }
    /// Continue after `stored`, the position the database holds: what the queue redelivers up
    /// to it is skipped as already stored.
    fn resume_after(&self, _stored: u64) {}
    /// The position after the batch `next_batch` returned last.
    fn position(&self) -> Option<QueuePosition> {
        None
    }
    /// The batch returned last is committed: the queue may forget it.
    fn acknowledge(&self) {}
}

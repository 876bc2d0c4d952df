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

type Confirmation = Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send>>;

/// A queue's answer to a publish: taken (a memory queue), or a confirmation still to come
/// (JetStream's acknowledgement), which the caller awaits before answering 202. A durable
/// queue publishes while the confirmation is awaited (many in flight on one connection), so a
/// dropped receipt is a hit nobody acknowledged.
#[must_use = "a pending receipt publishes only when awaited"]
pub struct Receipt(Option<Confirmation>);

impl Receipt {
    /// Taken: nothing left to wait for.
    pub fn taken() -> Self {
        Self(None)
    }

    /// Confirmed when `confirmation` resolves.
    pub fn pending(confirmation: impl Future<Output = Result<(), PublishError>> + Send + 'static) -> Self {
        Self(Some(Box::pin(confirmation)))
    }

    pub fn is_pending(&self) -> bool {
        self.0.is_some()
    }

    /// Waits for the confirmation.
    pub async fn confirmed(self) -> Result<(), PublishError> {
        match self.0 {
            None => Ok(()),
            Some(c) => c.await,
        }
    }

    /// Calls `f` with the outcome once it is known (at once for a taken record).
    pub fn inspect(self, f: impl FnOnce(&Result<(), PublishError>) + Send + 'static) -> Self {
        match self.0 {
            None => {
                f(&Ok(()));
                self
            }
            Some(c) => Self::pending(async move {
                let result = c.await;
                f(&result);
                result
            }),
        }
    }
}

impl std::fmt::Debug for Receipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_pending() { "Receipt(pending)" } else { "Receipt(taken)" })
    }
}

/// Waits for every receipt of one request (one hit may make several records); the first
/// failure wins. They are awaited together, so their publishes are in flight at once.
pub async fn confirm(receipts: Vec<Receipt>) -> Result<(), PublishError> {
    if receipts.iter().all(|r| !r.is_pending()) {
        return Ok(());
    }
    futures_util::future::join_all(receipts.into_iter().map(Receipt::confirmed)).await.into_iter().collect()
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

/// The producer side: never blocks (a durable queue hands out a pending `Receipt`).
pub trait RecordPublisher: Send + Sync {
    /// Takes `record` or refuses it at once; a durable queue's receipt must be awaited.
    fn try_publish(&self, record: Record) -> Result<Receipt, PublishError>;
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
    /// A durable queue: a confirmed record is safe without the writer having stored it.
    fn durable(&self) -> bool {
        false
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

/// A future a relay hands out.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Hits received by a cluster node that does not hold the database, kept by a durable queue
/// until the leader has ingested them: no node holds an acknowledged hit in memory, and a
/// failover hands nothing over (the next leader takes what is left).
pub trait HitRelay: Send + Sync {
    /// Keeps one received hit in its wire form; `id` is unique per hit, so the records the
    /// leader makes of it are stored once even if it handles the hit again after a crash.
    fn send(&self, id: &str, hit: Vec<u8>) -> Result<Receipt, PublishError>;
    /// Whether hits can be relayed now (connected).
    fn ready(&self) -> bool;
    /// The leader takes up to `max` relayed hits (as sent), waiting up to `wait` for them.
    fn take(&self, max: usize, wait: Duration) -> Pending<'_, Vec<Vec<u8>>>;
    /// Settles the hits `take` returned last: `true` handled (gone), `false` to come again.
    fn settle(&self, handled: Vec<bool>) -> Pending<'_, ()>;
}

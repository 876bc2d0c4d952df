//! The ingest queue between request handlers and the writer.

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

/// The producer side: never blocks.
pub trait RecordPublisher: Send + Sync {
    fn try_publish(&self, record: Record) -> Result<(), PublishError>;
    /// Records accepted since the queue was made: the sequence number of the latest one.
    fn published(&self) -> u64;
    /// Records waiting to be written.
    fn depth(&self) -> usize;
    fn capacity(&self) -> usize;
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

/// The consumer side: micro-batches by size or time.
pub trait RecordConsumer: Send {
    /// Waits up to `wait` for the first record, then takes what arrives until `max` records or `linger` elapsed.
    fn next_batch(&self, max: usize, wait: Duration, linger: Duration) -> Batch;
    /// No producer is left (shutdown began); records may still be queued.
    fn is_closed(&self) -> bool;
}

//! Event storage.

use std::sync::Arc;

use crate::domain::crawlers::CrawlerFetch;
use crate::domain::event::{Event, TrafficSource, VitalSample};
use crate::domain::visit::OpenVisit;
use crate::domain::visitor::{Day, Salt};
use crate::domain::visitor_numbers::{NumberingState, VisitorNumber};
use crate::ports::queue::QueuePosition;

/// Storage failures, with the cause kept as text (no adapter types leak out).
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the database file.
    #[error("the database {path} is locked by another process (is a hitkeep server running on this data directory?)")]
    Locked { path: String },
    /// This node lost leadership: it must not write any more.
    #[error("not the leader of the current term any more: writes are fenced")]
    Fenced,
    /// A report query ran past its deadline (`--query-timeout-ms`) and was stopped.
    #[error("the query ran longer than {after_ms} ms and was stopped (limit: --query-timeout-ms)")]
    TimedOut { after_ms: u64 },
    #[error("database error: {0}")]
    Internal(String),
}

/// The result of a storage operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// What the writer needs to resume after a restart or failover.
#[derive(Debug, Clone, Default)]
pub struct ResumeState {
    pub open_visits: Vec<OpenVisit<Arc<TrafficSource>>>,
    pub next_visit_id: u64,
    /// Where visitor numbering goes on; `None`: the store keeps visitor keys as ids.
    pub visitor_numbers: Option<NumberingState>,
}

/// What the writer stores in one transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteBatch<'a> {
    pub events: &'a [Event],
    pub vitals: &'a [VitalSample],
    /// AI crawler page fetches, added to the crawler tallies.
    pub crawls: &'a [CrawlerFetch],
    /// How far a durable queue has been stored, recorded with the rows (exactly-once: after a
    /// crash the writer skips what the database already holds).
    pub position: Option<&'a QueuePosition>,
}

impl<'a> WriteBatch<'a> {
    /// A batch of events only.
    pub fn events(events: &'a [Event]) -> Self {
        Self { events, ..Self::default() }
    }
}

/// Appends batches; owned by the single writer thread.
pub trait EventStore: Send {
    /// Appends the whole batch in one transaction, durably enough to survive a crash after the
    /// next checkpoint; on error nothing of it is kept and the caller retries it.
    fn append(&mut self, batch: WriteBatch<'_>) -> Result<(), StoreError>;
    /// Visitor numbers given since the last batch: kept with the next successful append (and
    /// through its retries), so a restart resumes numbering with them.
    fn remember_visitors(&mut self, _numbers: Vec<VisitorNumber>) {}
    /// The last queue position stored for `queue` (0: nothing yet).
    fn queue_position(&self, _queue: &str) -> Result<u64, StoreError> {
        Ok(0)
    }
    /// Flushes the write-ahead log into the database file.
    fn checkpoint(&mut self) -> Result<(), StoreError>;
    /// Visits that may still be open at `now`, and where visit numbering continues.
    fn resume_state(&self, since_micros: i64) -> Result<ResumeState, StoreError>;
}

/// Keeps the visitor-hash salts (today's and yesterday's only).
pub trait SaltStore: Send + Sync {
    fn load_salts(&self) -> Result<Vec<(Day, Salt)>, StoreError>;
    fn save_salt(&self, day: Day, salt: &Salt) -> Result<(), StoreError>;
    /// Deletes salts of `day` and earlier.
    fn delete_salts_through(&self, day: Day) -> Result<(), StoreError>;
}

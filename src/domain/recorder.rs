//! The writer: takes micro-batches off the queue, assigns visits, appends them to the store.
//! One thread runs it; it owns the store and the sessionizer state.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::crawlers::CrawlerFetch;
use super::event::{Event, Record, VitalSample};
use super::visit::{Sessionizer, VISIT_TIMEOUT_MICROS};
use super::visitor::VisitorKey;
use super::visitor_numbers::VisitorNumbers;
use crate::ports::clock::Clock;
use crate::ports::leadership::WriteFence;
use crate::ports::notify::BatchObserver;
use crate::ports::queue::{Batch, RecordConsumer, RecordHandover};
use crate::ports::store::{EventStore, StoreError, StoreResult, WriteBatch};

/// Batching knobs.
#[derive(Debug, Clone, Copy)]
pub struct BatchPolicy {
    /// Most records per append.
    pub max_records: usize,
    /// Longest a record waits for its batch to fill.
    pub linger: Duration,
    /// Most visits kept open in memory (see `Sessionizer::with_max_open`).
    pub max_open_visits: usize,
    /// Once the queue is closed (shutdown), how long a failing store is retried before the
    /// writer gives up and reports what it could not store.
    pub give_up_after: Duration,
}

/// Flush-latency histogram buckets in seconds.
pub const FLUSH_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// Writer metrics.
#[derive(Debug, Default)]
pub struct WriterCounters {
    pub stored_events: AtomicU64,
    pub stored_vitals: AtomicU64,
    /// AI crawler fetches stored (see `Record::Crawl`).
    pub stored_crawls: AtomicU64,
    pub batches: AtomicU64,
    pub store_errors: AtomicU64,
    /// Sum of flush durations in microseconds.
    pub flush_micros_sum: AtomicU64,
    pub flush_buckets: [AtomicU64; FLUSH_BUCKETS.len()],
    pub last_batch_size: AtomicU64,
    pub max_batch_size: AtomicU64,
    /// Records refused because this node was deposed (a newer Raft term) before they were written.
    pub fenced_records: AtomicU64,
    /// Of those, the records handed on to the next leader.
    pub handed_over_records: AtomicU64,
    /// Set while the writer loop runs.
    pub running: AtomicBool,
    /// Visits currently open in the writer's memory.
    pub open_visits: AtomicU64,
    /// Visits closed early because `max_open_visits` was reached.
    pub evicted_visits: AtomicU64,
    /// Set while appends fail (disk full, I/O errors): readiness turns false and ingest answers
    /// 503 so clients keep what the server could not store. Shared with the ingest service.
    pub store_failing: Arc<AtomicBool>,
    /// Acknowledged records the writer gave up on at shutdown because the store kept failing.
    pub unstored_records: AtomicU64,
}

impl WriterCounters {
    /// Records taken off the queue and committed since the writer started (events and vitals):
    /// the queue is FIFO with one consumer, so once this reaches a publisher's sequence number
    /// every record published up to it is in the database.
    pub fn committed(&self) -> u64 {
        self.stored_events.load(Ordering::SeqCst)
            + self.stored_vitals.load(Ordering::SeqCst)
            + self.stored_crawls.load(Ordering::SeqCst)
    }

    /// Counts a committed batch of `records` records that took `d` to store.
    fn stored(&self, d: Duration, records: usize, events: &[Event], vitals: &[VitalSample]) {
        self.store_failing.store(false, Ordering::SeqCst);
        self.observe_flush(d, records);
        self.stored_events.fetch_add(events.len() as u64, Ordering::Relaxed);
        self.stored_vitals.fetch_add(vitals.len() as u64, Ordering::Relaxed);
    }

    fn observe_sessions(&self, open: usize, evicted: u64) {
        self.open_visits.store(open as u64, Ordering::Relaxed);
        self.evicted_visits.store(evicted, Ordering::Relaxed);
    }

    fn observe_flush(&self, d: Duration, records: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.flush_micros_sum.fetch_add(d.as_micros() as u64, Ordering::Relaxed);
        let secs = d.as_secs_f64();
        for (i, bound) in FLUSH_BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.flush_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.last_batch_size.store(records as u64, Ordering::Relaxed);
        self.max_batch_size.fetch_max(records as u64, Ordering::Relaxed);
    }
}

/// Runs until the queue is closed and drained, then checkpoints. Failed appends are retried
/// with backoff and never dropped: the queue stays bounded, so producers see 503 meanwhile.
/// Before each commit the writer asks `fence` whether this node may still write; once it may
/// not (deposed leader), nothing more is written: the batch in hand and the rest of the queue
/// go to `handover` (the next leader) and the writer returns `StoreError::Fenced` when the
/// queue closes.
#[allow(clippy::too_many_arguments)]
pub fn run_writer(
    consumer: &dyn RecordConsumer,
    store: &mut dyn EventStore,
    clock: &dyn Clock,
    policy: BatchPolicy,
    counters: Arc<WriterCounters>,
    observer: &dyn BatchObserver,
    fence: &dyn WriteFence,
    handover: &dyn RecordHandover,
) -> StoreResult<()> {
    let resume = store.resume_state(clock.now_micros() - VISIT_TIMEOUT_MICROS)?;
    let mut sessions = Sessionizer::new(resume.next_visit_id, VISIT_TIMEOUT_MICROS, resume.open_visits)
        .with_max_open(policy.max_open_visits);
    if let Some(numbering) = resume.visitor_numbers {
        sessions = sessions.with_numbers(VisitorNumbers::new(numbering));
    }
    if let Some(queue) = consumer.durable_queue() {
        consumer.resume_after(store.queue_position(queue)?);
    }
    counters.running.store(true, Ordering::SeqCst);
    let mut events = Vec::with_capacity(policy.max_records);
    let mut keys = Vec::with_capacity(policy.max_records);
    let mut vitals = Vec::new();
    let mut crawls: Vec<CrawlerFetch> = Vec::new();
    loop {
        let records = match consumer.next_batch(policy.max_records, Duration::from_millis(250), policy.linger) {
            Batch::Closed => break,
            Batch::Records(r) if r.is_empty() => continue,
            Batch::Records(r) => r,
        };
        let count = records.len();
        let position = consumer.position();
        events.clear();
        keys.clear();
        vitals.clear();
        crawls.clear();
        for record in records {
            match record {
                Record::Event { visitor, event } => {
                    events.push(place_in_visit(&mut sessions, visitor, *event));
                    keys.push(visitor);
                }
                Record::Vital(v) => vitals.push(v),
                Record::Crawl(c) => crawls.push(c),
            }
        }
        counters.observe_sessions(sessions.open_visits(), sessions.evicted());
        // Remembered in the batch's transaction: a number is kept exactly when its events are.
        store.remember_visitors(sessions.take_given_numbers());
        let mut backoff = Duration::from_millis(50);
        let mut give_up_at: Option<Instant> = None;
        loop {
            if !fence.may_write() {
                let in_hand = in_hand_records(&mut events, &keys, &mut vitals, &mut crawls);
                return fenced(consumer, in_hand, &counters, handover);
            }
            let started = Instant::now();
            match store.append(WriteBatch {
                events: &events,
                vitals: &vitals,
                crawls: &crawls,
                position: position.as_ref(),
            }) {
                Ok(()) => {
                    consumer.acknowledge();
                    counters.stored(started.elapsed(), count, &events, &vitals);
                    counters.stored_crawls.fetch_add(crawls.len() as u64, Ordering::Relaxed);
                    observer.stored(&touched_sites(&events, &vitals));
                    break;
                }
                Err(e) => {
                    counters.store_errors.fetch_add(1, Ordering::Relaxed);
                    counters.store_failing.store(true, Ordering::SeqCst);
                    tracing::error!(error = %e, records = count, "append failed; retrying the batch");
                    let mut pause = backoff;
                    if consumer.is_closed() {
                        // Shutting down: retry only until the shutdown timeout, then say what is lost.
                        let deadline = *give_up_at.get_or_insert_with(|| Instant::now() + policy.give_up_after);
                        let now = Instant::now();
                        if now >= deadline {
                            let in_hand = in_hand_records(&mut events, &keys, &mut vitals, &mut crawls);
                            return unstored(consumer, in_hand, &counters, e, handover);
                        }
                        pause = pause.min(deadline - now);
                    }
                    std::thread::sleep(pause);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
    counters.running.store(false, Ordering::SeqCst);
    store.checkpoint()
}

/// Places an event in its visit: an ordinary event opens or continues one (and carries its
/// statistics); an engagement report joins its page view's visit but is no event of it (no
/// bounce change, no duration) and without an open visit keeps visit 0 (orphaned).
fn place_in_visit(
    sessions: &mut Sessionizer<Arc<super::event::TrafficSource>>,
    visitor: VisitorKey,
    mut event: Event,
) -> Event {
    if event.engagement.is_some() {
        if let Some((visitor_id, visit_id)) = sessions.peek(visitor, event.ts) {
            event.visitor_id = visitor_id;
            event.visit_id = visit_id;
        }
        return event;
    }
    let pageview = event.name == super::event::PAGEVIEW;
    let a = sessions.assign(visitor, event.ts, pageview, || event.traffic.clone());
    event.visitor_id = a.visitor_id;
    event.visit_id = a.visit_id;
    event.traffic = a.attrs;
    event.visit_stats = a.stats;
    event.ts = a.at;
    if pageview {
        event.visit_stats.previous_page = sessions.follow_page(visitor.current, &event.pathname, event.ts);
    }
    event
}

/// The sites a stored batch touched, each once.
fn touched_sites(events: &[Event], vitals: &[VitalSample]) -> Vec<u32> {
    let mut sites: Vec<u32> = events.iter().map(|e| e.site_id).chain(vitals.iter().map(|v| v.site_id)).collect();
    sites.sort_unstable();
    sites.dedup();
    sites
}

/// The batch in hand back as records (visits are assigned again by whoever writes them).
fn in_hand_records(
    events: &mut Vec<Event>,
    keys: &[VisitorKey],
    vitals: &mut Vec<VitalSample>,
    crawls: &mut Vec<CrawlerFetch>,
) -> Vec<Record> {
    std::mem::take(events)
        .into_iter()
        .zip(keys.iter())
        .map(|(event, visitor)| Record::Event { visitor: *visitor, event: Box::new(event) })
        .chain(std::mem::take(vitals).into_iter().map(Record::Vital))
        .chain(std::mem::take(crawls).into_iter().map(Record::Crawl))
        .collect()
}

/// Gives up at shutdown on a store that keeps failing: hands the batch in hand and the rest of
/// the queue to `handover` (a single node's spool), counts what it could not take as not stored
/// and returns the store's error.
fn unstored(
    consumer: &dyn RecordConsumer,
    in_hand: Vec<Record>,
    counters: &WriterCounters,
    error: StoreError,
    handover: &dyn RecordHandover,
) -> StoreResult<()> {
    counters.running.store(false, Ordering::SeqCst);
    if consumer.durable_queue().is_some() {
        // Not acknowledged, so still in the durable queue: the next writer stores them.
        tracing::error!(error = %error, "gave up at shutdown: the store kept failing; the queue keeps the records");
        return Err(error);
    }
    let mut rest = in_hand;
    loop {
        match consumer.next_batch(10_000, Duration::from_millis(50), Duration::ZERO) {
            Batch::Closed => break,
            Batch::Records(r) => rest.extend(r),
        }
    }
    let lost = handover.hand_over(rest) as u64;
    counters.unstored_records.fetch_add(lost, Ordering::SeqCst);
    tracing::error!(error = %error, unstored = lost, "gave up: the store kept failing until the shutdown timeout");
    Err(error)
}

/// Writes nothing more: hands the batch in hand and everything still queued, until the queue
/// closes, to the next leader, counting what could not be handed on.
fn fenced(
    consumer: &dyn RecordConsumer,
    in_hand: Vec<Record>,
    counters: &WriterCounters,
    handover: &dyn RecordHandover,
) -> StoreResult<()> {
    counters.running.store(false, Ordering::SeqCst);
    if consumer.durable_queue().is_some() {
        // Nothing acknowledged, nothing lost: the next leader's writer takes the durable queue over.
        tracing::warn!("this node is no longer the leader of its term: leaving the durable queue to the next leader");
        return Err(StoreError::Fenced);
    }
    tracing::warn!("this node is no longer the leader of its term: handing its queue to the next leader");
    let pass_on = |records: Vec<Record>| {
        let n = records.len() as u64;
        let lost = handover.hand_over(records) as u64;
        // Handed over before counted as fenced: a waiter that sees the fence also sees the hand-over.
        counters.handed_over_records.fetch_add(n - lost, Ordering::SeqCst);
        counters.fenced_records.fetch_add(n, Ordering::SeqCst);
        if lost > 0 {
            tracing::error!(lost, "records could not be handed to the next leader");
        }
    };
    pass_on(in_hand);
    loop {
        match consumer.next_batch(10_000, Duration::from_millis(250), Duration::ZERO) {
            Batch::Closed => return Err(StoreError::Fenced),
            Batch::Records(r) if r.is_empty() => {}
            Batch::Records(r) => pass_on(r),
        };
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;
    use crate::ports::leadership::NoFence;
    use crate::ports::queue::NoHandover;
    use crate::ports::store::ResumeState;

    struct Batches(Mutex<VecDeque<Vec<Record>>>);
    impl RecordConsumer for Batches {
        fn next_batch(&self, _max: usize, _wait: Duration, _linger: Duration) -> Batch {
            self.0.lock().unwrap().pop_front().map_or(Batch::Closed, Batch::Records)
        }
        fn is_closed(&self) -> bool {
            true
        }
    }

    #[derive(Default)]
    struct Store {
        vitals: usize,
        broken: bool,
    }
    impl EventStore for Store {
        fn append(&mut self, batch: WriteBatch<'_>) -> StoreResult<()> {
            if self.broken {
                return Err(StoreError::Internal("disk full".into()));
            }
            self.vitals += batch.vitals.len();
            Ok(())
        }
        fn checkpoint(&mut self) -> StoreResult<()> {
            Ok(())
        }
        fn resume_state(&self, _since: i64) -> StoreResult<ResumeState> {
            Ok(ResumeState::default())
        }
    }

    struct Clock0;
    impl Clock for Clock0 {
        fn now_micros(&self) -> i64 {
            0
        }
    }

    struct Quiet;
    impl BatchObserver for Quiet {
        fn stored(&self, _sites: &[u32]) {}
    }

    /// Allows the first `n` commits.
    struct Term(AtomicU64);
    impl WriteFence for Term {
        fn may_write(&self) -> bool {
            self.0.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
        }
    }

    struct Collect(Mutex<Vec<Record>>);
    impl RecordHandover for Collect {
        fn hand_over(&self, records: Vec<Record>) -> usize {
            self.0.lock().unwrap().extend(records);
            0
        }
    }

    fn vitals(n: usize) -> Vec<Record> {
        (0..n).map(|i| Record::Vital(VitalSample::test_lcp(1, i as i64))).collect()
    }

    #[test]
    fn a_deposed_writer_commits_nothing_more_and_counts_what_it_refused() {
        let queue = Batches(Mutex::new(VecDeque::from([vitals(3), vitals(4), vitals(5)])));
        let (mut store, counters) = (Store::default(), Arc::new(WriterCounters::default()));
        let policy = BatchPolicy {
            max_records: 10,
            linger: Duration::ZERO,
            max_open_visits: 100,
            give_up_after: Duration::ZERO,
        };
        let fence = Term(AtomicU64::new(1));
        let next_leader = Collect(Mutex::new(Vec::new()));
        let result = run_writer(&queue, &mut store, &Clock0, policy, counters.clone(), &Quiet, &fence, &next_leader);
        assert!(matches!(result, Err(StoreError::Fenced)));
        assert_eq!(store.vitals, 3, "only the batch before the term ended is written");
        assert_eq!(counters.committed(), 3);
        assert_eq!(counters.fenced_records.load(Ordering::SeqCst), 9, "the batch in hand and the rest of the queue");
        assert_eq!(counters.handed_over_records.load(Ordering::SeqCst), 9);
        let handed = next_leader.0.lock().unwrap();
        assert_eq!(handed.len(), 9, "nothing acknowledged is dropped: it goes to the next leader");
        assert_eq!(*handed, [vitals(4), vitals(5)].concat(), "in order");
        assert!(!counters.running.load(Ordering::SeqCst));
    }

    #[test]
    fn a_failing_store_at_shutdown_gives_up_after_the_timeout_and_counts_what_it_could_not_store() {
        let queue = Batches(Mutex::new(VecDeque::from([vitals(3), vitals(4)])));
        let mut store = Store { broken: true, ..Store::default() };
        let counters = Arc::new(WriterCounters::default());
        let policy = BatchPolicy {
            max_records: 10,
            linger: Duration::ZERO,
            max_open_visits: 100,
            give_up_after: Duration::from_millis(200),
        };
        let started = Instant::now();
        let result = run_writer(&queue, &mut store, &Clock0, policy, counters.clone(), &Quiet, &NoFence, &NoHandover);
        assert!(result.is_err(), "the store's error comes back");
        assert!(started.elapsed() < Duration::from_secs(3), "gave up within its timeout");
        assert_eq!(counters.unstored_records.load(Ordering::SeqCst), 7);
        assert!(counters.store_failing.load(Ordering::SeqCst));
        assert!(!counters.running.load(Ordering::SeqCst));
    }
}

//! The writer's side of JetStream: pulls batches in stream order through the durable consumer.
//! Exactly once: the writer stores each batch with its last stream sequence in one DuckDB
//! transaction and only then acknowledges (one ack for the batch) and purges what it stored from
//! the stream; on start it repositions the consumer just after the sequence the database holds,
//! and whatever JetStream redelivers up to it is skipped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::PullConsumer};
use futures_util::StreamExt;
use parking_lot::Mutex;

use super::{NatsQueue, codec};
use crate::domain::event::Record;
use crate::ports::queue::{Batch, QueuePosition, RecordConsumer};

/// Pulls records for the writer thread (blocking on the runtime of the node that made it).
pub struct NatsConsumer {
    queue: Arc<NatsQueue>,
    closed: Arc<AtomicBool>,
    runtime: tokio::runtime::Handle,
    state: Mutex<State>,
    /// The last stream sequence handed to the writer, for the lag sampler.
    position: Arc<AtomicU64>,
    /// Samples the lag once a second on its own: a writer stalled in a pull, a commit or a
    /// leadership change would leave a gauge it sampled itself at its last value.
    sampler: tokio::task::JoinHandle<()>,
}

impl Drop for NatsConsumer {
    fn drop(&mut self) {
        self.sampler.abort();
        // No writer on this node any more: no writer's lag to report.
        self.queue.metrics.consumer_pending.store(0, Ordering::Relaxed);
    }
}

/// What the stream holds beyond the database's position, not the consumer's count of messages
/// it has not delivered: a pull cut short (a NATS node lost, a timeout) leaves the rest of its
/// batch delivered to nobody, out of that count, until the writer repositions for it; a drain
/// waiting on that count stopped with thousands unstored. Messages the stream's limits removed
/// unstored are not waiting any more.
fn lag_of(stream: &jetstream::stream::State, position: u64) -> u64 {
    stream.last_sequence.saturating_sub(position.max(stream.first_sequence.saturating_sub(1)))
}

async fn sample_lag(queue: Arc<NatsQueue>, position: Arc<AtomicU64>) {
    let mut stream = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if stream.is_none() {
            stream = queue.pull_js.get_stream(&queue.settings.stream).await.ok();
        }
        let Some(s) = stream.as_mut() else { continue };
        match tokio::time::timeout(Duration::from_secs(2), s.info()).await {
            Ok(Ok(info)) => {
                let lag = lag_of(&info.state, position.load(Ordering::Relaxed));
                queue.metrics.consumer_pending.store(lag, Ordering::Relaxed);
            }
            // Asked again next time, through a fresh handle (the node may have moved).
            _ => stream = None,
        }
    }
}

struct State {
    consumer: Option<PullConsumer>,
    /// The hits' stream, for purging what the database holds.
    stream: Option<jetstream::stream::Stream>,
    /// Everything below this sequence has been purged from the stream.
    purged_below: u64,
    purged_at: Instant,
    /// The next stream sequence to store.
    expected: u64,
    /// Reposition the consumer at `expected` before the next pull.
    reset: bool,
    /// Just repositioned: the first sequence at or after `expected` is the next one (anything
    /// between was removed by the stream's limits).
    fresh: bool,
    /// The messages of the batch handed out last, acknowledged once it is committed.
    in_hand: Vec<jetstream::Message>,
    position: u64,
    lag_checked: Instant,
}

impl NatsConsumer {
    pub(super) fn new(queue: Arc<NatsQueue>, closed: Arc<AtomicBool>) -> Self {
        let state = State {
            consumer: None,
            stream: None,
            purged_below: 1,
            purged_at: Instant::now(),
            expected: 1,
            reset: true,
            fresh: true,
            in_hand: Vec::new(),
            position: 0,
            lag_checked: Instant::now(),
        };
        let runtime = tokio::runtime::Handle::current();
        let position = Arc::new(AtomicU64::new(0));
        let sampler = runtime.spawn(sample_lag(queue.clone(), position.clone()));
        Self { queue, closed, runtime, state: Mutex::new(state), position, sampler }
    }

    /// Recreates the durable consumer: what a crashed run had pulled but not acknowledged comes
    /// again first and in order, rather than after its acknowledgement timeout.
    async fn reposition(&self, st: &mut State) -> Result<(), String> {
        let js = &self.queue.pull_js;
        let mut stream = js.get_stream(&self.queue.settings.stream).await.map_err(|e| e.to_string())?;
        let info = stream.info().await.map_err(|e| e.to_string())?;
        if info.state.last_sequence + 1 < st.expected {
            // The database is ahead of the stream: the stream was deleted and made again.
            tracing::warn!(
                stored = st.expected - 1,
                stream_last = info.state.last_sequence,
                "the stream restarted its sequence; continuing from its first message"
            );
            st.expected = info.state.first_sequence.max(1);
        }
        let name = self.queue.settings.durable();
        let _ = stream.delete_consumer(&name).await;
        // Start at the first hit the database lacks; what is below it need not come again.
        let mut config = self.queue.consumer_config();
        if st.expected > 1 {
            config.deliver_policy = jetstream::consumer::DeliverPolicy::ByStartSequence { start_sequence: st.expected };
        }
        let consumer = stream.create_consumer(config).await.map_err(|e| e.to_string())?;
        self.queue.metrics.consumer_resets.fetch_add(1, Ordering::Relaxed);
        st.consumer = Some(consumer);
        st.stream = Some(stream);
        st.purged_below = 1;
        Self::purge(st).await;
        st.reset = false;
        st.fresh = true;
        Ok(())
    }

    async fn pull(&self, st: &mut State, max: usize, expires: Duration) -> Vec<Record> {
        let metrics = &self.queue.metrics;
        let mut records = Vec::new();
        let Some(consumer) = st.consumer.clone() else { return records };
        // A message holds up to a few hundred hits: the bytes bound the batch too (~1 KiB a hit).
        let batch =
            consumer.batch().max_messages(max).max_bytes(max.saturating_mul(1024)).expires(expires).messages().await;
        let mut messages = match batch {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "JetStream pull failed; retrying");
                st.reset = true;
                tokio::time::sleep(Duration::from_millis(200)).await;
                return records;
            }
        };
        let mut skipped = None;
        while let Some(next) = messages.next().await {
            let message = match next {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "JetStream pull ended early");
                    break;
                }
            };
            let Ok(info) = message.info() else { continue };
            let (seq, delivered) = (info.stream_sequence, info.delivered);
            if delivered > 1 {
                metrics.redelivered.fetch_add(1, Ordering::Relaxed);
            }
            if seq < st.expected {
                metrics.skipped_duplicates.fetch_add(1, Ordering::Relaxed);
                skipped = Some(message);
                continue;
            }
            if seq > st.expected && !(st.fresh && Self::gone(st, seq).await) {
                // Something before it will be redelivered later: go back for it, in order.
                tracing::info!(expected = st.expected, got = seq, "out of order delivery; repositioning");
                st.reset = true;
                break;
            }
            st.fresh = false;
            match codec::decode(&message.payload) {
                Ok(r) => records.extend(r),
                Err(e) => {
                    metrics.undecodable.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, seq, "undecodable message in the stream; skipped");
                }
            }
            st.expected = seq + 1;
            st.position = seq;
            st.in_hand.push(message);
        }
        // Already in the database: acknowledged with the batch (the consumer acknowledges "all").
        if st.in_hand.is_empty()
            && let Some(last) = skipped
        {
            let _ = last.ack().await;
        }
        records
    }

    /// Right after repositioning, whether the messages from `expected` up to `seq` are gone from
    /// the stream (its age or size limits removed them before they were stored) rather than held
    /// by a pull cut short on a consumer the reposition could not replace: only a stream that
    /// answers "no message" for `expected` lets the writer skip ahead.
    async fn gone(st: &State, seq: u64) -> bool {
        use async_nats::jetstream::stream::RawMessageErrorKind;
        let Some(stream) = st.stream.as_ref() else { return false };
        match stream.get_raw_message(st.expected).await {
            Err(e) if e.kind() == RawMessageErrorKind::NoMessageFound => {
                tracing::warn!(
                    from = st.expected,
                    to = seq - 1,
                    "stream messages removed by its limits before they were stored; skipping them"
                );
                true
            }
            _ => false,
        }
    }

    /// Drops from the stream what the database holds: one request for many batches (at most
    /// once a second), where a work queue would delete every message on its own. The last stored
    /// message stays: a stream purged empty can come back from a `kill -9` of nats-server with
    /// its sequence wound back (its state file lags), and hits published then would reuse
    /// sequences the database already holds and be skipped as duplicates. With one message
    /// kept, the recovered sequence is that message's.
    async fn purge(st: &mut State) {
        let below = st.position;
        if below <= st.purged_below {
            return;
        }
        let Some(stream) = st.stream.as_ref() else { return };
        match stream.purge().sequence(below).await {
            Ok(_) => st.purged_below = below,
            // Kept until the next purge: only space is lost meanwhile.
            Err(e) => tracing::warn!(error = %e, below, "cannot purge stored hits from the stream"),
        }
        st.purged_at = Instant::now();
    }

    /// Looks at the writer's lag (once a second) for what the writer must do about it; `idle`:
    /// the last pull brought nothing.
    async fn check_lag(&self, st: &mut State, idle: bool) {
        if st.lag_checked.elapsed() < Duration::from_secs(1) {
            return;
        }
        st.lag_checked = Instant::now();
        let Some(stream) = st.stream.as_mut() else { return };
        let Ok(info) = stream.info().await else { return };
        let lag = lag_of(&info.state, st.position);
        self.queue.metrics.consumer_pending.store(lag, Ordering::Relaxed);
        // Messages beyond the database, none left for the consumer to deliver and none coming:
        // a pull cut short holds them until their acknowledgement wait (30 s) runs out. Take
        // them back now.
        if lag > 0
            && idle
            && let Some(c) = st.consumer.as_mut()
            && let Ok(ci) = c.info().await
            && ci.num_pending == 0
        {
            tracing::info!(lag, held = ci.num_ack_pending, "messages held by a pull cut short; repositioning");
            st.reset = true;
        }
        // The stream behind what the database holds: it lost messages (a nats-server restarted
        // from a lagging state) and will hand out stored sequences again. Reposition at once;
        // `reposition` continues from the stream's first message.
        if info.state.last_sequence < st.position {
            tracing::warn!(
                stored = st.position,
                stream_last = info.state.last_sequence,
                "the stream is behind the database; repositioning"
            );
            st.reset = true;
        }
    }
}

impl RecordConsumer for NatsConsumer {
    fn next_batch(&self, max: usize, wait: Duration, linger: Duration) -> Batch {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        st.in_hand.clear();
        let closed = self.closed.load(Ordering::SeqCst);
        // The server holds the pull until `max` messages or the expiry: the linger bounds latency.
        let expires = if closed { Duration::from_millis(100) } else { linger.clamp(Duration::from_millis(10), wait) };
        // Where the pull starts: a pull that never finishes (NATS frozen or unreachable
        // mid-pull) drops what it received, so the consumer goes back here and has it delivered
        // again (none of it was acknowledged) instead of skipping it.
        let (expected, position) = (st.expected, st.position);
        let records = self.runtime.block_on(async {
            if (st.reset || st.consumer.is_none())
                && let Err(e) = self.reposition(st).await
            {
                tracing::warn!(error = %e, "cannot position the JetStream consumer; retrying");
                tokio::time::sleep(wait.min(Duration::from_millis(500))).await;
                return None;
            }
            let pulled = tokio::time::timeout(expires + Duration::from_secs(5), self.pull(st, max, expires)).await;
            self.check_lag(st, matches!(&pulled, Ok(r) if r.is_empty())).await;
            pulled.ok()
        });
        let batch = match records {
            Some(r) if r.is_empty() && closed && st.in_hand.is_empty() => Batch::Closed,
            Some(r) => Batch::Records(r),
            None => {
                (st.expected, st.position) = (expected, position);
                st.in_hand.clear();
                st.reset = true;
                if closed { Batch::Closed } else { Batch::Records(Vec::new()) }
            }
        };
        self.position.store(st.position, Ordering::Relaxed);
        batch
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn durable_queue(&self) -> Option<&str> {
        Some(&self.queue.settings.stream)
    }

    fn resume_after(&self, stored: u64) {
        let mut st = self.state.lock();
        st.expected = stored + 1;
        st.position = stored;
        st.reset = true;
        self.position.store(stored, Ordering::Relaxed);
    }

    fn position(&self) -> Option<QueuePosition> {
        let st = self.state.lock();
        (st.position > 0).then(|| QueuePosition { queue: self.queue.settings.stream.clone(), sequence: st.position })
    }

    fn acknowledge(&self) {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        let last = std::mem::take(&mut st.in_hand).pop();
        self.runtime.block_on(async {
            // Acknowledges every message up to it. A lost ack only costs a redelivery, which
            // the stored position skips.
            if let Some(m) = last {
                let _ = m.ack().await;
            }
            if st.purged_at.elapsed() >= Duration::from_secs(1) {
                Self::purge(st).await;
            }
        });
    }
}

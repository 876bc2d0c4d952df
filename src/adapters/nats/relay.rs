//! Hits received by cluster nodes that do not hold the database, relayed through their own
//! JetStream stream: a follower answers 202 once JetStream has the hit, and the leader pulls
//! them through a durable consumer, ingests them (publishing the records to the hits' stream)
//! and acknowledges each only once its records are acknowledged in turn.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::PullConsumer, consumer::pull, message::PublishMessage};
use futures_util::StreamExt;
use tokio::sync::{Mutex, Semaphore};

use super::NatsQueue;
use crate::ports::queue::{HitRelay, Pending, PublishError, Receipt};

/// The relay of one node: publishes what it receives; on the leader, also takes.
pub struct NatsRelay {
    queue: Arc<NatsQueue>,
    subject: async_nats::Subject,
    permits: Arc<Semaphore>,
    /// The leader's consumer (made on first `take`) and the messages it took last.
    taking: Mutex<(Option<PullConsumer>, Vec<jetstream::Message>)>,
    /// When the leader last sampled its lag (once a second at most).
    lag_checked: parking_lot::Mutex<std::time::Instant>,
}

impl NatsQueue {
    /// This node's relay for received hits.
    pub fn relay(self: &Arc<Self>) -> NatsRelay {
        NatsRelay {
            queue: self.clone(),
            subject: self.settings.relay_subject().into(),
            permits: Arc::new(Semaphore::new(self.settings.max_in_flight.max(1))),
            taking: Mutex::new((None, Vec::new())),
            lag_checked: parking_lot::Mutex::new(std::time::Instant::now()),
        }
    }
}

impl NatsRelay {
    /// The leader's durable consumer of relayed hits; what a crashed leader took but did not
    /// settle comes again after `ack_wait`.
    async fn consumer(&self) -> Result<PullConsumer, String> {
        let s = &self.queue.settings;
        let stream = self.queue.pull_js.get_stream(s.relay_stream()).await.map_err(|e| e.to_string())?;
        let name = format!("{}-relay", s.stream.to_lowercase());
        let config = pull::Config {
            durable_name: Some(name.clone()),
            filter_subject: s.relay_subject(),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            // Short: a failover waits this long for what the old leader had in hand; the hits'
            // stream de-duplicates the records of a hit handled twice (its message ids).
            ack_wait: Duration::from_secs(5),
            max_ack_pending: 20_000,
            ..Default::default()
        };
        stream.get_or_create_consumer(&name, config).await.map_err(|e| e.to_string())
    }
}

impl HitRelay for NatsRelay {
    fn send(&self, id: &str, hit: Vec<u8>) -> Result<Receipt, PublishError> {
        if !self.queue.connected() {
            self.queue.metrics.publish_failures.fetch_add(1, Ordering::Relaxed);
            return Err(PublishError::Closed);
        }
        let permit = self.permits.clone().try_acquire_owned().map_err(|_| PublishError::Full)?;
        let message = PublishMessage::build().payload(hit.into()).message_id(id);
        let (js, subject, metrics) = (self.queue.js.clone(), self.subject.clone(), self.queue.metrics.clone());
        Ok(Receipt::pending(async move {
            let result = super::publisher::publish_confirmed(js, subject, message, &metrics).await;
            drop(permit);
            result
        }))
    }

    fn ready(&self) -> bool {
        self.queue.connected()
    }

    fn take(&self, max: usize, wait: Duration) -> Pending<'_, Vec<Vec<u8>>> {
        Box::pin(async move {
            let mut taking = self.taking.lock().await;
            // Taken by a run that was aborted before it settled them (its session ended while
            // it pulled or ingested): handed back, so the leader ingests them again (their records'
            // message ids de-duplicate what it had published). Left here, the next `settle` would
            // pair them with the next batch's outcomes and acknowledge hits never ingested.
            let unsettled = std::mem::take(&mut taking.1);
            if !unsettled.is_empty() {
                tracing::info!(hits = unsettled.len(), "handing back relayed hits an aborted run took");
                for m in unsettled {
                    let _ = m.ack_with(AckKind::Nak(None)).await;
                }
            }
            if taking.0.is_none() {
                match self.consumer().await {
                    Ok(c) => taking.0 = Some(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot open the relay consumer; retrying");
                        tokio::time::sleep(wait).await;
                        return Vec::new();
                    }
                }
            }
            let consumer = taking.0.clone().expect("consumer");
            let mut messages = match consumer.batch().max_messages(max).expires(wait).messages().await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "relay pull failed; retrying");
                    taking.0 = None;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    return Vec::new();
                }
            };
            let mut hits = Vec::new();
            // Bounded: a pull the server forgot (it restarted) would never end on its own.
            let pulled = tokio::time::timeout(wait + Duration::from_secs(5), async {
                while let Some(Ok(m)) = messages.next().await {
                    hits.push(m.payload.to_vec());
                    taking.1.push(m);
                }
            })
            .await;
            if pulled.is_err() {
                tracing::warn!("relay pull did not end; reopening the consumer");
                taking.0 = None;
            }
            let sample = {
                let mut checked = self.lag_checked.lock();
                let due = checked.elapsed() >= Duration::from_secs(1) || hits.is_empty();
                if due {
                    *checked = std::time::Instant::now();
                }
                due
            };
            if sample && let Ok(info) = consumer.clone().info().await {
                let pending = info.num_pending + info.num_ack_pending as u64;
                self.queue.metrics.relay_pending.store(pending, Ordering::Relaxed);
            }
            hits
        })
    }

    fn settle(&self, handled: Vec<bool>) -> Pending<'_, ()> {
        Box::pin(async move {
            let taken = std::mem::take(&mut self.taking.lock().await.1);
            for (m, done) in taken.into_iter().zip(handled.into_iter().chain(std::iter::repeat(false))) {
                // A lost ack only costs a second handling, which the message ids de-duplicate.
                let _ = m.ack_with(if done { AckKind::Ack } else { AckKind::Nak(None) }).await;
            }
        })
    }
}

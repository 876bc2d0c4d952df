//! The durable ingest queue on NATS JetStream (`--queue nats://...`): every node publishes hits
//! to one stream and waits for JetStream's acknowledgement before answering 202; the leader's
//! writer pulls them through one durable consumer and stores the stream sequence it reached in
//! the same DuckDB transaction as the batch (exactly once, see `consumer.rs`).

mod codec;
mod consumer;
mod publisher;
mod relay;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, stream};

pub use consumer::NatsConsumer;
pub use publisher::NatsPublisher;
pub use relay::NatsRelay;

/// How to reach NATS and what stream to use, validated from the flags.
#[derive(Clone)]
pub struct NatsSettings {
    /// `nats://` or `tls://` URLs (one or more servers of the same cluster).
    pub servers: Vec<String>,
    pub stream: String,
    pub replicas: usize,
    pub max_age: Duration,
    pub max_bytes: i64,
    pub user: Option<(String, String)>,
    pub token: Option<String>,
    pub creds: Option<PathBuf>,
    /// Publishes waiting for their acknowledgement; more is answered 503.
    pub max_in_flight: usize,
    /// Longest a publish waits for its acknowledgement before the hit is answered 503.
    pub publish_timeout: Duration,
}

impl std::fmt::Debug for NatsSettings {
    // Secrets stay out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSettings")
            .field("servers", &self.servers)
            .field("stream", &self.stream)
            .field("replicas", &self.replicas)
            .field("max_age", &self.max_age)
            .field("max_bytes", &self.max_bytes)
            .field("user", &self.user.as_ref().map(|(u, _)| u))
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("creds", &self.creds)
            .finish()
    }
}

impl NatsSettings {
    /// The subject hits are published on: one per stream.
    pub fn subject(&self) -> String {
        format!("hitkeep.{}.hits", self.stream.to_lowercase())
    }

    /// The writer's durable consumer.
    pub fn durable(&self) -> String {
        format!("{}-writer", self.stream.to_lowercase())
    }

    /// The stream of hits cluster nodes received and the leader has not ingested yet.
    pub fn relay_stream(&self) -> String {
        format!("{}_RECEIVED", self.stream)
    }

    /// The subject received hits are relayed on.
    pub fn relay_subject(&self) -> String {
        format!("hitkeep.{}.received", self.stream.to_lowercase())
    }

    /// Its own stream, not a second subject of the hits' stream: the writer relies on the
    /// hits' stream sequences following each other.
    fn relay_stream_config(&self) -> stream::Config {
        stream::Config {
            name: self.relay_stream(),
            subjects: vec![self.relay_subject()],
            // Relayed hits are settled one by one (some are handed back): a work queue.
            retention: stream::RetentionPolicy::WorkQueue,
            ..self.stream_config()
        }
    }

    fn stream_config(&self) -> stream::Config {
        stream::Config {
            name: self.stream.clone(),
            subjects: vec![self.subject()],
            // Not a work queue: that would make the server delete every hit one by one as it is
            // acknowledged. The writer acknowledges a whole batch with one ack ("all") and purges
            // what the database holds in one request; the limits bound what waits.
            retention: stream::RetentionPolicy::Limits,
            // Full: refuse new hits (503) rather than drop old ones nobody stored yet.
            discard: stream::DiscardPolicy::New,
            storage: stream::StorageType::File,
            num_replicas: self.replicas,
            max_age: self.max_age,
            max_bytes: self.max_bytes,
            // JetStream refuses a window longer than the age limit.
            duplicate_window: Duration::from_secs(120).min(self.max_age),
            ..Default::default()
        }
    }
}

/// Metrics shared by the publisher and the consumer.
#[derive(Debug, Default)]
pub struct NatsMetrics {
    pub published: AtomicU64,
    /// Stream messages acknowledged: under load several hits share one (group commit).
    pub messages: AtomicU64,
    pub publish_failures: AtomicU64,
    pub in_flight: AtomicU64,
    pub publish_micros_sum: AtomicU64,
    pub publish_buckets: [AtomicU64; PUBLISH_BUCKETS.len()],
    pub consumer_pending: AtomicU64,
    /// Relayed hits the leader has not settled yet (taken or waiting).
    pub relay_pending: AtomicU64,
    pub redelivered: AtomicU64,
    pub skipped_duplicates: AtomicU64,
    pub consumer_resets: AtomicU64,
    pub undecodable: AtomicU64,
}

impl NatsMetrics {
    /// An acknowledged publish and how long it took.
    fn record_publish(&self, took: Duration) {
        self.published.fetch_add(1, Ordering::Relaxed);
        self.publish_micros_sum.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        for (bound, n) in PUBLISH_BUCKETS.iter().zip(&self.publish_buckets) {
            if took.as_secs_f64() <= *bound {
                n.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Publish-latency histogram buckets in seconds.
pub const PUBLISH_BUCKETS: [f64; 8] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1.0];

/// A connection to NATS with the stream checked; hands out publishers and consumers.
pub struct NatsQueue {
    pub settings: NatsSettings,
    client: async_nats::Client,
    js: jetstream::Context,
    /// A second connection for the consumers' pulls: a batch delivered to the writer never
    /// queues in front of the publish acknowledgements the 202s wait for.
    pull_client: async_nats::Client,
    pull_js: jetstream::Context,
    pub metrics: Arc<NatsMetrics>,
}

impl std::fmt::Debug for NatsQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsQueue").field("settings", &self.settings).finish()
    }
}

/// Why the queue could not start.
#[derive(Debug, thiserror::Error)]
pub enum NatsSetupError {
    #[error("cannot connect to NATS at {servers}: {cause}")]
    Connect { servers: String, cause: String },
    #[error("JetStream stream {stream}: {cause}")]
    Stream { stream: String, cause: String },
    #[error(
        "JetStream stream {stream} exists with a different configuration ({what}); \
         change the flags to match it or remove the stream"
    )]
    Mismatch { stream: String, what: String },
    #[error("JetStream consumer {name}: {cause}")]
    Consumer { name: String, cause: String },
}

impl NatsQueue {
    /// Connects, creates the stream and the writer's durable pull consumer if missing, and checks
    /// them if present.
    pub async fn connect(settings: NatsSettings) -> Result<Arc<Self>, NatsSetupError> {
        let client = Self::open(&settings, "hitkeep").await?;
        let pull_client = Self::open(&settings, "hitkeep-pull").await?;
        let js = jetstream::ContextBuilder::new()
            .timeout(settings.publish_timeout)
            .ack_timeout(settings.publish_timeout)
            .max_ack_inflight(settings.max_in_flight.max(1))
            // Our own bound answers 503 at once; the client's would wait for a permit.
            .backpressure_on_inflight(false)
            .build(client.clone());
        let pull_js = jetstream::ContextBuilder::new().timeout(settings.publish_timeout).build(pull_client.clone());
        let queue = Self { settings, client, js, pull_client, pull_js, metrics: Arc::default() };
        queue.ensure_stream(queue.settings.stream_config()).await?;
        queue.ensure_stream(queue.settings.relay_stream_config()).await?;
        queue.ensure_consumer().await?;
        Ok(Arc::new(queue))
    }

    /// One connection to the configured servers with the configured credentials.
    async fn open(settings: &NatsSettings, name: &str) -> Result<async_nats::Client, NatsSetupError> {
        let servers = settings.servers.join(",");
        let connect_err = |cause: String| NatsSetupError::Connect { servers: servers.clone(), cause };
        let mut options = async_nats::ConnectOptions::new()
            .name(name)
            .connection_timeout(Duration::from_secs(3))
            .max_reconnects(None)
            .require_tls(settings.servers.iter().any(|s| s.starts_with("tls://")));
        if let Some((user, password)) = &settings.user {
            options = options.user_and_password(user.clone(), password.clone());
        }
        if let Some(token) = &settings.token {
            options = options.token(token.clone());
        }
        if let Some(path) = &settings.creds {
            options =
                options.credentials_file(path).await.map_err(|e| connect_err(format!("{}: {e}", path.display())))?;
        }
        let addrs = settings
            .servers
            .iter()
            .map(|s| s.parse::<async_nats::ServerAddr>().map_err(|e| connect_err(format!("{s}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        async_nats::connect_with_options(addrs, options).await.map_err(|e| connect_err(e.to_string()))
    }

    /// Creates the stream if missing, else checks it matches `want`.
    async fn ensure_stream(&self, want: stream::Config) -> Result<(), NatsSetupError> {
        let name = want.name.clone();
        let err = |cause: String| NatsSetupError::Stream { stream: name.clone(), cause };
        let mut stream = match self.js.get_stream(&name).await {
            Ok(s) => s,
            Err(e) if matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(_)) => {
                tracing::info!(stream = %name, replicas = want.num_replicas, "creating the JetStream stream");
                match self.js.create_stream(want.clone()).await {
                    Ok(s) => s,
                    // Another node created it at the same moment: check that one.
                    Err(create) => self.js.get_stream(&name).await.map_err(|_| err(create.to_string()))?,
                }
            }
            Err(e) => return Err(err(e.to_string())),
        };
        let have = stream.info().await.map_err(|e| err(e.to_string()))?.config.clone();
        let mut diffs = Vec::new();
        if !want.subjects.iter().all(|s| have.subjects.contains(s)) {
            diffs.push(format!("subjects {:?}, need {:?}", have.subjects, want.subjects));
        }
        if have.retention != want.retention {
            diffs.push(format!("retention {:?}, need {:?}", have.retention, want.retention));
        }
        if have.num_replicas != want.num_replicas {
            diffs.push(format!("replicas {}, --nats-replicas {}", have.num_replicas, want.num_replicas));
        }
        if have.max_age != want.max_age {
            diffs.push(format!("max age {:?}, --nats-max-age {:?}", have.max_age, want.max_age));
        }
        if have.max_bytes != want.max_bytes {
            diffs.push(format!("max bytes {}, --nats-max-bytes {}", have.max_bytes, want.max_bytes));
        }
        if have.discard != want.discard {
            diffs.push("discard policy old, need new".into());
        }
        if diffs.is_empty() { Ok(()) } else { Err(NatsSetupError::Mismatch { stream: name, what: diffs.join("; ") }) }
    }

    async fn ensure_consumer(&self) -> Result<(), NatsSetupError> {
        let name = self.settings.durable();
        let err = |cause: String| NatsSetupError::Consumer { name: name.clone(), cause };
        let stream = self.js.get_stream(&self.settings.stream).await.map_err(|e| err(e.to_string()))?;
        match stream.get_consumer::<pull::Config>(&name).await {
            Ok(mut c) => {
                let info = c.info().await.map_err(|e| err(e.to_string()))?;
                let filter = &info.config.filter_subject;
                if !filter.is_empty() && *filter != self.settings.subject() {
                    return Err(err(format!("filters {filter}, need {}", self.settings.subject())));
                }
                Ok(())
            }
            Err(_) => match stream.create_consumer(self.consumer_config()).await {
                Ok(_) => Ok(()),
                // Created by another node meanwhile: fine, the writer repositions it anyway.
                Err(e) => stream.get_consumer::<pull::Config>(&name).await.map(|_| ()).map_err(|_| err(e.to_string())),
            },
        }
    }

    /// The durable pull consumer, delivering every message not yet acknowledged, in order.
    fn consumer_config(&self) -> pull::Config {
        pull::Config {
            durable_name: Some(self.settings.durable()),
            filter_subject: self.settings.subject(),
            // One acknowledgement per stored batch covers every message up to it.
            ack_policy: jetstream::consumer::AckPolicy::All,
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 100_000,
            max_batch: 0,
            // What is left in the stream is what the writer has not purged yet, from the lowest
            // sequence up; the writer repositions after what the database holds.
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ..Default::default()
        }
    }

    /// A publisher for this node's ingest; `closed` is shared with the consumer.
    pub fn publisher(self: &Arc<Self>, closed: Arc<AtomicBool>) -> NatsPublisher {
        NatsPublisher::new(self.clone(), closed)
    }

    /// The writer's consumer; call from the thread that runs the writer.
    pub fn consumer(self: &Arc<Self>, closed: Arc<AtomicBool>) -> NatsConsumer {
        NatsConsumer::new(self.clone(), closed)
    }

    fn connected(&self) -> bool {
        use async_nats::connection::State::Connected;
        self.client.connection_state() == Connected && self.pull_client.connection_state() == Connected
    }
}

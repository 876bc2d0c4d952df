//! Choosing the ingest queue: the in-memory flume channel (default) or NATS JetStream.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;

use crate::adapters::flume;
use crate::adapters::nats::{NatsQueue, NatsSettings};
use crate::ports::queue::{HitRelay, RecordConsumer, RecordPublisher};

/// `hitkeep serve` flags of the ingest queue.
#[derive(Debug, Clone, clap::Args)]
pub struct QueueArgs {
    /// `memory` (in-process, the default) or NATS JetStream servers: `nats://host:4222[,nats://host2:4222]`
    /// (`tls://` for TLS). With NATS, ingest answers 202 only once JetStream has the hit.
    #[arg(long = "queue", env = "HITKEEP_QUEUE", default_value = "memory")]
    pub queue: String,
    /// JetStream stream holding the hits (created if missing).
    #[arg(long, env = "HITKEEP_NATS_STREAM", default_value = "HITKEEP")]
    pub nats_stream: String,
    /// Stream replicas: 1, or 3 on a 3-node NATS cluster.
    #[arg(long, env = "HITKEEP_NATS_REPLICAS", default_value_t = 1)]
    pub nats_replicas: usize,
    /// Longest a hit may wait in the stream, in hours (0: no limit).
    #[arg(long, env = "HITKEEP_NATS_MAX_AGE_HOURS", default_value_t = 168)]
    pub nats_max_age_hours: u64,
    /// Most bytes the stream holds; when full, ingest answers 503.
    #[arg(long, env = "HITKEEP_NATS_MAX_BYTES", default_value_t = 1 << 30)]
    pub nats_max_bytes: i64,
    /// NATS user (with --nats-password).
    #[arg(long, env = "HITKEEP_NATS_USER")]
    pub nats_user: Option<String>,
    #[arg(long, env = "HITKEEP_NATS_PASSWORD", hide_env_values = true)]
    pub nats_password: Option<String>,
    /// NATS authentication token.
    #[arg(long, env = "HITKEEP_NATS_TOKEN", hide_env_values = true)]
    pub nats_token: Option<String>,
    /// NATS `.creds` file (JWT + NKey).
    #[arg(long, env = "HITKEEP_NATS_CREDS")]
    pub nats_creds: Option<PathBuf>,
    /// Publishes waiting for JetStream's acknowledgement at once; beyond, ingest answers 503.
    #[arg(long, env = "HITKEEP_NATS_MAX_IN_FLIGHT", default_value_t = 20_000)]
    pub nats_max_in_flight: usize,
    /// Longest a hit waits for JetStream's acknowledgement before it is answered 503, in ms.
    #[arg(long, env = "HITKEEP_NATS_PUBLISH_TIMEOUT_MS", default_value_t = 2_000)]
    pub nats_publish_timeout_ms: u64,
}

/// Which queue, validated; `Connected` once `serve` reached NATS.
#[derive(Debug, Clone)]
pub enum QueueKind {
    Memory,
    Nats(NatsSettings),
    Connected(Arc<NatsQueue>),
}

impl QueueKind {
    pub fn from_args(a: &QueueArgs) -> anyhow::Result<Self> {
        if a.queue.trim() == "memory" {
            return Ok(Self::Memory);
        }
        let servers: Vec<String> = a.queue.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        anyhow::ensure!(!servers.is_empty(), "--queue needs `memory` or nats:// URLs");
        for s in &servers {
            anyhow::ensure!(
                s.starts_with("nats://") || s.starts_with("tls://"),
                "--queue {s}: use `memory`, nats://host:port or tls://host:port"
            );
        }
        anyhow::ensure!(a.nats_replicas == 1 || a.nats_replicas == 3, "--nats-replicas must be 1 or 3");
        anyhow::ensure!(
            !a.nats_stream.is_empty()
                && a.nats_stream.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "--nats-stream may hold letters, digits, - and _ only"
        );
        anyhow::ensure!(a.nats_max_bytes > 0, "--nats-max-bytes must be positive");
        anyhow::ensure!(a.nats_max_in_flight > 0, "--nats-max-in-flight must be at least 1");
        let user = match (&a.nats_user, &a.nats_password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            (None, None) => None,
            _ => anyhow::bail!("--nats-user and --nats-password go together"),
        };
        if let Some(creds) = &a.nats_creds {
            anyhow::ensure!(creds.is_file(), "--nats-creds {} is not a readable file", creds.display());
        }
        Ok(Self::Nats(NatsSettings {
            servers,
            stream: a.nats_stream.clone(),
            replicas: a.nats_replicas,
            max_age: Duration::from_secs(a.nats_max_age_hours * 3600),
            max_bytes: a.nats_max_bytes,
            user,
            token: a.nats_token.clone().filter(|t| !t.is_empty()),
            creds: a.nats_creds.clone(),
            max_in_flight: a.nats_max_in_flight,
            publish_timeout: Duration::from_millis(a.nats_publish_timeout_ms.max(1)),
        }))
    }

    /// Connects to NATS (stream and consumer checked) so `build` can hand out its ends.
    pub async fn connect(self) -> anyhow::Result<Self> {
        match self {
            Self::Nats(settings) => {
                let servers = settings.servers.join(",");
                let queue = NatsQueue::connect(settings).await.with_context(|| format!("queue {servers}"))?;
                tracing::info!(servers, stream = %queue.settings.stream, "ingest queue: NATS JetStream");
                Ok(Self::Connected(queue))
            }
            other => Ok(other),
        }
    }

    /// With a durable queue: the relay a cluster node without the database sends hits through.
    pub fn relay(&self) -> Option<Arc<dyn HitRelay>> {
        match self {
            Self::Connected(queue) => Some(Arc::new(queue.relay())),
            _ => None,
        }
    }

    /// Both ends of the queue for one database session.
    pub fn open(&self, capacity: usize) -> anyhow::Result<(Arc<dyn RecordPublisher>, Box<dyn RecordConsumer>)> {
        match self {
            Self::Memory => {
                let (p, c) = flume::bounded(capacity);
                Ok((Arc::new(p), Box::new(c)))
            }
            Self::Connected(queue) => {
                let closed = Arc::new(AtomicBool::new(false));
                Ok((Arc::new(queue.publisher(closed.clone())), Box::new(queue.consumer(closed))))
            }
            Self::Nats(_) => anyhow::bail!("the NATS queue is not connected yet"),
        }
    }
}

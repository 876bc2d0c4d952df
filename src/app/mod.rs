//! The composition root: builds the adapters, hands them to the services, serves, shuts down.

pub mod cluster;
pub mod offline;
pub mod queue;

mod node;

pub(crate) use node::spawn_leader_jobs;
pub use node::{Enrichment, Node, NodeRole, accounts_service, build};
pub use offline::{openapi_spec, seed};

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;

use crate::adapters::duckdb::{Database, DuckSettings};
use crate::adapters::http::conn_limits::{ConnLimits, LimitedAcceptor};
use crate::adapters::http::realtime::StreamLimits;
use crate::adapters::http::{self, AppState, HttpConfig, LifecycleConfig};
use crate::domain::recorder::BatchPolicy;
use crate::ports::store::StoreError;

/// Everything `serve` needs, validated.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub http: String,
    pub database: PathBuf,
    pub queue_capacity: usize,
    /// The memory queue or NATS JetStream.
    pub queue: queue::QueueKind,
    pub batch: BatchPolicy,
    pub http_config: HttpConfig,
    pub duck: DuckSettings,
    pub city_db: Option<PathBuf>,
    pub shutdown_timeout: Duration,
    /// Connection cap, header and idle timeouts.
    pub conn_limits: ConnLimits,
    pub writer_start_delay: Duration,
    /// Periods with more events than this count visitors approximately.
    pub exact_visitors_limit: u64,
    /// Report answers cached until their site's data changes (`--query-cache-entries`); 0: none.
    pub query_cache_entries: usize,
    /// Longest a report query may run (`--query-timeout-ms`); `None`: no limit.
    pub query_timeout: Option<Duration>,
    /// Exchange rates to revenue goals' currencies (`--revenue-rates`).
    pub revenue_rates: crate::domain::revenue_rates::RevenueRates,
    /// Bounds on realtime streams.
    pub realtime: StreamLimits,
    /// Cluster membership; `None` runs a single node.
    pub cluster: Option<cluster::ClusterConfig>,
    pub lifecycle: LifecycleConfig,
    /// Scheduled backups: (every, directory, how many to keep).
    pub backups: Option<(Duration, PathBuf, usize)>,
    /// SMTP URL and From address for e-mail reports.
    pub smtp: Option<(String, String)>,
    /// Webhook targets and the alert, goal-batch and delivery job.
    pub signals: SignalsConfig,
    /// Single sign-on with an OpenID Connect provider (`--oidc-*`).
    pub sso: Option<SsoConfig>,
    /// The key TOTP secrets are sealed with (`--secret-key`, else `<data-dir>/secret.key`).
    pub sealing_key: crate::adapters::sealing::SealingKey,
}

/// Webhooks and alerts.
#[derive(Debug, Clone)]
pub struct SignalsConfig {
    /// Deliver to loopback, link-local and private addresses (`--webhooks-allow-private`).
    pub allow_private: bool,
    /// How often alerts are checked, goal conversions batched and due deliveries attempted.
    pub every: Duration,
    /// The first retry's delay; each further one doubles it.
    pub retry_base: Duration,
    /// How far behind now goal conversions are batched (late-stored hits are not missed).
    pub goal_lag: Duration,
}

impl Default for SignalsConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            every: Duration::from_secs(60),
            retry_base: Duration::from_secs(30),
            goal_lag: Duration::from_secs(30),
        }
    }
}

/// The OpenID Connect provider and how its identities map to accounts.
#[derive(Debug, Clone)]
pub struct SsoConfig {
    pub provider: crate::adapters::oidc::OidcSettings,
    pub policy: crate::domain::sso::SsoPolicy,
    /// The login button's "Sign in with <label>".
    pub label: String,
}

/// Text or JSON logs to stderr.
pub fn init_logging(level: &str, json: bool) {
    // openraft logs every vote and heartbeat decision at info: keep it to warnings unless asked.
    let level = if level.contains("openraft") { level.to_string() } else { format!("{level},openraft=warn") };
    let filter =
        tracing_subscriber::EnvFilter::try_new(&level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called (inside the
/// runtime), not when the future is first polled: a SIGTERM that arrives while start-up is still
/// scheduling tasks must still mean a clean stop, never the default "terminate at once".
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! { _ = wait(term) => {}, _ = wait(int) => {} }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The background jobs' view of a node's services.
pub fn jobs_of(state: &AppState) -> crate::jobs::Jobs {
    crate::jobs::Jobs {
        leadership: state.leadership.clone(),
        sites: state.site_service.clone(),
        accounts: state.accounts.clone(),
        retention: state.retention.clone(),
        backups: state.backups.clone(),
        email: state.email.clone(),
        webhooks: state.webhooks.clone(),
        alerts: state.alerts.clone(),
        signals_every: state.signals_every,
        folding: state.visit_folding.clone(),
        audit_retention_days: state.lifecycle_config.audit_retention_days,
    }
}

/// Scheduled backups, when configured.
pub fn backup_schedule(config: &ServeConfig) -> Option<crate::jobs::BackupSchedule> {
    config.backups.clone().map(|(every, dir, keep)| crate::jobs::BackupSchedule { every, dir, keep })
}

/// Serves `routes` until `shutdown` resolves; then `drain` marks the node draining (readiness
/// answers 503) while open requests finish, for at most `timeout`.
async fn serve_until<E: poem::IntoEndpoint>(
    acceptor: impl poem::listener::Acceptor + 'static,
    routes: E,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: impl FnOnce() + Send + 'static,
    timeout: Duration,
) -> std::io::Result<()>
where
    E::Endpoint: 'static,
{
    let signal = async move {
        shutdown.await;
        drain();
        tracing::info!("shutting down: no new connections, finishing open requests");
    };
    poem::Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(routes, signal, Some(timeout)).await
}

/// Runs the server until `shutdown` resolves, then drains the queue, flushes and checkpoints.
pub async fn serve(config: ServeConfig, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    if config.http_config.public_url.is_none() {
        tracing::warn!(
            "--public-url is not set: invitation and share links are built from the request's Host header, \
             and session cookies are not Secure; set it to the URL people reach this server at"
        );
    }
    let mut config = config;
    config.queue = config.queue.connect().await?;
    if config.cluster.is_some() {
        return cluster::serve(config, shutdown).await;
    }
    let db = open_database(&config)?;
    let spool = crate::adapters::spool::Spool::new(&config.lifecycle.data_dir, "node");
    let role =
        NodeRole { handover: Arc::new(crate::adapters::spool::SpoolHandover(spool.clone())), ..NodeRole::single() };
    let node = build(db, &config, role, &Enrichment::new(&config)?)?;
    let Node { state, publisher, writer, sites, db } = node;
    redeliver_spool(&spool, &state).await?;

    let rotation = spawn_leader_jobs(&state, sites.clone());

    let jobs = crate::jobs::spawn(jobs_of(&state), backup_schedule(&config));

    let (acceptor, local) = listen(&config).await?;
    tracing::info!(address = %local, database = %config.database.display(), sites = state.ingest.sites().sites().len(), "listening");
    // Tests and scripts read this line to learn the port when binding port 0.
    println!("hitkeep listening on http://{local}");

    let draining = state.clone();
    let drain = move || draining.draining.store(true, Ordering::SeqCst);
    serve_until(acceptor, http::routes(state.clone()), shutdown, drain, config.shutdown_timeout).await?;

    rotation.abort();
    for job in jobs {
        job.abort();
    }
    publisher.close();
    let queued = state.ingest.queue_depth();
    tracing::info!(queued, "draining the ingest queue");
    let result = tokio::task::spawn_blocking(move || writer.join()).await?;
    match result {
        // Everything queued is stored or spooled again: the spool being delivered is done.
        Ok(Ok(())) => spool.delivered().context("cannot remove the delivered spool")?,
        Ok(Err(e)) => return Err(anyhow::anyhow!(e).context("writer failed")),
        Err(_) => anyhow::bail!("writer thread panicked"),
    }
    db.checkpoint()?;
    let c = &state.ingest.counters;
    tracing::info!(
        accepted = c.accepted.load(Ordering::Relaxed),
        stored =
            state.writer.stored_events.load(Ordering::Relaxed) + state.writer.stored_vitals.load(Ordering::Relaxed),
        "stopped cleanly"
    );
    Ok(())
}

/// Opens the node's database, compacting it first when retention left it sparse.
fn open_database(config: &ServeConfig) -> anyhow::Result<Database> {
    let locked = |e: StoreError| match e {
        StoreError::Locked { path } => anyhow::anyhow!("{path} is locked by another hitkeep process"),
        other => anyhow::anyhow!(other),
    };
    // DuckDB reuses the blocks retention frees but never shortens the file: give them back here.
    if config.database.exists()
        && let Some((before, after)) =
            crate::adapters::duckdb::compact_if_sparse(&config.database, &config.duck).map_err(locked)?
    {
        tracing::info!(before, after, "compacted the database file");
    }
    Database::open(&config.database, &config.duck).map_err(locked)
}

/// Binds the HTTP address under the connection limits; the address actually bound.
async fn listen(
    config: &ServeConfig,
) -> anyhow::Result<(LimitedAcceptor<impl poem::listener::Acceptor + use<>>, String)> {
    let listener = poem::listener::TcpListener::bind(config.http.clone());
    let acceptor = poem::listener::Listener::into_acceptor(listener)
        .await
        .with_context(|| format!("cannot listen on {}", config.http))?;
    let acceptor = LimitedAcceptor::new(acceptor, config.conn_limits);
    let local = poem::listener::Acceptor::local_addr(&acceptor)
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .map(|a| a.to_string())
        .unwrap_or_default();
    Ok((acceptor, local))
}

/// Queues what the last run spooled at its stop (acknowledged then; admitted and enriched
/// already). The spool stays on disk until the writer committed it: a crash meanwhile delivers
/// it again at the next start rather than losing it.
async fn redeliver_spool(spool: &crate::adapters::spool::Spool, state: &Arc<http::AppState>) -> anyhow::Result<()> {
    let records: Vec<crate::domain::event::Record> = spool.take().context("cannot read the spool")?;
    if records.is_empty() {
        return Ok(());
    }
    let total = records.len();
    for record in records {
        // The HTTP server is not up yet: a full queue only means the writer is behind.
        loop {
            match state.ingest.republish(record.clone()) {
                // A memory queue (the only one that spools): taken means queued for the writer.
                Ok(outcome) => break drop(outcome.into_receipt()),
                Err(crate::domain::ingest::IngestError::Overloaded) => {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await
                }
                Err(e) => anyhow::bail!("cannot deliver the spooled hits: {e}"),
            }
        }
    }
    tracing::info!(records = total, "delivering the records spooled at the last stop");
    let (spool, state, target) = (spool.clone(), state.clone(), state.ingest.published());
    tokio::spawn(async move {
        let w = &state.writer;
        while w.committed() + w.handed_over_records.load(Ordering::SeqCst) < target {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        match spool.delivered() {
            Ok(()) => tracing::info!(records = total, "the spooled records are stored"),
            Err(e) => tracing::error!(error = %e, "cannot remove the delivered spool"),
        }
    });
    Ok(())
}

//! The composition root: builds the adapters, hands them to the services, serves, shuts down.

pub mod cluster;
pub mod offline;
pub mod queue;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;

use crate::adapters::crypto::{Argon2Hasher, OsSecrets};
use crate::adapters::duckdb::{
    Database, DuckAccounts, DuckEventStore, DuckGoals, DuckImports, DuckLifecycle, DuckReports, DuckSettings,
    DuckSites, DuckSubscriptions,
};
use crate::adapters::geo::MaxMindGeo;
use crate::adapters::http::conn_limits::{ConnLimits, LimitedAcceptor};
use crate::adapters::http::realtime::{Broadcaster, StreamLimits};
use crate::adapters::http::{self, AppState, HttpConfig, LifecycleConfig, TrustedProxies};
use crate::adapters::leadership::{SingleNode, SingleNodeStatus};
use crate::adapters::smtp::{NoMailer, SmtpMailer};
use crate::adapters::system::{SystemClock, random_salt};
use crate::adapters::uap::UapClassifier;
use crate::adapters::zipfile::ZipUnpacker;
use crate::domain::accounts::SiteCreation;
use crate::domain::email_report::EmailReports;
use crate::domain::ingest::IngestService;
use crate::domain::recorder::{BatchPolicy, WriterCounters, run_writer};
use crate::domain::site::SiteDirectory;
use crate::domain::visitor::SaltRing;
use crate::ports::clock::Clock;
use crate::ports::cluster::ClusterStatusSource;
use crate::ports::geo::GeoLookup;
use crate::ports::leadership::{Leadership, NoFence, WriteFence};
use crate::ports::lifecycle::Mailer;
use crate::ports::queue::{NoHandover, RecordHandover, RecordPublisher};
use crate::ports::reports::GoalRepository;
use crate::ports::retention::DataLifecycle;
use crate::ports::sites::SiteRepository;
use crate::ports::store::{SaltStore, StoreError};
use crate::ports::useragent::UserAgentClassifier;
use crate::services::accounts::{AccountService, LoginLimits};
use crate::services::lifecycle::backups::BackupService;
use crate::services::lifecycle::exports::ExportService;
use crate::services::lifecycle::imports::ImportService;
use crate::services::lifecycle::retention::RetentionService;
use crate::services::reports::ReportService;
use crate::services::sites::SiteService;

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
    /// Longest a report query may run (`--query-timeout-ms`); `None`: no limit.
    pub query_timeout: Option<Duration>,
    /// Bounds on realtime streams.
    pub realtime: StreamLimits,
    /// Cluster membership; `None` runs a single node.
    pub cluster: Option<cluster::ClusterConfig>,
    pub lifecycle: LifecycleConfig,
    /// Scheduled backups: (every, directory, how many to keep).
    pub backups: Option<(Duration, PathBuf, usize)>,
    /// SMTP URL and From address for e-mail reports.
    pub smtp: Option<(String, String)>,
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

/// The account service on its own connection.
pub fn accounts_service(db: &Database, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<AccountService>> {
    Ok(Arc::new(AccountService::new(
        Arc::new(DuckAccounts::new(db.connect()?)),
        Arc::new(Argon2Hasher::default()),
        Arc::new(OsSecrets),
        clock,
        LoginLimits::default(),
    )))
}

/// Ensures today's salt exists and persists the change.
pub(crate) fn rotate_salts(ingest: &IngestService, salts: &dyn SaltStore) {
    let rotation = ingest.rotate_salts(random_salt);
    if let Some((day, salt)) = &rotation.created {
        if let Err(e) = salts.save_salt(*day, salt) {
            tracing::error!(error = %e, "could not store the new salt");
        }
        if let Err(e) = salts.delete_salts_through(rotation.delete_through) {
            tracing::error!(error = %e, "could not delete old salts");
        }
        tracing::info!(day, "rotated visitor salt");
    }
}

/// The parts of a running node.
pub struct Node {
    pub state: Arc<AppState>,
    pub publisher: Arc<dyn RecordPublisher>,
    pub writer: std::thread::JoinHandle<Result<(), StoreError>>,
    pub sites: Arc<DuckSites>,
    pub db: Database,
}

/// What a node is in its cluster: who leads, whether it may still write, who else is there.
#[derive(Clone)]
pub struct NodeRole {
    pub leadership: Arc<dyn Leadership>,
    pub fence: Arc<dyn WriteFence>,
    pub cluster: Arc<dyn ClusterStatusSource>,
    /// Where a deposed writer sends its queue.
    pub handover: Arc<dyn RecordHandover>,
}

impl NodeRole {
    /// A node without cluster flags: always the leader, never fenced.
    pub fn single() -> Self {
        Self {
            leadership: Arc::new(SingleNode),
            fence: Arc::new(NoFence),
            cluster: Arc::new(SingleNodeStatus),
            handover: Arc::new(NoHandover),
        }
    }
}

/// The enrichment adapters, built once per process (the user-agent rules take a while to
/// compile) and shared by every database session a cluster node opens.
#[derive(Clone)]
pub struct Enrichment {
    pub clock: Arc<dyn Clock>,
    pub user_agents: Arc<dyn UserAgentClassifier>,
    pub geo: Arc<dyn GeoLookup>,
}

impl Enrichment {
    pub fn new(config: &ServeConfig) -> anyhow::Result<Self> {
        Ok(Self {
            clock: Arc::new(SystemClock),
            user_agents: Arc::new(UapClassifier::new(50_000)?),
            geo: Arc::new(MaxMindGeo::new(config.city_db.as_deref())?),
        })
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
        audit_retention_days: state.lifecycle_config.audit_retention_days,
    }
}

/// Scheduled backups, when configured.
pub fn backup_schedule(config: &ServeConfig) -> Option<crate::jobs::BackupSchedule> {
    config.backups.clone().map(|(every, dir, keep)| crate::jobs::BackupSchedule { every, dir, keep })
}

/// Wires a node on an open database.
pub fn build(db: Database, config: &ServeConfig, role: NodeRole, enrichment: &Enrichment) -> anyhow::Result<Node> {
    let sites = Arc::new(DuckSites::new(db.connect()?));
    let directory = SiteDirectory::new(sites.list()?);
    let clock = enrichment.clock.clone();
    let user_agents = enrichment.user_agents.clone();
    let geo = enrichment.geo.clone();
    let (publisher, consumer) = config.queue.open(config.queue_capacity)?;
    let counters = Arc::new(WriterCounters::default());
    let ingest = Arc::new(
        IngestService::new(
            directory,
            SaltRing::from_stored(sites.load_salts()?),
            user_agents,
            geo,
            clock.clone(),
            publisher.clone(),
        )
        .with_store_health(counters.store_failing.clone()),
    );
    rotate_salts(&ingest, sites.as_ref());

    let imports = Arc::new(DuckImports::new(db.connect()?));
    let goals: Arc<dyn GoalRepository> = Arc::new(DuckGoals::new(db.connect()?));
    let reports = Arc::new(ReportService::new(
        Arc::new(DuckReports::new(db.connect()?, config.exact_visitors_limit).with_timeout(config.query_timeout)),
        goals.clone(),
        imports.clone(),
        clock.clone(),
    ));
    let accounts = accounts_service(&db, clock.clone())?;
    let mailer: Arc<dyn Mailer> = match &config.smtp {
        Some((url, from)) => Arc::new(SmtpMailer::new(url, from).map_err(anyhow::Error::msg)?),
        None => Arc::new(NoMailer),
    };
    let email = Arc::new(EmailReports::new(
        reports.clone(),
        Arc::new(DuckSubscriptions::new(db.connect()?)),
        mailer,
        clock.clone(),
        Arc::new(DuckAccounts::new(db.connect()?)),
    ));
    let broadcaster = Arc::new(Broadcaster::new(config.realtime));
    let writer_conn = db.connect()?;
    let (policy, delay, writer_counters, observer, fence, handover) = (
        config.batch,
        config.writer_start_delay,
        counters.clone(),
        broadcaster.clone(),
        role.fence.clone(),
        role.handover.clone(),
    );
    let writer = std::thread::Builder::new().name("hitkeep-writer".into()).spawn(move || {
        std::thread::sleep(delay);
        let mut store = DuckEventStore::new(writer_conn);
        let result = run_writer(
            consumer.as_ref(),
            &mut store,
            clock.as_ref(),
            policy,
            writer_counters,
            observer.as_ref(),
            fence.as_ref(),
            handover.as_ref(),
        );
        if let Err(e) = &result {
            tracing::error!(error = %e, "writer stopped with an error");
        }
        result
    })?;

    let lifecycle: Arc<dyn DataLifecycle> = Arc::new(DuckLifecycle::new(db.connect()?));
    let state = Arc::new(AppState {
        config: config.http_config.clone(),
        ingest: ingest.clone(),
        writer: counters,
        leadership: role.leadership,
        sites: sites.clone(),
        site_service: Arc::new(SiteService::new(
            sites.clone(),
            accounts.clone(),
            ingest.clone(),
            config.http_config.site_creation,
        )),
        reports,
        goals,
        accounts,
        broadcaster,
        draining: AtomicBool::new(false),
        cluster: role.cluster,
        lifecycle_config: config.lifecycle.clone(),
        retention: Arc::new(RetentionService::new(
            sites.clone(),
            lifecycle.clone(),
            config.lifecycle.archive_dir.clone(),
            enrichment.clock.clone(),
        )),
        backups: Arc::new(BackupService::new(lifecycle.clone(), config.lifecycle.backup_root.clone())),
        exports: Arc::new(ExportService::new(lifecycle, config.lifecycle.tmp_dir())),
        import_service: Arc::new(ImportService::new(imports, Arc::new(ZipUnpacker))),
        email,
    });
    Ok(Node { state, publisher, writer, sites, db })
}

/// The jobs only the node holding the database runs: today's visitor salt (checked every
/// second) and, hourly, deleting expired sessions.
pub(crate) fn spawn_leader_jobs(state: &AppState, sites: Arc<DuckSites>) -> tokio::task::JoinHandle<()> {
    let (ingest, accounts) = (state.ingest.clone(), state.accounts.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        for second in 0u64.. {
            tick.tick().await;
            let (ingest, sites, accounts) = (ingest.clone(), sites.clone(), accounts.clone());
            let _ = tokio::task::spawn_blocking(move || {
                rotate_salts(&ingest, sites.as_ref());
                if second % 3600 == 0
                    && let Err(e) = accounts.sweep()
                {
                    tracing::warn!(error = %e, "could not delete expired sessions");
                }
            })
            .await;
        }
    })
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
    let db = Database::open(&config.database, &config.duck).map_err(locked)?;
    let spool = crate::adapters::spool::Spool::new(&config.lifecycle.data_dir, "node");
    let role =
        NodeRole { handover: Arc::new(crate::adapters::spool::SpoolHandover(spool.clone())), ..NodeRole::single() };
    let node = build(db, &config, role, &Enrichment::new(&config)?)?;
    let Node { state, publisher, writer, sites, db } = node;
    redeliver_spool(&spool, &state)?;

    let rotation = spawn_leader_jobs(&state, sites.clone());

    let jobs = crate::jobs::spawn(jobs_of(&state), backup_schedule(&config));

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
    tracing::info!(address = %local, database = %config.database.display(), sites = state.ingest.sites().sites().len(), "listening");
    // Tests and scripts read this line to learn the port when binding port 0.
    println!("hitkeep listening on http://{local}");

    let draining_state = state.clone();
    let routes = http::routes(state.clone());
    poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(
            routes,
            async move {
                shutdown.await;
                draining_state.draining.store(true, Ordering::SeqCst);
                tracing::info!("shutting down: no new connections, finishing open requests");
            },
            Some(config.shutdown_timeout),
        )
        .await?;

    rotation.abort();
    for job in jobs {
        job.abort();
    }
    publisher.close();
    let queued = state.ingest.queue_depth();
    tracing::info!(queued, "draining the ingest queue");
    let result = tokio::task::spawn_blocking(move || writer.join()).await?;
    match result {
        Ok(Ok(())) => {}
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

/// Queues what the last run spooled at its stop (acknowledged then; admitted and enriched already).
fn redeliver_spool(spool: &crate::adapters::spool::Spool, state: &http::AppState) -> anyhow::Result<()> {
    let records: Vec<crate::domain::event::Record> = spool.take().context("cannot read the spool")?;
    if records.is_empty() {
        return Ok(());
    }
    let total = records.len();
    let mut refused = Vec::new();
    for record in records {
        if state.ingest.republish(record.clone()).is_err() {
            refused.push(record);
        }
    }
    tracing::info!(records = total, refused = refused.len(), "delivered the records spooled at the last stop");
    // What the queue could not take now waits for the next start.
    spool.write(&refused).context("cannot write the spool")
}

/// Seeds an open (stopped) database through the ingest pipeline, then flushes and checkpoints.
pub fn seed(db: Database, sites: &[String], events: u64, days: u32) -> anyhow::Result<u64> {
    let config = offline_config(50_000);
    let node = build(db, &config, NodeRole::single(), &Enrichment::new(&config)?)?;
    let now = SystemClock.now_micros();
    let sent = crate::seed::run(node.state.ingest.clone(), sites, events, days, now)?;
    node.publisher.close();
    match node.writer.join() {
        Ok(r) => r?,
        Err(_) => anyhow::bail!("writer thread panicked"),
    }
    node.db.checkpoint()?;
    Ok(sent)
}

fn offline_config(queue_capacity: usize) -> ServeConfig {
    ServeConfig {
        http: String::new(),
        database: PathBuf::from(":memory:"),
        queue_capacity,
        queue: queue::QueueKind::Memory,
        batch: BatchPolicy {
            max_records: 10_000,
            linger: Duration::from_millis(50),
            max_open_visits: 2_000_000,
            give_up_after: Duration::from_secs(10),
        },
        http_config: HttpConfig {
            trusted_proxies: TrustedProxies::default(),
            max_body_bytes: 1024,
            max_api_body_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(30),
            api_token: None,
            public_url: None,
            site_creation: SiteCreation::Admins,
        },
        duck: DuckSettings::default(),
        city_db: None,
        shutdown_timeout: Duration::ZERO,
        conn_limits: ConnLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1,
        },
        writer_start_delay: Duration::ZERO,
        exact_visitors_limit: crate::adapters::duckdb::EXACT_VISITORS_LIMIT,
        query_timeout: None,
        realtime: StreamLimits::default(),
        cluster: None,
        lifecycle: LifecycleConfig {
            data_dir: PathBuf::from("."),
            archive_dir: None,
            max_import_bytes: 0,
            max_import_unpacked_bytes: 0,
            backup_root: PathBuf::from("/nonexistent"),
            audit_retention_days: 0,
        },
        backups: None,
        smtp: None,
    }
}

/// The `/api` OpenAPI document as JSON (what `openapi/openapi.json` holds).
pub fn openapi_spec() -> anyhow::Result<String> {
    let db = Database::open_in_memory()?;
    let config = offline_config(1);
    let node = build(db, &config, NodeRole::single(), &Enrichment::new(&config)?)?;
    let spec = http::api::service(node.state.clone()).spec();
    node.publisher.close();
    let _ = node.writer.join();
    Ok(spec)
}

//! Wiring one node on an open database: the enrichment adapters, the services, the writer
//! thread and the jobs only the node holding the database runs.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::ServeConfig;
use crate::adapters::crypto::{Argon2Hasher, OsSecrets};
use crate::adapters::duckdb::{
    Database, DuckAccounts, DuckAlerts, DuckAnnotations, DuckCrawlers, DuckEventStore, DuckGoals, DuckImports,
    DuckLifecycle, DuckReports, DuckSegments, DuckSites, DuckSubscriptions, DuckWebhooks,
};
use crate::adapters::geo::MaxMindGeo;
use crate::adapters::http::AppState;
use crate::adapters::http::realtime::Broadcaster;
use crate::adapters::leadership::{SingleNode, SingleNodeStatus};
use crate::adapters::memory::report_cache::{CachedReports, DataVersions};
use crate::adapters::otp::TotpCodes;
use crate::adapters::sealing::{Sealer, SealingKey};
use crate::adapters::smtp::{NoMailer, SmtpMailer};
use crate::adapters::system::{SystemClock, random_salt};
use crate::adapters::uap::UapClassifier;
use crate::adapters::webauthn::WebauthnCeremonies;
use crate::adapters::webhook::HttpTransport;
use crate::adapters::zipfile::ZipUnpacker;
use crate::domain::email_report::EmailReports;
use crate::domain::ingest::IngestService;
use crate::domain::recorder::{WriterCounters, run_writer};
use crate::domain::site::SiteDirectory;
use crate::domain::visitor::SaltRing;
use crate::ports::clock::Clock;
use crate::ports::cluster::ClusterStatusSource;
use crate::ports::geo::GeoLookup;
use crate::ports::leadership::{Leadership, NoFence, WriteFence};
use crate::ports::lifecycle::Mailer;
use crate::ports::notify::{BatchObserver, BothObservers};
use crate::ports::queue::{NoHandover, RecordConsumer, RecordHandover, RecordPublisher};
use crate::ports::reports::{GoalRepository, ReportStore};
use crate::ports::retention::DataLifecycle;
use crate::ports::sites::SiteRepository;
use crate::ports::store::{SaltStore, StoreResult};
use crate::ports::useragent::UserAgentClassifier;
use crate::services::accounts::{AccountService, LoginLimits, SecondFactorCrypto};
use crate::services::alerts::AlertService;
use crate::services::annotations::AnnotationService;
use crate::services::crawlers::CrawlerService;
use crate::services::lifecycle::backups::BackupService;
use crate::services::lifecycle::exports::ExportService;
use crate::services::lifecycle::imports::ImportService;
use crate::services::lifecycle::retention::RetentionService;
use crate::services::reports::ReportService;
use crate::services::segments::SegmentService;
use crate::services::sites::SiteService;
use crate::services::sso::SsoService;
use crate::services::webhooks::{WebhookPorts, WebhookService, WebhookTiming};

/// The account service on its own connection.
pub fn accounts_service(
    db: &Database,
    clock: Arc<dyn Clock>,
    key: &SealingKey,
    public_url: Option<&str>,
) -> anyhow::Result<Arc<AccountService>> {
    let passkeys = WebauthnCeremonies::new(public_url);
    let factors = SecondFactorCrypto {
        codes: Arc::new(TotpCodes),
        cipher: Arc::new(Sealer::new(key)),
        passkeys: Arc::new(passkeys),
    };
    Ok(Arc::new(AccountService::new(
        Arc::new(DuckAccounts::new(db.connect()?)),
        Arc::new(Argon2Hasher::default()),
        Arc::new(OsSecrets),
        clock,
        LoginLimits::default(),
        factors,
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
    pub writer: std::thread::JoinHandle<StoreResult<()>>,
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
    let versions = Arc::new(DataVersions::default());
    let mut engine: Arc<dyn ReportStore> =
        Arc::new(DuckReports::new(db.connect()?, config.exact_visitors_limit).with_timeout(config.query_timeout));
    if config.query_cache_entries > 0 {
        engine = Arc::new(CachedReports::new(engine, versions.clone(), config.query_cache_entries));
    }
    let reports = Arc::new(
        ReportService::new(engine, goals.clone(), imports.clone(), clock.clone())
            .with_revenue_rates(config.revenue_rates.clone()),
    );
    let accounts = accounts_service(&db, clock.clone(), &config.sealing_key, config.http_config.public_url.as_deref())?;
    let mailer: Arc<dyn Mailer> = match &config.smtp {
        Some((url, from)) => Arc::new(SmtpMailer::new(url, from).map_err(anyhow::Error::msg)?),
        None => Arc::new(NoMailer),
    };
    let email = Arc::new(EmailReports::new(
        reports.clone(),
        Arc::new(DuckSubscriptions::new(db.connect()?)),
        mailer.clone(),
        clock.clone(),
        Arc::new(DuckAccounts::new(db.connect()?)),
    ));
    let (webhooks, alerts) = signal_services(&db, config, &clock, &goals, &reports, mailer)?;
    let broadcaster = Arc::new(Broadcaster::new(config.realtime));
    let observer = Arc::new(BothObservers(broadcaster.clone(), versions));
    let writer = spawn_writer(&db, consumer, config, &role, counters.clone(), observer, clock)?;

    let lifecycle: Arc<dyn DataLifecycle> = Arc::new(DuckLifecycle::new(db.connect()?).with_day_gate(db.day_gate()));
    let sso = match &config.sso {
        Some(sso) => {
            let provider = crate::adapters::oidc::OidcProvider::new(sso.provider.clone())?;
            let (policy, label) = (sso.policy.clone(), sso.label.clone());
            let service =
                SsoService::new(Arc::new(provider), accounts.clone(), policy, label, enrichment.clock.clone());
            Some(Arc::new(service))
        }
        None => None,
    };
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
        crawlers: Arc::new(CrawlerService::new(Arc::new(DuckCrawlers::new(db.connect()?)), reports.clone())),
        annotations: Arc::new(AnnotationService::new(
            Arc::new(DuckAnnotations::new(db.connect()?)),
            reports.clone(),
            enrichment.clock.clone(),
        )),
        reports,
        goals,
        segments: Arc::new(SegmentService::new(Arc::new(DuckSegments::new(db.connect()?)), enrichment.clock.clone())),
        accounts,
        sso,
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
        webhooks,
        alerts,
        signals_every: config.signals.every,
        visit_folding: Arc::new(
            crate::adapters::duckdb::DuckVisitFolder::new(db.connect()?).with_day_gate(db.day_gate()),
        ),
    });
    Ok(Node { state, publisher, writer, sites, db })
}

/// The webhook and alert services on their own connections.
fn signal_services(
    db: &Database,
    config: &ServeConfig,
    clock: &Arc<dyn Clock>,
    goals: &Arc<dyn GoalRepository>,
    reports: &Arc<ReportService>,
    mailer: Arc<dyn Mailer>,
) -> anyhow::Result<(Arc<WebhookService>, Arc<AlertService>)> {
    let ports = WebhookPorts {
        store: Arc::new(DuckWebhooks::new(db.connect()?)),
        transport: Arc::new(HttpTransport { allow_private: config.signals.allow_private }),
        secrets: Arc::new(OsSecrets),
        clock: clock.clone(),
        goals: goals.clone(),
        signals: Arc::new(DuckAlerts::new(db.connect()?)),
        reports: reports.clone(),
    };
    let timing = WebhookTiming { retry_base: config.signals.retry_base, goal_lag: config.signals.goal_lag };
    let webhooks = Arc::new(WebhookService::new(ports, timing));
    let alert_store = Arc::new(DuckAlerts::new(db.connect()?));
    let alerts = Arc::new(AlertService::new(alert_store.clone(), alert_store, mailer, webhooks.clone(), clock.clone()));
    Ok((webhooks, alerts))
}

/// The writer thread: drains the queue into the event store in micro-batches until the queue
/// closes (or the node is fenced).
fn spawn_writer(
    db: &Database,
    consumer: Box<dyn RecordConsumer>,
    config: &ServeConfig,
    role: &NodeRole,
    writer_counters: Arc<WriterCounters>,
    observer: Arc<dyn BatchObserver>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<std::thread::JoinHandle<StoreResult<()>>> {
    let (writer_conn, day_gate) = (db.connect()?, db.day_gate());
    let (policy, delay, fence, handover) =
        (config.batch, config.writer_start_delay, role.fence.clone(), role.handover.clone());
    std::thread::Builder::new()
        .name("hitkeep-writer".into())
        .spawn(move || {
            std::thread::sleep(delay);
            let mut store = DuckEventStore::new(writer_conn).with_day_gate(day_gate);
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
        })
        .map_err(Into::into)
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

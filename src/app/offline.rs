//! Composition for the command line: the services of a stopped data directory. The CLI asks
//! here for what it needs and never names a storage adapter itself.

use std::io::Write;

use anyhow::Context as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{Enrichment, NodeRole, ServeConfig, build, queue};
use crate::adapters::duckdb::{
    Database, DuckAccounts, DuckGoals, DuckImports, DuckLifecycle, DuckReports, DuckSettings, DuckSites,
    DuckSubscriptions, EXACT_VISITORS_LIMIT, ExportTable,
};
use crate::adapters::http::conn_limits::ConnLimits;
use crate::adapters::http::realtime::StreamLimits;
use crate::adapters::http::{self, HttpConfig, LifecycleConfig, TrustedProxies};
use crate::adapters::system::SystemClock;
use crate::adapters::zipfile::ZipUnpacker;
use crate::domain::accounts::SiteCreation;
use crate::domain::email_report::EmailReports;
use crate::domain::lifecycle::DateSpan;
use crate::domain::recorder::BatchPolicy;
use crate::domain::site::Site;
use crate::domain::visitor::Day;
use crate::ports::clock::Clock;
use crate::ports::mail::Mailer;
use crate::ports::sites::SiteRepository;
use crate::ports::store::{SaltStore, StoreError, StoreResult};
use crate::services::accounts::AccountService;
use crate::services::lifecycle::backups::BackupService;
use crate::services::lifecycle::exports::ExportService;
use crate::services::lifecycle::imports::ImportService;
use crate::services::lifecycle::retention::RetentionService;
use crate::services::reports::ReportService;
use crate::services::sites::{DetachedSites, SiteService};

/// Which recorded table an NDJSON export streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordTable {
    Events,
    WebVitals,
    Engagements,
    CrawlerFetches,
}

/// A stopped data directory, opened by one command.
pub struct Offline {
    db: Database,
    data_dir: PathBuf,
}

impl Offline {
    /// Opens `<data_dir>/hitkeep.db`; refused while a server holds it.
    pub fn open(data_dir: &Path, database: &Path) -> anyhow::Result<Self> {
        let db = Database::open(database, &DuckSettings::default()).map_err(|e| match e {
            StoreError::Locked { path } => anyhow::anyhow!(
                "{path} is in use by a running hitkeep server; stop it first, or use its API (POST /api/sites)"
            ),
            other => anyhow::anyhow!(other),
        })?;
        Ok(Self { db, data_dir: data_dir.to_path_buf() })
    }

    /// The AI crawler tallies.
    pub fn crawler_store(&self) -> StoreResult<Arc<dyn crate::ports::crawlers::CrawlerStore>> {
        Ok(Arc::new(crate::adapters::duckdb::DuckCrawlers::new(self.db.connect()?)))
    }

    /// The user agent classifier ingest uses (compiling it takes a moment).
    pub fn user_agents(&self) -> anyhow::Result<Arc<dyn crate::ports::useragent::UserAgentClassifier>> {
        Ok(Arc::new(crate::adapters::uap::UapClassifier::new(10_000)?))
    }

    /// Writes everything to the database file.
    pub fn checkpoint(&self) -> StoreResult<()> {
        self.db.checkpoint()
    }

    fn site_repo(&self) -> StoreResult<Arc<DuckSites>> {
        Ok(Arc::new(DuckSites::new(self.db.connect()?)))
    }

    /// The account service (the command line speaks for the operator).
    pub fn accounts(&self) -> anyhow::Result<Arc<AccountService>> {
        let given = std::env::var("HITKEEP_SECRET_KEY").ok();
        let key = crate::adapters::sealing::SealingKey::resolve(given.as_deref(), &self.data_dir)
            .context("cannot read or create the server secret in the data directory")?;
        super::accounts_service(&self.db, Arc::new(SystemClock), &key, None)
    }

    /// The site service on a directory nobody else reads.
    pub fn sites(&self) -> anyhow::Result<SiteService> {
        let creation = crate::domain::accounts::SiteCreation::Admins;
        Ok(SiteService::new(self.site_repo()?, self.accounts()?, Arc::new(DetachedSites::default()), creation))
    }

    /// All stored sites.
    pub fn site_list(&self) -> StoreResult<Vec<Site>> {
        self.site_repo()?.list().map_err(|e| StoreError::Internal(e.to_string()))
    }

    fn lifecycle(&self) -> StoreResult<Arc<DuckLifecycle>> {
        Ok(Arc::new(DuckLifecycle::new(self.db.connect()?)))
    }

    /// Retention, archiving to `archive_dir` when given.
    pub fn retention(&self, archive_dir: Option<PathBuf>) -> anyhow::Result<RetentionService> {
        Ok(RetentionService::new(self.site_repo()?, self.lifecycle()?, archive_dir, Arc::new(SystemClock)))
    }

    /// Backups (the command line may write anywhere; the root only bounds the API).
    pub fn backups(&self) -> StoreResult<BackupService> {
        Ok(BackupService::new(self.lifecycle()?, self.data_dir.join("backups")))
    }

    /// Exports staged under `<data-dir>/tmp`.
    pub fn exports(&self) -> StoreResult<ExportService> {
        Ok(ExportService::new(self.lifecycle()?, self.data_dir.join("tmp")))
    }

    /// Imports of other tools' exports.
    pub fn imports(&self) -> StoreResult<ImportService> {
        Ok(ImportService::new(Arc::new(DuckImports::new(self.db.connect()?)), Arc::new(ZipUnpacker)))
    }

    /// E-mail reports sent with `mailer` at the time `clock` tells.
    pub fn email_reports(&self, mailer: Arc<dyn Mailer>, clock: Arc<dyn Clock>) -> StoreResult<EmailReports> {
        let reports = Arc::new(ReportService::new(
            Arc::new(DuckReports::new(self.db.connect()?, EXACT_VISITORS_LIMIT)),
            Arc::new(DuckGoals::new(self.db.connect()?)),
            Arc::new(DuckImports::new(self.db.connect()?)),
            clock.clone(),
        ));
        let subscriptions = Arc::new(DuckSubscriptions::new(self.db.connect()?));
        Ok(EmailReports::new(reports, subscriptions, mailer, clock, Arc::new(DuckAccounts::new(self.db.connect()?))))
    }

    /// Streams a site's events, web vitals or engagement reports in `span` as NDJSON to `out`.
    pub fn export_ndjson(
        &self,
        table: RecordTable,
        site: &Site,
        span: Option<&DateSpan>,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> StoreResult<u64> {
        let table = match table {
            RecordTable::Events => ExportTable::Events,
            RecordTable::WebVitals => ExportTable::WebVitals,
            RecordTable::Engagements => ExportTable::Engagements,
            RecordTable::CrawlerFetches => ExportTable::CrawlerFetches,
        };
        let span = span.map(|s| (s.start_micros, s.end_micros));
        crate::adapters::duckdb::export_ndjson(&self.db.connect()?, table, site.id.0, span, out, progress)
    }

    /// The share of free blocks in the file, and the block count.
    pub fn free_ratio(&self) -> StoreResult<(f64, u64)> {
        crate::adapters::duckdb::free_ratio(&self.db.connect()?)
    }

    /// Prints the dashboard queries' timings.
    pub fn bench(&self, site: &Site, runs: usize, all: bool) -> StoreResult<()> {
        crate::adapters::duckdb::bench_dashboard_sql(&self.db, site, runs, all)
    }

    /// Seeds `events` hits over `days` days for the named sites through the ingest pipeline.
    pub fn seed(self, sites: &[String], events: u64, days: u32) -> anyhow::Result<u64> {
        seed(self.db, sites, events, days)
    }
}

/// Rewrites a database file without its free blocks; returns the sizes before and after.
pub fn compact(database: &Path) -> StoreResult<(u64, u64)> {
    crate::adapters::duckdb::compact_file(database)
}

/// Prepares a restored database copy at `staging`: drops visitor salts (backups hold none;
/// older ones or a copied file may, and restored visitor ids must not be recomputable from
/// addresses) and counts its sites and events.
pub fn prepare_restore(staging: &Path) -> anyhow::Result<(usize, u64)> {
    let db = Database::open(staging, &Default::default())?;
    let site_repo = DuckSites::new(db.connect()?);
    site_repo.delete_salts_through(Day::MAX)?;
    let sites = site_repo.list()?.len();
    let events: i64 = db.connect()?.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
    db.checkpoint()?;
    Ok((sites, events as u64))
}

/// An SMTP mailer for `url`, sending as `from`.
pub fn smtp_mailer(url: &str, from: &str) -> Result<Arc<dyn Mailer>, crate::ports::mail::MailError> {
    Ok(Arc::new(crate::adapters::smtp::SmtpMailer::new(url, from)?))
}

/// Seeds an open (stopped) database through the ingest pipeline, then flushes and checkpoints.
pub fn seed(db: Database, sites: &[String], events: u64, days: u32) -> anyhow::Result<u64> {
    // Batches of one DuckDB row group: few, large transactions (the writer's cost per hit falls
    // with the batch size). They go through the WAL like the server's (see `Database::open` on
    // optimistic writes), so a seeded file is laid out as a served one. The queue holds two
    // batches so generation goes on while one is written.
    let rows = crate::adapters::duckdb::ROW_GROUP_ROWS;
    let mut config = offline_config(2 * rows);
    config.batch.max_records = rows;
    config.batch.linger = Duration::from_secs(5);
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
        query_cache_entries: 0,
        query_timeout: None,
        revenue_rates: Default::default(),
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
        signals: Default::default(),
        sso: None,
        // In-memory uses only (the spec, the seed): nothing sealed outlives the process.
        sealing_key: crate::adapters::sealing::SealingKey::from_secret("offline, in memory"),
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

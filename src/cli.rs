//! The command line: `serve`, `site add|list`, `export`, `openapi`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::adapters::duckdb::{Database, DuckSettings, DuckSites, ExportTable, export_ndjson};
use crate::app::{self, ServeConfig};
use crate::domain::site::{NewSite, SiteDomain, TimeZoneName};
use crate::ports::sites::SiteRepository;
use crate::ports::store::StoreError;

/// Privacy-first web analytics in one binary.
#[derive(Parser, Debug)]
#[command(name = "hitkeep", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server: ingest, API, tracker scripts.
    Serve(Box<ServeArgs>),
    /// Manage sites on a stopped data directory.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Export a site's raw events as NDJSON, CSV or Parquet (stopped data directory).
    Export(ExportArgs),
    /// Manage users on a stopped data directory.
    #[command(subcommand)]
    User(crate::accounts_cli::UserCommand),
    /// Create API tokens on a stopped data directory.
    #[command(subcommand)]
    Token(crate::accounts_cli::TokenCommand),
    /// Delete events older than each site's retention period, archiving them first with --archive (stopped data directory).
    Retention(crate::lifecycle_cli::RetentionArgs),
    /// Snapshot the database: through a running server (--server, --token) or from a stopped data directory.
    Backup(crate::lifecycle_cli::BackupArgs),
    /// Restore a backup into a data directory (refuses a non-empty one without --force).
    Restore(crate::lifecycle_cli::RestoreArgs),
    /// Import history from Plausible, Umami or GoatCounter exports (stopped data directory).
    Import(crate::lifecycle_cli::ImportArgs),
    /// E-mail reports.
    #[command(subcommand)]
    Report(crate::lifecycle_cli::ReportCommand),
    /// Print the OpenAPI spec of the `/api` routes.
    Openapi,
    /// Fill a stopped data directory with realistic synthetic traffic (benchmarks, demos).
    Seed(SeedArgs),
    /// Time the dashboard's query SQL directly on a stopped data directory (the benchmark floor).
    #[command(hide = true)]
    BenchQueries {
        #[arg(long)]
        site: String,
        #[arg(long, default_value_t = 15)]
        runs: usize,
        #[command(flatten)]
        data: DataDirArg,
    },
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// The site's domain (created if missing).
    #[arg(long)]
    pub site: String,
    /// Number of hits (pageviews and custom events).
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Days of history, ending yesterday.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Number of sites: the first is `--site`, the others number its first label (bench2.test, ...).
    #[arg(long, default_value_t = 1)]
    pub sites: usize,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// Where the data lives.
#[derive(Args, Debug, Clone)]
pub struct DataDirArg {
    /// Data directory; the database is `<data-dir>/hitkeep.db`.
    #[arg(long, env = "HITKEEP_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

impl DataDirArg {
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("hitkeep.db")
    }
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "HITKEEP_HTTP", default_value = "0.0.0.0:8080")]
    pub http: String,
    #[command(flatten)]
    pub data: DataDirArg,
    /// Hits held in memory between the HTTP handlers and the writer; when full, ingest answers 503.
    #[arg(long, env = "HITKEEP_QUEUE_CAPACITY", default_value_t = 100_000)]
    pub queue_capacity: usize,
    /// The ingest queue (`--queue memory|nats://...`) and its NATS JetStream settings.
    #[command(flatten)]
    pub queue: crate::app::queue::QueueArgs,
    /// Most hits written in one batch.
    #[arg(long, env = "HITKEEP_BATCH_SIZE", default_value_t = 5_000)]
    pub batch_size: usize,
    /// Longest a hit waits for its batch to fill, in milliseconds (the crash-loss window).
    #[arg(long, env = "HITKEEP_BATCH_INTERVAL_MS", default_value_t = 100)]
    pub batch_interval_ms: u64,
    /// Reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For / Forwarded /
    /// X-Real-IP headers are believed. Default: none, the socket address is the client.
    #[arg(long, env = "HITKEEP_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
    /// Largest ingest request body in bytes; larger ones get 413.
    #[arg(long, env = "HITKEEP_MAX_BODY_BYTES", default_value_t = 16 * 1024)]
    pub max_body_bytes: usize,
    /// Largest `/api` request body in bytes (imports have their own limit); larger ones get 413.
    #[arg(long, env = "HITKEEP_MAX_API_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_api_body_bytes: usize,
    /// Seconds a client may take to send a request's head (its line and headers).
    #[arg(long, env = "HITKEEP_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a client may take to send a request body.
    #[arg(long, env = "HITKEEP_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,
    /// Seconds a connection may stay open with nothing sent either way (keep-alive idle).
    #[arg(long, env = "HITKEEP_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,
    /// Most client connections open at once; beyond it new connections get 503 and are closed.
    #[arg(long, env = "HITKEEP_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// DuckDB memory limit (e.g. 512MB, 2GB).
    #[arg(long, env = "HITKEEP_DUCKDB_MEMORY_LIMIT", default_value = "1GB")]
    pub duckdb_memory_limit: String,
    /// DuckDB worker threads.
    #[arg(long, env = "HITKEEP_DUCKDB_THREADS", default_value_t = 2)]
    pub duckdb_threads: u16,
    /// WAL size that triggers a checkpoint (larger: more compact file, longer replay after a crash).
    #[arg(long, env = "HITKEEP_DUCKDB_CHECKPOINT_THRESHOLD", default_value = "64MB")]
    pub duckdb_checkpoint_threshold: String,
    /// A city-level MMDB (DB-IP City Lite or GeoLite2-City) for regions and cities; countries
    /// come from the embedded database either way.
    #[arg(long, env = "HITKEEP_CITY_DB")]
    pub city_db: Option<PathBuf>,
    /// Operator token: full `/api` access as `Authorization: Bearer <token>` without an account
    /// (for automation; people sign in, programs use API tokens made with `hitkeep token create`).
    #[arg(long, env = "HITKEEP_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    /// Who may create sites: `admins` (instance administrators and the operator token) or
    /// `users` (also every signed-in user, who becomes the new site's owner). Either way a new
    /// site or hostname never takes a host another site counts, unless the caller manages it.
    #[arg(long, env = "HITKEEP_SITE_CREATION", default_value = "admins", value_parser = ["admins", "users"])]
    pub site_creation: String,
    /// The URL people reach this server at, e.g. `https://stats.example.com`: used in invitation
    /// and share links, and session cookies are `Secure` when it is https.
    #[arg(long, env = "HITKEEP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Most visits held open in memory (about 300 bytes each). Beyond it the least recently
    /// seen visits close early (counted in `hitkeep_visits_evicted_total`): memory stays bounded
    /// however many new visitors arrive within the 30-minute visit window.
    #[arg(long, env = "HITKEEP_MAX_OPEN_VISITS", default_value_t = 500_000)]
    pub max_open_visits: usize,
    /// Report periods with more events than this count unique visitors with HyperLogLog
    /// (about 1-2 % error, flagged in `meta.metric_warnings`); smaller ones count exactly.
    #[arg(long, env = "HITKEEP_EXACT_VISITORS_LIMIT", default_value_t = 1_000_000)]
    pub exact_visitors_limit: u64,
    /// Longest a report query (stats, funnel, Web Vitals, realtime count) may run, in
    /// milliseconds; then it is cancelled and answers 503 with Retry-After. 0: no limit.
    #[arg(long, env = "HITKEEP_QUERY_TIMEOUT_MS", default_value_t = 10_000)]
    pub query_timeout_ms: u64,
    /// Most realtime streams (server-sent events) open on this server; beyond it, 503.
    #[arg(long, env = "HITKEEP_MAX_REALTIME_STREAMS", default_value_t = 1000)]
    pub max_realtime_streams: usize,
    /// Most realtime streams one caller (a user, an API token, a share link from one address)
    /// may hold open; beyond it, 429.
    #[arg(long, env = "HITKEEP_MAX_REALTIME_STREAMS_PER_CALLER", default_value_t = 4)]
    pub max_realtime_streams_per_caller: usize,
    /// How often an open realtime stream re-checks its credentials, in milliseconds (it also
    /// does on every update); a revoked share link or token ends its streams within this time.
    #[arg(long, env = "HITKEEP_REALTIME_RECHECK_MS", default_value_t = 30_000, hide = true)]
    pub realtime_recheck_ms: u64,
    /// Log level: error, warn, info, debug, trace (or a tracing filter).
    #[arg(long, env = "HITKEEP_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Log format.
    #[arg(long, env = "HITKEEP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Seconds to wait for open requests on shutdown before closing them.
    #[arg(long, env = "HITKEEP_SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,
    /// This node's id in a cluster (a positive integer, unique per node). With `--peers` it turns
    /// cluster mode on: Raft elects the node that opens the database; the others forward to it.
    #[arg(long, env = "HITKEEP_NODE_ID")]
    pub node_id: Option<u64>,
    /// The base URL other nodes reach this node at, e.g. `http://10.0.0.5:8080`
    /// (default: this node's entry in `--peers`).
    #[arg(long, env = "HITKEEP_ADVERTISE")]
    pub advertise: Option<String>,
    /// Every cluster member as `id=URL`, comma-separated, e.g. `1=http://a:8080,2=http://b:8080,3=http://c:8080`.
    #[arg(long, env = "HITKEEP_PEERS", value_delimiter = ',')]
    pub peers: Vec<String>,
    /// Shared secret for the internal routes between nodes (`/_cluster/*`); at least 16 characters.
    #[arg(long, env = "HITKEEP_CLUSTER_SECRET", hide_env_values = true)]
    pub cluster_secret: Option<String>,
    /// Hits a node keeps for the leader while it cannot hand them over (no leader during a
    /// failover); when full, ingest on that node answers 503.
    #[arg(long, env = "HITKEEP_FORWARD_QUEUE_CAPACITY", default_value_t = 100_000)]
    pub forward_queue_capacity: usize,
    /// Raft heartbeat interval in milliseconds.
    #[arg(long, env = "HITKEEP_RAFT_HEARTBEAT_MS", default_value_t = 150, hide = true)]
    pub raft_heartbeat_ms: u64,
    /// Raft election timeout range in milliseconds: a follower that hears no heartbeat for a
    /// random time in this range starts an election.
    #[arg(long, env = "HITKEEP_RAFT_ELECTION_MS", default_value = "600-1200", hide = true)]
    pub raft_election_ms: String,
    /// Archive events to Parquet before retention deletes them.
    #[arg(long, env = "HITKEEP_ARCHIVE")]
    pub archive: bool,
    /// Where archives go (default: <data-dir>/archive).
    #[arg(long, env = "HITKEEP_ARCHIVE_DIR")]
    pub archive_dir: Option<PathBuf>,
    /// Largest import upload in bytes; larger ones get 413.
    #[arg(long, env = "HITKEEP_MAX_IMPORT_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_import_bytes: usize,
    /// Most bytes a zip or gzip import may unpack to (all files together); more gets 413. One
    /// import runs at a time; a second one meanwhile gets 503 with Retry-After.
    #[arg(long, env = "HITKEEP_MAX_IMPORT_UNPACKED_BYTES", default_value_t = 128 * 1024 * 1024)]
    pub max_import_unpacked_bytes: u64,
    /// Take a backup every this many hours (needs --backup-dir).
    #[arg(long = "backup-every", env = "HITKEEP_BACKUP_EVERY")]
    pub backup_every_hours: Option<f64>,
    /// Where scheduled backups go, one `hitkeep-<time>` folder each.
    #[arg(long, env = "HITKEEP_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    /// How many scheduled backups to keep.
    #[arg(long, env = "HITKEEP_BACKUP_KEEP", default_value_t = 7)]
    pub backup_keep: usize,
    /// Days the audit log keeps sign-ins, failures and changes; older entries are deleted by the
    /// daily retention job (0: keep forever).
    #[arg(long, env = "HITKEEP_AUDIT_RETENTION_DAYS", default_value_t = 90)]
    pub audit_retention_days: u32,
    /// SMTP server for e-mail reports, `smtp://host:port`.
    #[arg(long, env = "HITKEEP_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// From address of e-mail reports.
    #[arg(long, env = "HITKEEP_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Testing aid: start the writer this many milliseconds late (the queue fills meanwhile).
    #[arg(long, env = "HITKEEP_WRITER_START_DELAY_MS", default_value_t = 0, hide = true)]
    pub writer_start_delay_ms: u64,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum SiteCommand {
    /// Add a site.
    Add {
        /// The site's domain, e.g. example.com (subdomains are included).
        domain: String,
        /// IANA time zone for its reports.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// Another hostname whose traffic belongs to the site (repeatable).
        #[arg(long = "hostname")]
        hostnames: Vec<String>,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// List sites.
    List {
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Set how many days of events a site keeps (0 = forever).
    Retention {
        domain: String,
        days: u32,
        #[command(flatten)]
        data: DataDirArg,
    },
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The site's domain.
    #[arg(long)]
    pub site: String,
    #[command(flatten)]
    pub data: DataDirArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Ndjson)]
    pub format: ExportFormat,
    /// Which records.
    #[arg(long, value_enum, default_value_t = ExportKind::Events)]
    pub table: ExportKind,
    /// First day (YYYY-MM-DD, site time zone); needs --to.
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last day, inclusive; needs --from.
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Ndjson,
    Csv,
    Parquet,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Events,
    #[value(name = "web-vitals", alias = "web_vitals")]
    WebVitals,
}

/// Opens a stopped data directory, explaining a lock held by a running server.
pub(crate) fn open_offline(data: &DataDirArg) -> anyhow::Result<Database> {
    Database::open(&data.database(), &DuckSettings::default()).map_err(|e| match e {
        StoreError::Locked { path } => anyhow::anyhow!(
            "{path} is in use by a running hitkeep server; stop it first, or use its API (POST /api/sites)"
        ),
        other => anyhow::anyhow!(other),
    })
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            app::init_logging(&args.log_level, args.log_format == LogFormat::Json);
            let config = ServeConfig::from_args(&args)?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(app::serve(config, app::shutdown_signal()))
        }
        Command::Site(SiteCommand::Add { domain, timezone, hostnames, data }) => {
            let new_site = NewSite {
                domain: SiteDomain::parse(&domain)?,
                hostnames: hostnames.iter().map(|h| SiteDomain::parse(h)).collect::<Result<_, _>>()?,
                timezone: TimeZoneName::parse(&timezone)?,
            };
            let db = open_offline(&data)?;
            let site = DuckSites::new(db.connect()?).add(new_site)?;
            db.checkpoint()?;
            println!("added site {} (id {}, time zone {})", site.domain, site.id.0, site.timezone.as_str());
            Ok(())
        }
        Command::Site(SiteCommand::List { data }) => {
            let db = open_offline(&data)?;
            let sites = DuckSites::new(db.connect()?).list()?;
            if sites.is_empty() {
                println!("no sites yet: add one with `hitkeep site add example.com`");
            }
            for s in sites {
                let extra = s.hostnames.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
                println!("{}\t{}\t{}\t{}", s.id.0, s.domain, s.timezone.as_str(), extra);
            }
            Ok(())
        }
        Command::Export(args) if args.format != ExportFormat::Ndjson || args.from.is_some() || args.out.is_some() => {
            crate::lifecycle_cli::export(args)
        }
        Command::Retention(args) => crate::lifecycle_cli::retention(args),
        Command::Backup(args) => crate::lifecycle_cli::backup(args),
        Command::Restore(args) => crate::lifecycle_cli::restore(args),
        Command::Import(args) => crate::lifecycle_cli::import(args),
        Command::Report(cmd) => crate::lifecycle_cli::report(cmd),
        Command::Site(SiteCommand::Retention { domain, days, data }) => {
            anyhow::ensure!(days <= 36_500, "days must be 0-36500");
            let domain = SiteDomain::parse(&domain)?;
            let db = open_offline(&data)?;
            let sites = DuckSites::new(db.connect()?);
            let mut site =
                sites.list()?.into_iter().find(|s| s.domain == domain).with_context(|| format!("no site {domain}"))?;
            site.retention_days = days;
            sites.update(&site)?;
            drop(sites);
            db.checkpoint()?;
            println!(
                "{domain} keeps {}",
                if days == 0 { "events forever".to_string() } else { format!("{days} days of events") }
            );
            Ok(())
        }
        Command::Export(args) => {
            let db = open_offline(&args.data)?;
            let domain = SiteDomain::parse(&args.site)?;
            let site = DuckSites::new(db.connect()?)
                .list()?
                .into_iter()
                .find(|s| s.domain == domain)
                .with_context(|| format!("no site {domain}"))?;
            let table = match args.table {
                ExportKind::Events => ExportTable::Events,
                ExportKind::WebVitals => ExportTable::WebVitals,
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let n = export_ndjson(&db.connect()?, table, site.id.0, None, &mut out, &mut |n| {
                eprint!("\rexported {n} rows")
            })?;
            out.flush()?;
            eprintln!("exported {n} rows");
            Ok(())
        }
        Command::Seed(args) => {
            let db = open_offline(&args.data)?;
            let names = crate::seed::site_names(SiteDomain::parse(&args.site)?.as_str(), args.sites);
            let sites = DuckSites::new(db.connect()?);
            let existing = sites.list()?;
            for name in &names {
                let domain = SiteDomain::parse(name)?;
                if !existing.iter().any(|s| s.domain == domain) {
                    sites.add(NewSite { domain, hostnames: vec![], timezone: TimeZoneName::utc() })?;
                }
            }
            drop(sites);
            let started = std::time::Instant::now();
            let sent = app::seed(db, &names, args.events, args.days)?;
            eprintln!("stored {sent} hits in {:.1} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::BenchQueries { site, runs, data } => {
            let db = open_offline(&data)?;
            let domain = SiteDomain::parse(&site)?;
            let site = DuckSites::new(db.connect()?)
                .list()?
                .into_iter()
                .find(|s| s.domain == domain)
                .context("no such site")?;
            crate::adapters::duckdb::bench_dashboard_sql(&db, &site, runs)?;
            Ok(())
        }
        Command::User(command) => {
            let data = match &command {
                crate::accounts_cli::UserCommand::Add(a) => a.data.clone(),
                crate::accounts_cli::UserCommand::List { data } => data.clone(),
            };
            crate::accounts_cli::user(open_offline(&data)?, command)
        }
        Command::Token(command) => {
            let crate::accounts_cli::TokenCommand::Create(args) = &command;
            let db = open_offline(&args.data)?;
            crate::accounts_cli::token(db, command)
        }
        Command::Openapi => {
            println!("{}", app::openapi_spec()?);
            Ok(())
        }
    }
}

//! The command line: `serve`, `site add|list`, `export`, `openapi`.

mod accounts;
mod annotate;
mod crawlers;
mod lifecycle;
mod serve;
mod sites;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

pub use serve::{LogFormat, ServeArgs, cluster_config, serve_config};

use crate::app::{self, offline::Offline};

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
    User(accounts::UserCommand),
    /// Create API tokens on a stopped data directory.
    #[command(subcommand)]
    Token(accounts::TokenCommand),
    /// Delete events older than each site's retention period, archiving them first with --archive (stopped data directory).
    Retention(lifecycle::RetentionArgs),
    /// Snapshot the database: through a running server (--server, --token) or from a stopped data directory.
    Backup(lifecycle::BackupArgs),
    /// Restore a backup into a data directory (refuses a non-empty one without --force).
    Restore(lifecycle::RestoreArgs),
    /// Import history from Plausible, Umami or GoatCounter exports (stopped data directory).
    Import(lifecycle::ImportArgs),
    /// Add a dated note to a site's charts through a running server (deploy scripts).
    Annotate(annotate::AnnotateArgs),
    /// Import AI crawler fetches from a web server access log (stopped data directory).
    ImportLogs(crawlers::ImportLogsArgs),
    /// E-mail reports.
    #[command(subcommand)]
    Report(lifecycle::ReportCommand),
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
        /// Also the queries off the dashboard's fast path and a funnel.
        #[arg(long)]
        all: bool,
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
    /// Scroll depth and engaged time reports (Plausible's engagement events).
    Engagements,
    /// AI crawler tallies: fetches per day, crawler and page.
    #[value(name = "crawler-fetches", alias = "crawler_fetches")]
    CrawlerFetches,
}

/// Opens a stopped data directory, explaining a lock held by a running server.
pub(crate) fn open_offline(data: &DataDirArg) -> anyhow::Result<Offline> {
    Offline::open(&data.data_dir, &data.database())
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            app::init_logging(&args.log_level, args.log_format == LogFormat::Json);
            let config = serve_config(&args)?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            // Signal handlers are installed inside the runtime before anything is served.
            let shutdown = {
                let _inside = runtime.enter();
                app::shutdown_signal()
            };
            runtime.block_on(app::serve(config, shutdown))
        }
        Command::Site(command) => sites::run(command),
        Command::Export(args) if args.format != ExportFormat::Ndjson || args.from.is_some() || args.out.is_some() => {
            lifecycle::export(args)
        }
        Command::Export(args) => lifecycle::export_all_ndjson(args),
        Command::Retention(args) => lifecycle::retention(args),
        Command::Backup(args) => lifecycle::backup(args),
        Command::Restore(args) => lifecycle::restore(args),
        Command::Import(args) => lifecycle::import(args),
        Command::ImportLogs(args) => crawlers::import_logs(args),
        Command::Annotate(args) => annotate::annotate(args),
        Command::Report(cmd) => lifecycle::report(cmd),
        Command::Seed(args) => sites::seed(args),
        Command::BenchQueries { site, runs, all, data } => {
            let db = open_offline(&data)?;
            let site = sites::lookup(&db, &site)?.context("no such site")?;
            db.bench(&site, runs, all)?;
            Ok(())
        }
        Command::User(command) => {
            let data = match &command {
                accounts::UserCommand::Add(a) => a.data.clone(),
                accounts::UserCommand::List { data } | accounts::UserCommand::Reset2fa { data, .. } => data.clone(),
            };
            accounts::user(open_offline(&data)?, command)
        }
        Command::Token(command) => {
            let accounts::TokenCommand::Create(args) = &command;
            let db = open_offline(&args.data)?;
            accounts::token(db, command)
        }
        Command::Openapi => {
            println!("{}", app::openapi_spec()?);
            Ok(())
        }
    }
}

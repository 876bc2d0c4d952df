//! The data lifecycle commands: `export` to files, `retention`, `backup`, `restore`, `import`
//! and `report send`. Each opens a stopped data directory (or asks a running server) and
//! hands over to the same adapters the server uses.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{ArgGroup, Args, Subcommand};

use super::sites::lookup;
use super::{DataDirArg, ExportArgs, ExportFormat, ExportKind, open_offline};
use crate::app::offline::{self, Offline};
use crate::domain::imports::{ImportError, ImportSource};
use crate::domain::lifecycle::{Frequency, parse_email};
use crate::domain::site::Site;
use crate::ports::clock::Clock;
use crate::ports::retention::ExportFormat as Format;
use crate::services::lifecycle::exports::{ALL_TIME, ExportService};

/// `hitkeep retention`.
#[derive(Args, Debug)]
pub struct RetentionArgs {
    #[command(flatten)]
    pub data: DataDirArg,
    /// The current time (RFC 3339 or YYYY-MM-DD); default: now.
    #[arg(long)]
    pub now: Option<String>,
    /// Archive deleted events to Parquet first.
    #[arg(long, env = "HITKEEP_ARCHIVE")]
    pub archive: bool,
    /// Where archives go (default: <data-dir>/archive).
    #[arg(long, env = "HITKEEP_ARCHIVE_DIR")]
    pub archive_dir: Option<PathBuf>,
    /// Do not rewrite the file afterwards to give freed space back.
    #[arg(long)]
    pub no_compact: bool,
}

/// `hitkeep backup`.
#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Directory to write the snapshot to (created; must not hold one yet).
    #[arg(long)]
    pub to: PathBuf,
    /// A running server's base URL (e.g. http://127.0.0.1:8080): it takes the snapshot.
    #[arg(long, requires = "token")]
    pub server: Option<String>,
    /// The server's API token.
    #[arg(long, env = "HITKEEP_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// `hitkeep restore`.
#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// A backup directory (holding hitkeep.db) or a database file.
    #[arg(long)]
    pub from: PathBuf,
    #[command(flatten)]
    pub data: DataDirArg,
    /// Replace an existing database in the data directory.
    #[arg(long)]
    pub force: bool,
}

/// `hitkeep import`.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("source").required(true).args(["from_plausible", "from_umami", "from_goatcounter"])))]
pub struct ImportArgs {
    /// The site's domain.
    #[arg(long)]
    pub site: String,
    /// Plausible's CSV export zip.
    #[arg(long)]
    pub from_plausible: Option<PathBuf>,
    /// Umami's CSV data export (website_event rows; a zip holding it works too).
    #[arg(long)]
    pub from_umami: Option<PathBuf>,
    /// GoatCounter's CSV export (version 2; .csv or .csv.gz).
    #[arg(long)]
    pub from_goatcounter: Option<PathBuf>,
    /// Check the file and show what would be imported; store nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// `hitkeep report ...`.
#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Send a site's report for the last complete week or month now (stopped data directory).
    Send {
        #[arg(long)]
        site: String,
        #[arg(long)]
        email: String,
        /// `week` or `month`.
        #[arg(long, default_value = "week")]
        period: String,
        #[arg(long, env = "HITKEEP_SMTP_URL")]
        smtp_url: String,
        #[arg(long, env = "HITKEEP_SMTP_FROM")]
        smtp_from: String,
        /// The current time (RFC 3339 or YYYY-MM-DD); default: now.
        #[arg(long)]
        now: Option<String>,
        #[command(flatten)]
        data: DataDirArg,
    },
}

/// A clock stopped at one instant (`--now`).
struct FixedClock(i64);

impl Clock for FixedClock {
    fn now_micros(&self) -> i64 {
        self.0
    }
}

fn parse_now(now: Option<&str>) -> anyhow::Result<i64> {
    let Some(s) = now else { return Ok(chrono::Utc::now().timestamp_micros()) };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_micros());
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("--now must be RFC 3339 or YYYY-MM-DD, got {s:?}"))?;
    Ok(d.and_hms_opt(12, 0, 0).expect("noon").and_utc().timestamp_micros())
}

fn find_site(db: &Offline, domain: &str) -> anyhow::Result<Site> {
    let d = crate::domain::site::SiteDomain::parse(domain)?;
    lookup(db, domain)?.with_context(|| format!("no site {d} (add it with `hitkeep site add {d}`)"))
}

fn record_table(kind: ExportKind) -> offline::RecordTable {
    match kind {
        ExportKind::Events => offline::RecordTable::Events,
        ExportKind::WebVitals => offline::RecordTable::WebVitals,
        ExportKind::Engagements => offline::RecordTable::Engagements,
        ExportKind::CrawlerFetches => offline::RecordTable::CrawlerFetches,
    }
}

/// `hitkeep export` of all of a site's records as NDJSON to standard output.
pub fn export_all_ndjson(args: ExportArgs) -> anyhow::Result<()> {
    let db = open_offline(&args.data)?;
    let domain = crate::domain::site::SiteDomain::parse(&args.site)?;
    let site = lookup(&db, &args.site)?.with_context(|| format!("no site {domain}"))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let n =
        db.export_ndjson(record_table(args.table), &site, None, &mut out, &mut |n| eprint!("\rexported {n} rows"))?;
    out.flush()?;
    eprintln!("exported {n} rows");
    Ok(())
}

/// `hitkeep export` to a file or in CSV/Parquet.
pub fn export(args: ExportArgs) -> anyhow::Result<()> {
    // The ranged and file exports below write events only.
    anyhow::ensure!(
        args.table == ExportKind::Events,
        "only events export as CSV or Parquet, by date or to a file; other tables export all of time as NDJSON to stdout"
    );
    let db = open_offline(&args.data)?;
    let site = find_site(&db, &args.site)?;
    let span = match (&args.from, &args.to) {
        (Some(f), Some(t)) => ExportService::span(&site, f, t).map_err(|e| anyhow::anyhow!(e.to_string()))?,
        _ => ALL_TIME,
    };
    let format = match args.format {
        ExportFormat::Ndjson => Format::Ndjson,
        ExportFormat::Csv => Format::Csv,
        ExportFormat::Parquet => Format::Parquet,
    };
    let exports = db.exports()?;
    let total = exports.count(&site, &span)?;
    eprintln!("exporting {total} events of {} as {}", site.domain, format.extension());
    let n = match &args.out {
        Some(out) => {
            let partial = out.with_extension(format!("{}.partial", format.extension()));
            let n = exports.write(&site, &span, format, &partial)?;
            std::fs::rename(&partial, out).with_context(|| format!("cannot write {}", out.display()))?;
            n
        }
        None if format == Format::Ndjson && args.table == ExportKind::Events => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let n = db.export_ndjson(offline::RecordTable::Events, &site, Some(&span), &mut out, &mut |n| {
                eprint!("\r{n} / {total} rows")
            })?;
            out.flush()?;
            n
        }
        None => {
            let tmp = args.data.data_dir.join("tmp");
            std::fs::create_dir_all(&tmp)?;
            let file = tmp.join(format!("export-{}.{}", std::process::id(), format.extension()));
            let n = exports.write(&site, &span, format, &file)?;
            let copied =
                std::fs::File::open(&file).and_then(|mut f| std::io::copy(&mut f, &mut std::io::stdout().lock()));
            let _ = std::fs::remove_file(&file);
            copied?;
            n
        }
    };
    eprintln!("\rexported {n} rows{}", args.out.as_ref().map(|p| format!(" to {}", p.display())).unwrap_or_default());
    Ok(())
}

/// `hitkeep retention`.
pub fn retention(args: RetentionArgs) -> anyhow::Result<()> {
    let now = parse_now(args.now.as_deref())?;
    let archive = args.archive.then(|| args.archive_dir.clone().unwrap_or_else(|| args.data.data_dir.join("archive")));
    let db = open_offline(&args.data)?;
    let retention = db.retention(archive)?;
    let runs = retention.apply(now)?;
    if runs.is_empty() {
        println!("no site has a retention period (set one with `hitkeep site retention DOMAIN DAYS`)");
    }
    for r in &runs {
        let cutoff = chrono::DateTime::from_timestamp_micros(r.cutoff).unwrap_or_default().to_rfc3339();
        println!(
            "{}: deleted {} events, {} web vitals and {} crawler tally rows before {cutoff}; {} archive file(s)",
            r.site.domain,
            r.outcome.deleted_events,
            r.outcome.deleted_vitals,
            r.outcome.deleted_crawler_rows,
            r.outcome.archives.len()
        );
        for a in &r.outcome.archives {
            println!("  {}", a.display());
        }
    }
    let (free, blocks) = db.free_ratio()?;
    db.checkpoint()?;
    drop(retention);
    drop(db);
    // DuckDB reuses freed blocks but keeps the file's length: rewrite it when much is free.
    if !args.no_compact && free > 0.25 && blocks > 4 {
        let (before, after) = offline::compact(&args.data.database())?;
        println!("compacted {}: {before} -> {after} bytes", args.data.database().display());
    }
    Ok(())
}

/// `hitkeep backup`.
pub fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let to = std::path::absolute(&args.to).with_context(|| format!("bad path {}", args.to.display()))?;
    if let Some(server) = &args.server {
        let token = args.token.clone().unwrap_or_default();
        let body = serde_json::json!({"to": to.display().to_string()});
        let v = super::annotate::post_to_server(server, "/api/admin/backup", &token, &body, "backup")?;
        println!("backup written by the server: {} ({} bytes)", v["file"].as_str().unwrap_or("?"), v["bytes"]);
        return Ok(());
    }
    let db = open_offline(&args.data)
        .map_err(|e| anyhow::anyhow!("{e:#}; to back up a running server use --server URL --token TOKEN"))?;
    let b = db.backups()?.backup_to(&to)?;
    println!("backup written: {} ({} bytes)", b.file.display(), b.bytes);
    Ok(())
}

/// `hitkeep restore`.
pub fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let source = if args.from.is_dir() { args.from.join("hitkeep.db") } else { args.from.clone() };
    anyhow::ensure!(source.is_file(), "{} is not a backup (no hitkeep.db there)", args.from.display());
    let target = args.data.database();
    if target.exists() {
        anyhow::ensure!(
            args.force,
            "{} already holds a database; restoring would replace it (add --force)",
            target.display()
        );
        // Refuse while a server uses it.
        drop(open_offline(&args.data)?);
    }
    std::fs::create_dir_all(&args.data.data_dir)?;
    let staging = args.data.data_dir.join("hitkeep.db.restoring");
    let _ = std::fs::remove_file(&staging);
    std::fs::copy(&source, &staging).with_context(|| format!("cannot copy {}", source.display()))?;
    let summary = offline::prepare_restore(&staging);
    let (sites, events) = match summary {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            return Err(e.context(format!("{} is not a readable HitKeep database", source.display())));
        }
    };
    let _ = std::fs::remove_file(PathBuf::from(format!("{}.wal", target.display())));
    let _ = std::fs::remove_file(PathBuf::from(format!("{}.wal", staging.display())));
    std::fs::rename(&staging, &target)?;
    println!(
        "restored {} into {}: {sites} sites, {events} events (visitor salts start fresh)",
        source.display(),
        target.display()
    );
    Ok(())
}

fn read_upload(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    eprintln!("read {} ({} bytes)", path.display(), bytes.len());
    Ok(bytes)
}

/// The unpacked-size limit of `hitkeep import` (the operator's own files).
const CLI_MAX_UNPACKED: u64 = 512 * 1024 * 1024;

/// `hitkeep import`.
pub fn import(args: ImportArgs) -> anyhow::Result<()> {
    let (source, path) = match (&args.from_plausible, &args.from_umami, &args.from_goatcounter) {
        (Some(p), _, _) => (ImportSource::Plausible, p),
        (_, Some(p), _) => (ImportSource::Umami, p),
        (_, _, Some(p)) => (ImportSource::GoatCounter, p),
        _ => anyhow::bail!("give one of --from-plausible, --from-umami, --from-goatcounter"),
    };
    let db = open_offline(&args.data)?;
    let site = find_site(&db, &args.site)?;
    let bytes = read_upload(path)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("upload.csv");
    let imports = db.imports()?;
    let parsed = imports.parse(&site, source, &bytes, name, CLI_MAX_UNPACKED, |files| {
        eprintln!("parsing {files} file(s) as a {} export", source.as_str())
    });
    let batch = match parsed {
        Ok(b) => b,
        Err(ImportError::BadRows(rows)) => {
            for r in &rows {
                eprintln!("bad row: {r}");
            }
            anyhow::bail!("{} bad row(s) in {}; nothing was imported", rows.len(), path.display());
        }
        Err(e) => anyhow::bail!("{}: {e}; nothing was imported", path.display()),
    };
    let t = batch.totals();
    let summary = format!(
        "{} rows read ({} skipped), {} days {}..{}: {} visitors, {} visits, {} pageviews, {} bounces, {} s total visit time",
        batch.rows_read,
        batch.rows_skipped,
        batch.days.len(),
        batch.first_date().map(|d| d.to_string()).unwrap_or_default(),
        batch.last_date().map(|d| d.to_string()).unwrap_or_default(),
        t.visitors,
        t.visits,
        t.pageviews,
        t.bounces,
        t.visit_duration
    );
    if args.dry_run {
        println!("dry run, nothing stored: {summary}");
        return Ok(());
    }
    let id = imports.save(&site, source, &batch)?;
    db.checkpoint()?;
    println!("imported into {} (import {id}): {summary}", site.domain);
    Ok(())
}

/// `hitkeep report ...`.
pub fn report(cmd: ReportCommand) -> anyhow::Result<()> {
    let ReportCommand::Send { site, email, period, smtp_url, smtp_from, now, data } = cmd;
    let frequency =
        Frequency::parse(&period).with_context(|| format!("--period must be week or month, got {period:?}"))?;
    let email = parse_email(&email).map_err(|e| anyhow::anyhow!(e.0))?;
    let mailer = offline::smtp_mailer(&smtp_url, &smtp_from).map_err(anyhow::Error::msg)?;
    let clock: Arc<dyn Clock> = Arc::new(FixedClock(parse_now(now.as_deref())?));
    let db = open_offline(&data)?;
    let site = find_site(&db, &site)?;
    let service = db.email_reports(mailer, clock)?;
    let mail = service.send_now(&site, &email, frequency)?;
    println!("sent \"{}\" to {}", mail.subject, mail.to);
    Ok(())
}

//! `hitkeep import-logs`: AI crawler fetches from a web server's access log (stopped data
//! directory).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::{DataDirArg, open_offline, sites};
use crate::domain::access_log::{AccessLogFormat, parse_line};
use crate::domain::site::SiteDirectory;
use crate::ports::useragent::UserAgentClassifier;
use crate::services::access_logs::{LogSite, import_access_log};

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormatArg {
    /// nginx's / Apache's default `combined` format (no host: name the site with --site).
    Combined,
    /// Caddy's JSON access log (the site is found by each request's host unless --site).
    CaddyJson,
}

#[derive(Args, Debug)]
pub struct ImportLogsArgs {
    /// The access log ("-" reads standard input).
    pub file: PathBuf,
    /// The log's format (nginx / Apache `combined`, or Caddy's JSON access log).
    #[arg(long, value_enum)]
    pub format: LogFormatArg,
    /// Count every request for this site (required for `combined`, which records no host).
    #[arg(long)]
    pub site: Option<String>,
    /// Ship to a running server instead (e.g. http://127.0.0.1:8080): each AI crawler request is
    /// sent to its `POST /api/event` as it is read, so `tail -F access.log | hitkeep import-logs
    /// --server URL -` keeps the crawler report live. The data directory is not opened.
    #[arg(long)]
    pub server: Option<String>,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// Sends the AI crawler requests of a log to a running server's `POST /api/event`, one by one,
/// with the crawler's user agent: the server classifies and counts them like any hit.
fn ship(server: &str, input: impl BufRead, format: AccessLogFormat, site: Option<&str>) -> anyhow::Result<()> {
    let classifier = crate::adapters::uap::UapClassifier::new(10_000)?;
    let url = format!("{}/api/event", server.trim_end_matches('/'));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let client = crate::adapters::http_client::client();
    let (mut shipped, mut skipped) = (0u64, 0u64);
    for line in input.lines() {
        let line = line?;
        let Ok(request) = parse_line(format, &line) else {
            skipped += 1;
            continue;
        };
        let Some(host) = site.or(request.host.as_deref()) else {
            skipped += 1;
            continue;
        };
        if classifier.classify(&request.user_agent).crawler.is_none() {
            skipped += 1;
            continue;
        }
        let body = serde_json::json!({"n": "pageview", "u": format!("https://{host}{}", request.pathname), "d": host});
        let sent = runtime.block_on(
            client
                .post(&url)
                .header("user-agent", &request.user_agent)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send(),
        );
        match sent {
            Ok(r) if r.status().is_success() => shipped += 1,
            Ok(r) => anyhow::bail!("{url} answered {} after {shipped} fetches", r.status()),
            Err(e) => anyhow::bail!("cannot reach {url} after {shipped} fetches: {e}"),
        }
    }
    println!("sent {shipped} AI crawler fetches to {server}; {skipped} other or unreadable lines skipped");
    Ok(())
}

/// Runs `import-logs`.
pub fn import_logs(args: ImportLogsArgs) -> anyhow::Result<()> {
    let format = match args.format {
        LogFormatArg::Combined => AccessLogFormat::Combined,
        LogFormatArg::CaddyJson => AccessLogFormat::CaddyJson,
    };
    anyhow::ensure!(
        args.site.is_some() || format != AccessLogFormat::Combined,
        "the combined format records no host: name the site with --site"
    );
    let input: Box<dyn std::io::Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?)
    };
    if let Some(server) = &args.server {
        return ship(server, BufReader::new(input), format, args.site.as_deref());
    }
    let db = open_offline(&args.data)?;
    let fixed = match &args.site {
        Some(domain) => Some(sites::lookup(&db, domain)?.with_context(|| format!("no site {domain}"))?),
        None => None,
    };
    let directory = SiteDirectory::new(db.site_list()?);
    let site = match &fixed {
        Some(s) => LogSite::Fixed(s),
        None => LogSite::ByHost(&directory),
    };
    let store = db.crawler_store()?;
    let summary = import_access_log(BufReader::new(input), format, site, &*db.user_agents()?, &*store)?;
    drop(store);
    db.checkpoint()?;
    println!(
        "read {} lines: {} AI crawler fetches imported, {} other requests skipped, {} for unknown sites, {} unreadable",
        summary.lines, summary.crawler_fetches, summary.other_requests, summary.unknown_site, summary.unreadable
    );
    for e in &summary.first_errors {
        eprintln!("  {e}");
    }
    Ok(())
}

//! `hitkeep import-logs`: AI crawler fetches read from a web server's access log and added to
//! the crawler tallies. Other requests are only counted: access logs cannot tell visits apart
//! the way the tracker does, so they never become visitor stats.

use std::io::BufRead;

use crate::domain::access_log::{AccessLogFormat, parse_line};
use crate::domain::crawlers::{CrawlerFetch, local_day, tally};
use crate::domain::site::{Site, SiteDirectory};
use crate::ports::crawlers::CrawlerStore;
use crate::ports::store::{StoreError, StoreResult};
use crate::ports::useragent::UserAgentClassifier;

/// What an import read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogImportSummary {
    pub lines: u64,
    /// AI crawler fetches added to the crawler report.
    pub crawler_fetches: u64,
    /// Requests by anything else (visitors, other bots): not imported.
    pub other_requests: u64,
    /// Requests for a host no site receives.
    pub unknown_site: u64,
    /// Lines that could not be read (the first few reasons are kept).
    pub unreadable: u64,
    pub first_errors: Vec<String>,
}

/// Where imported fetches belong: one named site, or the site each line's host names.
pub enum LogSite<'a> {
    Fixed(&'a Site),
    ByHost(&'a SiteDirectory),
}

/// Fetches added per store call: bounds memory on large logs.
const FLUSH_EVERY: usize = 50_000;

/// Reads `input` line by line and adds its AI crawler fetches to `store`.
pub fn import_access_log(
    input: impl BufRead,
    format: AccessLogFormat,
    site: LogSite<'_>,
    classifier: &dyn UserAgentClassifier,
    store: &dyn CrawlerStore,
) -> StoreResult<LogImportSummary> {
    let mut summary = LogImportSummary::default();
    let mut pending: Vec<CrawlerFetch> = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(|e| StoreError::Internal(format!("reading line {}: {e}", n + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        summary.lines += 1;
        let request = match parse_line(format, &line) {
            Ok(r) => r,
            Err(e) => {
                summary.unreadable += 1;
                if summary.first_errors.len() < 5 {
                    summary.first_errors.push(format!("line {}: {e}", n + 1));
                }
                continue;
            }
        };
        let client = classifier.classify(&request.user_agent);
        let Some(who) = &client.crawler else {
            summary.other_requests += 1;
            continue;
        };
        let site = match (&site, request.host.as_deref()) {
            (LogSite::Fixed(s), _) => Some(*s),
            (LogSite::ByHost(dir), Some(host)) => dir.resolve(host).map(|s| &**s),
            (LogSite::ByHost(_), None) => None,
        };
        let Some(site) = site else {
            summary.unknown_site += 1;
            continue;
        };
        summary.crawler_fetches += 1;
        pending.push(CrawlerFetch {
            site_id: site.id.0,
            day: local_day(site, request.ts),
            crawler: who.name.clone(),
            operator: who.operator.clone(),
            pathname: request.pathname,
        });
        if pending.len() >= FLUSH_EVERY {
            store.add_fetches(&tally(&pending))?;
            pending.clear();
        }
    }
    store.add_fetches(&tally(&pending))?;
    Ok(summary)
}

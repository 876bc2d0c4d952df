//! AI crawlers and fetchers: who they are (from the field data's descriptions), what one fetch
//! is, and the compact per-day tallies they are kept as. Never part of visitor stats.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An AI crawler as the user agent names it, and the company or project that runs it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CrawlerIdentity {
    pub name: String,
    pub operator: String,
}

/// Longest crawler name kept: a pattern spanning much of a user agent is cut to its first word.
const MAX_NAME_LEN: usize = 40;

impl CrawlerIdentity {
    /// The identity of a crawler whose pattern matched `matched` in a user agent, from the field
    /// data entry's `description` and documentation `url`.
    pub fn from_match(matched: &str, description: Option<&str>, url: Option<&str>) -> Self {
        let name = matched.trim_matches(|c: char| !c.is_alphanumeric());
        let name = if name.len() > MAX_NAME_LEN { name.split_whitespace().next().unwrap_or(name) } else { name };
        Self { name: name.to_string(), operator: operator_of(description.unwrap_or(""), url.unwrap_or("")) }
    }
}

/// The operator of a crawler. The field data has no operator field, so it is read from the
/// entry: the description's first word when it names the documentation site ("OpenAI GPT web
/// crawler" at openai.com), or is a possessive ("Amazon's AI search indexer") or a CamelCase
/// proper name ("ByteDance Bytespider"); else the documentation site's domain.
pub fn operator_of(description: &str, url: &str) -> String {
    let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    let first = description.split_whitespace().next().unwrap_or("");
    let possessive = first.strip_suffix("'s");
    let word = possessive.unwrap_or(first).trim_matches(|c: char| !c.is_alphanumeric());
    let names_host = |h: &str| !word.is_empty() && h.split('.').any(|label| label.eq_ignore_ascii_case(word));
    let camel = word.len() > 2
        && !word.starts_with("AI")
        && word.chars().next().is_some_and(char::is_uppercase)
        && word.chars().skip(1).any(char::is_uppercase)
        && word.chars().any(char::is_lowercase);
    if host.as_deref().is_some_and(names_host) || possessive.is_some() || camel {
        return word.to_string();
    }
    match host {
        Some(h) => registrable(&h),
        None if !word.is_empty() => word.to_string(),
        None => "unknown".to_string(),
    }
}

/// The last two labels of a host (`platform.openai.com` -> `openai.com`).
fn registrable(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    labels[labels.len().saturating_sub(2)..].join(".")
}

/// One fetch of a page by an AI crawler, on the site's local day. Travels through the ingest
/// queue like a hit, so it is stored once whatever node received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlerFetch {
    pub site_id: u32,
    pub day: NaiveDate,
    pub crawler: String,
    pub operator: String,
    pub pathname: String,
}

/// The site's local date at `micros` (Unix microseconds).
pub fn local_day(site: &super::site::Site, micros: i64) -> NaiveDate {
    let utc = chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default();
    utc.with_timezone(&super::lifecycle::site_tz(site)).date_naive()
}

/// Fetches of one page by one crawler on one day: a row of the compact crawler table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchCount {
    pub site_id: u32,
    pub day: NaiveDate,
    pub crawler: String,
    pub operator: String,
    pub pathname: String,
    pub fetches: u64,
}

/// Adds up fetches by (site, day, crawler, page), in that order.
pub fn tally<'a>(fetches: impl IntoIterator<Item = &'a CrawlerFetch>) -> Vec<FetchCount> {
    let mut counts: BTreeMap<(u32, NaiveDate, &str, &str), (&str, u64)> = BTreeMap::new();
    for f in fetches {
        let key = (f.site_id, f.day, f.crawler.as_str(), f.pathname.as_str());
        counts.entry(key).or_insert((f.operator.as_str(), 0)).1 += 1;
    }
    counts
        .into_iter()
        .map(|((site_id, day, crawler, pathname), (operator, fetches))| FetchCount {
            site_id,
            day,
            crawler: crawler.to_string(),
            operator: operator.to_string(),
            pathname: pathname.to_string(),
            fetches,
        })
        .collect()
}

/// Fetches on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayFetches {
    pub day: NaiveDate,
    pub fetches: u64,
}

/// Fetches by one crawler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlerFetches {
    pub crawler: String,
    pub operator: String,
    pub fetches: u64,
}

/// Fetches of one page, by any AI crawler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFetches {
    pub pathname: String,
    pub fetches: u64,
}

/// A site's AI crawler fetches over a period: every day of it (zeros included), by crawler and
/// by page (most fetched first).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CrawlerReport {
    pub total: u64,
    pub days: Vec<DayFetches>,
    pub crawlers: Vec<CrawlerFetches>,
    pub pages: Vec<PageFetches>,
}

/// Most rows returned by crawler or by page.
pub const MAX_REPORT_ROWS: usize = 100;

/// Builds the report from the tallies of the period `first..=last` (any order, any number of
/// rows per key).
pub fn report(counts: &[FetchCount], first: NaiveDate, last: NaiveDate) -> CrawlerReport {
    let mut days: BTreeMap<NaiveDate, u64> = first.iter_days().take_while(|d| *d <= last).map(|d| (d, 0)).collect();
    let mut crawlers: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut pages: BTreeMap<&str, u64> = BTreeMap::new();
    let mut total = 0;
    for c in counts.iter().filter(|c| c.day >= first && c.day <= last) {
        total += c.fetches;
        *days.entry(c.day).or_default() += c.fetches;
        *crawlers.entry((c.crawler.as_str(), c.operator.as_str())).or_default() += c.fetches;
        *pages.entry(c.pathname.as_str()).or_default() += c.fetches;
    }
    let mut crawlers: Vec<CrawlerFetches> = crawlers
        .into_iter()
        .map(|((crawler, operator), fetches)| CrawlerFetches {
            crawler: crawler.into(),
            operator: operator.into(),
            fetches,
        })
        .collect();
    crawlers.sort_by(|a, b| b.fetches.cmp(&a.fetches).then_with(|| a.crawler.cmp(&b.crawler)));
    crawlers.truncate(MAX_REPORT_ROWS);
    let mut pages: Vec<PageFetches> =
        pages.into_iter().map(|(pathname, fetches)| PageFetches { pathname: pathname.into(), fetches }).collect();
    pages.sort_by(|a, b| b.fetches.cmp(&a.fetches).then_with(|| a.pathname.cmp(&b.pathname)));
    pages.truncate(MAX_REPORT_ROWS);
    CrawlerReport {
        total,
        days: days.into_iter().map(|(day, fetches)| DayFetches { day, fetches }).collect(),
        crawlers,
        pages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_come_from_the_field_data_entry() {
        let op = |d: &str, u: &str| operator_of(d, u);
        assert_eq!(op("OpenAI GPT web crawler bot", "https://platform.openai.com/docs/gptbot"), "OpenAI");
        assert_eq!(op("Anthropic Claude web crawler bot", "https://www.anthropic.com/"), "Anthropic");
        assert_eq!(op("Perplexity AI web crawler for search", "https://docs.perplexity.ai/x"), "Perplexity");
        assert_eq!(op("ByteDance Bytespider web crawler bot", "https://stackoverflow.com/q/1"), "ByteDance");
        assert_eq!(op("Amazon's AI search indexer for Alexa", "https://developer.amazon.com/amazonbot"), "Amazon");
        assert_eq!(
            op("Common Crawl web crawler for indexing", "http://www.commoncrawl.org/bot.html"),
            "commoncrawl.org"
        );
        assert_eq!(op("AI-powered search engine web crawler bot", ""), "AI-powered");
        assert_eq!(op("", ""), "unknown");
    }

    #[test]
    fn names_are_the_matched_text() {
        assert_eq!(CrawlerIdentity::from_match("PerplexityBot/", None, None).name, "PerplexityBot");
        assert_eq!(CrawlerIdentity::from_match("ClaudeBot", None, None).name, "ClaudeBot");
        let long = "Spider/1.0 (+https://example.test/a/very/long/way/until/spider.com)";
        assert_eq!(CrawlerIdentity::from_match(long, None, None).name, "Spider/1.0");
    }

    #[test]
    fn tallies_and_reports_add_up_per_day_crawler_and_page() {
        let d = |n: u32| NaiveDate::from_ymd_opt(2026, 11, n).unwrap();
        let f = |day, crawler: &str, page: &str| CrawlerFetch {
            site_id: 1,
            day,
            crawler: crawler.into(),
            operator: "Op".into(),
            pathname: page.into(),
        };
        let all = [f(d(1), "GPTBot", "/a"), f(d(1), "GPTBot", "/a"), f(d(2), "ClaudeBot", "/b"), f(d(9), "X", "/")];
        let counts = tally(&all);
        assert_eq!(counts.len(), 3);
        assert_eq!(counts[0].fetches, 2);
        let r = report(&counts, d(1), d(3));
        assert_eq!(r.total, 3, "a day outside the period is left out");
        assert_eq!(r.days.iter().map(|d| d.fetches).collect::<Vec<_>>(), [2, 1, 0]);
        assert_eq!((r.crawlers[0].crawler.as_str(), r.crawlers[0].fetches), ("GPTBot", 2));
        assert_eq!((r.pages[1].pathname.as_str(), r.pages[1].fetches), ("/b", 1));
    }
}

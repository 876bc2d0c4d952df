//! Conformance of the AI crawler tallies.

use chrono::NaiveDate;

use crate::domain::crawlers::FetchCount;
use crate::ports::crawlers::CrawlerStore;

/// The crawler store: added counts sum up per key, reports cover every day of the period, rank
/// crawlers and pages by fetches and keep sites apart.
pub fn crawler_store<S: CrawlerStore>(make: impl Fn() -> S) {
    let store = make();
    let d = |n: u32| NaiveDate::from_ymd_opt(2026, 11, n).unwrap();
    let count = |site_id, day, crawler: &str, pathname: &str, fetches| FetchCount {
        site_id,
        day,
        crawler: crawler.into(),
        operator: if crawler == "GPTBot" { "OpenAI" } else { "Anthropic" }.into(),
        pathname: pathname.into(),
        fetches,
    };
    let empty = store.crawler_report(1, d(1), d(3)).unwrap();
    assert_eq!((empty.total, empty.days.len()), (0, 3), "every day of the period, with zeros");
    store.add_fetches(&[count(1, d(1), "GPTBot", "/a", 2), count(1, d(2), "ClaudeBot", "/b", 1)]).unwrap();
    store.add_fetches(&[count(1, d(1), "GPTBot", "/a", 3), count(2, d(1), "GPTBot", "/a", 7)]).unwrap();
    store.add_fetches(&[count(1, d(5), "GPTBot", "/late", 4)]).unwrap();
    let r = store.crawler_report(1, d(1), d(3)).unwrap();
    assert_eq!(r.total, 6, "added up; another site and a day after the period left out");
    assert_eq!(r.days.iter().map(|x| (x.day, x.fetches)).collect::<Vec<_>>(), [(d(1), 5), (d(2), 1), (d(3), 0)]);
    let crawlers: Vec<_> = r.crawlers.iter().map(|c| (c.crawler.as_str(), c.operator.as_str(), c.fetches)).collect();
    assert_eq!(crawlers, [("GPTBot", "OpenAI", 5), ("ClaudeBot", "Anthropic", 1)], "most fetches first");
    let pages: Vec<_> = r.pages.iter().map(|p| (p.pathname.as_str(), p.fetches)).collect();
    assert_eq!(pages, [("/a", 5), ("/b", 1)]);
}

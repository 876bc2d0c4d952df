//! AI crawler tallies in a vector.

use std::sync::Mutex;

use chrono::NaiveDate;

use crate::domain::crawlers::{CrawlerReport, FetchCount, report};
use crate::ports::crawlers::CrawlerStore;
use crate::ports::store::StoreResult;

/// Crawler counts in memory: every added count kept, summed when reported.
#[derive(Default)]
pub struct MemoryCrawlers {
    counts: Mutex<Vec<FetchCount>>,
}

impl CrawlerStore for MemoryCrawlers {
    fn add_fetches(&self, counts: &[FetchCount]) -> StoreResult<()> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(counts);
        Ok(())
    }

    fn crawler_report(&self, site_id: u32, first: NaiveDate, last: NaiveDate) -> StoreResult<CrawlerReport> {
        let all = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let site: Vec<FetchCount> = all.iter().filter(|c| c.site_id == site_id).cloned().collect();
        Ok(report(&site, first, last))
    }
}

crate::conformance_tests!(crawler_store: MemoryCrawlers::default);

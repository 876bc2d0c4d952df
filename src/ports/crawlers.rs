//! The AI crawler tallies: fetches added up per site, day, crawler and page.

use chrono::NaiveDate;

use crate::domain::crawlers::{CrawlerReport, FetchCount};
use crate::ports::store::StoreResult;

/// Keeps AI crawler fetch counts and reports them per site.
pub trait CrawlerStore: Send + Sync {
    /// Adds the counts to what is stored (an imported access log; the writer adds the fetches
    /// it takes off the queue through `EventStore::append`).
    fn add_fetches(&self, counts: &[FetchCount]) -> StoreResult<()>;
    /// The site's fetches on the days `first..=last`: every day of it, by crawler and by page.
    fn crawler_report(&self, site_id: u32, first: NaiveDate, last: NaiveDate) -> StoreResult<CrawlerReport>;
}

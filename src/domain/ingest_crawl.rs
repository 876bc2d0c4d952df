//! AI crawler page views on the ingest path: queued for the crawler report instead of visitor
//! stats (a child of `ingest`, which owns the service's state).

use super::{DropReason, IngestError, IngestService, Outcome};
use crate::domain::crawlers::{CrawlerFetch, local_day};
use crate::domain::event::Record;

impl IngestService {
    /// Queues an AI crawler's fetch of `pathname` on the site's local day.
    pub(super) fn crawled(
        &self,
        site_host: &str,
        user_agent: &str,
        pathname: String,
        timestamp: Option<i64>,
    ) -> Result<Outcome, IngestError> {
        let client = self.user_agents.classify(user_agent);
        let (Some(site), Some(who)) = (self.sites().resolve(site_host).cloned(), client.crawler.as_ref()) else {
            return Ok(Outcome::Dropped(DropReason::AiCrawler));
        };
        let ts = timestamp.unwrap_or_else(|| self.clock.now_micros());
        let fetch = CrawlerFetch {
            site_id: site.id.0,
            day: local_day(&site, ts),
            crawler: who.name.clone(),
            operator: who.operator.clone(),
            pathname,
        };
        match self.publish(Record::Crawl(fetch))? {
            Outcome::Accepted(receipt) => Ok(Outcome::Crawled(receipt)),
            other => Ok(other),
        }
    }
}

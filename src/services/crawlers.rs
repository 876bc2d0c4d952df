//! AI visibility: a site's AI crawler fetches beside the visits AI assistants referred, over
//! one period.

use std::sync::Arc;

use serde_json::json;

use crate::domain::crawlers::CrawlerReport;
use crate::domain::query::{Cell, Period, QueryInput};
use crate::domain::reports::{ReportError, date_range_param};
use crate::domain::site::Site;
use crate::ports::crawlers::CrawlerStore;
use crate::services::reports::ReportService;

/// The channel AI assistant referrals are classified in (see `domain::channel`).
pub const AI_ASSISTANTS: &str = "AI Assistants";

/// Visitors one AI assistant sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssistantReferral {
    pub source: String,
    pub visitors: u64,
}

/// What AI systems did with a site over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct AiVisibility {
    pub period: Period,
    pub crawlers: CrawlerReport,
    pub referrals: Vec<AssistantReferral>,
}

/// Reports AI crawler fetches and AI assistant referrals.
pub struct CrawlerService {
    store: Arc<dyn CrawlerStore>,
    reports: Arc<ReportService>,
}

impl CrawlerService {
    pub fn new(store: Arc<dyn CrawlerStore>, reports: Arc<ReportService>) -> Self {
        Self { store, reports }
    }

    /// The store the tallies are kept in (the access-log import adds to it).
    pub fn store(&self) -> &Arc<dyn CrawlerStore> {
        &self.store
    }

    /// The site's AI visibility over `date_range` (a query parameter, default `30d`).
    pub async fn ai_visibility(
        self: &Arc<Self>,
        site: Site,
        date_range: Option<String>,
    ) -> Result<AiVisibility, ReportError> {
        let this = self.clone();
        crate::services::blocking(move || this.ai_visibility_blocking(&site, date_range.as_deref())).await
    }

    fn ai_visibility_blocking(&self, site: &Site, date_range: Option<&str>) -> Result<AiVisibility, ReportError> {
        let range = date_range_param(date_range);
        let period = self.reports.resolve_period(site, &range)?;
        let crawlers = self.store.crawler_report(site.id.0, period.first_date, period.last_date)?;
        // Referrals through the Stats API itself, so they equal what a query for the channel says.
        let input = QueryInput {
            site_id: site.domain.to_string(),
            date_range: Some(range),
            metrics: Some(vec!["visitors".into()]),
            dimensions: vec!["visit:source".into()],
            filters: vec![json!(["is", "visit:channel", [AI_ASSISTANTS]])],
            order_by: vec![vec!["visitors".into(), "desc".into()], vec!["visit:source".into(), "asc".into()]],
            ..QueryInput::default()
        };
        let answer = self.reports.query_blocking(site, &input)?;
        let referrals = answer
            .rows
            .into_iter()
            .map(|row| AssistantReferral {
                source: match row.dimensions.first() {
                    Some(Cell::Text(s)) => s.clone(),
                    _ => String::new(),
                },
                visitors: match row.metrics.first() {
                    Some(Cell::Int(n)) => u64::try_from(*n).unwrap_or(0),
                    Some(Cell::UInt(n)) => *n,
                    _ => 0,
                },
            })
            .collect();
        Ok(AiVisibility { period, crawlers, referrals })
    }
}

//! `GET /api/sites/{site}/ai-visibility`: AI crawler fetches (over time, by crawler, by page)
//! beside AI assistant referrals.

use std::sync::Arc;

use poem_openapi::param::{Path, Query as QueryParam};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::adapters::http::AppState;
use crate::adapters::http::api::ApiTags;
use crate::adapters::http::api::reports::ReportAnswers;
use crate::adapters::http::auth::Auth;
use crate::adapters::http::guard::unsegmented_site;
use crate::services::crawlers::AiVisibility;

/// Fetches on one day of the period (the site's time zone).
#[derive(Object)]
pub struct CrawlerDayView {
    /// YYYY-MM-DD.
    pub date: String,
    pub fetches: u64,
}

/// Fetches by one AI crawler.
#[derive(Object)]
pub struct CrawlerView {
    /// As its user agent names it (GPTBot, ClaudeBot, PerplexityBot, ...).
    pub crawler: String,
    /// Who runs it (OpenAI, Anthropic, ...), from the crawler list's description of it.
    pub operator: String,
    pub fetches: u64,
}

/// Fetches of one page by AI crawlers.
#[derive(Object)]
pub struct CrawledPageView {
    pub page: String,
    pub fetches: u64,
}

/// Visitors one AI assistant referred (the `AI Assistants` channel).
#[derive(Object)]
pub struct AssistantReferralView {
    /// The assistant (ChatGPT, Perplexity, ...): the visit's source.
    pub source: String,
    pub visitors: u64,
}

/// How AI systems saw the site over the period: crawler fetches (never counted as visitors)
/// and the visitors AI assistants sent.
#[derive(Object)]
pub struct AiVisibilityView {
    /// First and last day of the period (YYYY-MM-DD).
    pub date_range: Vec<String>,
    /// All AI crawler fetches in the period.
    pub total_fetches: u64,
    /// Every day of the period, zeros included.
    pub fetches_over_time: Vec<CrawlerDayView>,
    /// Most fetches first (at most 100).
    pub crawlers: Vec<CrawlerView>,
    /// Most fetched first (at most 100).
    pub pages: Vec<CrawledPageView>,
    /// Most visitors first.
    pub assistant_referrals: Vec<AssistantReferralView>,
}

impl From<AiVisibility> for AiVisibilityView {
    fn from(v: AiVisibility) -> Self {
        let date = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        Self {
            date_range: vec![date(v.period.first_date), date(v.period.last_date)],
            total_fetches: v.crawlers.total,
            fetches_over_time: v
                .crawlers
                .days
                .into_iter()
                .map(|d| CrawlerDayView { date: date(d.day), fetches: d.fetches })
                .collect(),
            crawlers: v
                .crawlers
                .crawlers
                .into_iter()
                .map(|c| CrawlerView { crawler: c.crawler, operator: c.operator, fetches: c.fetches })
                .collect(),
            pages: v
                .crawlers
                .pages
                .into_iter()
                .map(|p| CrawledPageView { page: p.pathname, fetches: p.fetches })
                .collect(),
            assistant_referrals: v
                .referrals
                .into_iter()
                .map(|r| AssistantReferralView { source: r.source, visitors: r.visitors })
                .collect(),
        }
    }
}

/// The site's AI visibility over the period.
pub type AiVisibilityResult = super::reports::PeriodReport<AiVisibilityView>;

/// AI visibility endpoints.
pub struct AiVisibilityApi {
    pub state: Arc<AppState>,
}

#[OpenApi(tag = "ApiTags::Reports")]
impl AiVisibilityApi {
    /// AI crawler fetches of the site's pages (GPTBot, ClaudeBot, ...; never counted as
    /// visitors) over time, by crawler and by page, beside the visitors AI assistants referred.
    #[oai(path = "/sites/:site/ai-visibility", method = "get", operation_id = "aiVisibility")]
    async fn ai_visibility(
        &self,
        auth: Auth,
        site: Path<String>,
        /// `30d`, `month`, ... or `YYYY-MM-DD,YYYY-MM-DD`; default `30d`.
        date_range: QueryParam<Option<String>>,
    ) -> AiVisibilityResult {
        // A share link limited to a segment sees no crawler counts: crawlers are no segment's visitors.
        let site = crate::or_return!(unsegmented_site(&self.state, &auth, &site.0).await);
        match self.state.crawlers.ai_visibility(site, date_range.0).await {
            Ok(v) => AiVisibilityResult::Ok(Json(v.into())),
            Err(e) => AiVisibilityResult::report_failed(e, "invalid_date_range"),
        }
    }
}

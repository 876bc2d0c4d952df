//! Goals and funnels of a site: `/api/sites/{site}/goals` and `/api/sites/{site}/funnels`.

use std::future::Future;
use std::sync::Arc;

use poem_openapi::param::{Path, Query as QueryParam};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::reports::ReportAnswers;
use super::{ApiTags, body};
use crate::adapters::http::AppState;
use crate::adapters::http::auth::Auth;
use crate::adapters::http::guard::{Answer, ApiFailure, ErrorAnswers, on_site, unsegmented_site};
use crate::domain::accounts::Need;
use crate::domain::query::GoalKind;
use crate::domain::reports::iso;
use crate::ports::reports::Funnel;
use crate::services::goals::{GoalError, GoalService, StepDraft};
use crate::services::reports::FunnelReport as FunnelReportOf;

/// A goal: a pageview of matching pages or a custom event.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct GoalView {
    pub id: u32,
    /// The name shown in `event:goal`.
    pub display_name: String,
    /// Page path pattern (`*` within a segment, `**` across), for pageview goals.
    pub page_path: Option<String>,
    /// Custom event name, for event goals.
    pub event_name: Option<String>,
    /// A revenue goal's currency (ISO 4217); revenue metrics over it are shown in it.
    pub currency: Option<String>,
}

/// A goal to create: exactly one of `page_path` and `event_name`; a `currency` makes an event
/// goal a revenue goal.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CreateGoal {
    pub display_name: Option<String>,
    pub page_path: Option<String>,
    pub event_name: Option<String>,
    pub currency: Option<String>,
}

/// A goal kind as its two optional fields: `(page_path, event_name)`.
fn kind_fields(kind: &GoalKind) -> (Option<String>, Option<String>) {
    let (page, event) = kind.fields();
    (page.map(str::to_owned), event.map(str::to_owned))
}

fn goal_view(g: &crate::domain::query::Goal) -> GoalView {
    let (page_path, event_name) = kind_fields(&g.kind);
    GoalView { id: g.id, display_name: g.display_name.clone(), page_path, event_name, currency: g.currency.clone() }
}

/// The answers about the site's goals.
pub type GoalsResult = crate::adapters::http::answers::Collection<GoalView>;

/// A funnel step: a page pattern or an event name.
#[derive(Object, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct FunnelStepSpec {
    pub page_path: Option<String>,
    pub event_name: Option<String>,
}

/// A funnel to create: 2-8 steps completed in order within one visit.
#[derive(Object)]
pub struct CreateFunnel {
    pub name: String,
    pub steps: Vec<FunnelStepSpec>,
}

/// A saved funnel.
#[derive(Object)]
pub struct FunnelView {
    pub id: u32,
    pub name: String,
    pub steps: Vec<FunnelStepSpec>,
}

/// A funnel step's numbers.
#[derive(Object)]
pub struct FunnelStepReport {
    pub label: String,
    pub visitors: u64,
    /// Visitors lost since the previous step.
    pub dropoff: u64,
    /// Percent of the first step's visitors.
    pub conversion_rate: f64,
    /// Percent of the previous step's visitors.
    pub conversion_rate_step: f64,
}

/// A funnel over a period.
#[derive(Object)]
pub struct FunnelReport {
    pub id: u32,
    pub name: String,
    /// The period, as ISO 8601 date-times in the site's time zone.
    pub date_range: Vec<String>,
    pub steps: Vec<FunnelStepReport>,
}

/// The site's funnels.
pub type FunnelListResult = crate::adapters::http::answers::Read<Vec<FunnelView>>;

/// Visitors per step over the period.
pub type FunnelReportResult = super::reports::PeriodReport<FunnelReport>;

crate::api_answers! {
    pub enum FunnelsResult {
        /// Created.
        Created(201, Json<FunnelView>),
        /// Deleted.
        Deleted(204),
        /// Invalid funnel or period.
        BadRequest,
        Unauthorized, Forbidden,
        /// No such site or funnel.
        NotFound,
        Internal,
    }
}

fn spec_of(k: &GoalKind) -> FunnelStepSpec {
    let (page_path, event_name) = kind_fields(k);
    FunnelStepSpec { page_path, event_name }
}

/// Goal and funnel endpoints.
pub struct GoalsApi {
    pub state: Arc<AppState>,
}

impl GoalsApi {
    /// One goal call: the access check on the site, the service call, and the mapping of its
    /// answer (`ok`) or refusal.
    async fn answer<R: ErrorAnswers, T, F: Future<Output = Result<T, GoalError>>>(
        &self,
        (auth, domain, need): (&Auth, &str, Need),
        call: impl FnOnce(GoalService, u32) -> F,
        ok: impl FnOnce(T) -> R,
    ) -> R {
        let goals = GoalService::new(self.state.goals.clone());
        on_site(&self.state, (auth, domain, need), |site, _| call(goals, site.id.0), ok).await
    }
}

impl ApiFailure for GoalError {
    fn answer(self) -> Answer {
        let message = self.to_string();
        match self {
            GoalError::InvalidGoal(_) => Answer::BadRequest("invalid_goal", message),
            GoalError::InvalidFunnel(_) => Answer::BadRequest("invalid_funnel", message),
            GoalError::GoalExists => Answer::BadRequest("goal_exists", message),
            GoalError::NoGoal | GoalError::NoFunnel => Answer::NotFound(message),
            GoalError::Store(_) => Answer::Internal(message),
        }
    }
}

fn funnel_view(f: Funnel) -> FunnelView {
    FunnelView { id: f.id, name: f.name, steps: f.steps.iter().map(spec_of).collect() }
}

fn draft(s: FunnelStepSpec) -> StepDraft {
    StepDraft { page_path: s.page_path, event_name: s.event_name }
}

#[OpenApi(tag = "ApiTags::Reports")]
impl GoalsApi {
    /// List a site's goals.
    #[oai(path = "/sites/:site/goals", method = "get", operation_id = "listGoals")]
    async fn list_goals(&self, auth: Auth, site: Path<String>) -> GoalsResult {
        let call = |goals: GoalService, site| async move { goals.goals(site).await };
        self.answer((&auth, &site.0, Need::Read), call, |list| {
            GoalsResult::List(Json(list.iter().map(goal_view).collect()))
        })
        .await
    }

    /// Create a goal.
    #[oai(path = "/sites/:site/goals", method = "post", operation_id = "createGoal")]
    async fn create_goal(&self, auth: Auth, site: Path<String>, req: Json<CreateGoal>) -> GoalsResult {
        let CreateGoal { display_name, page_path, event_name, currency } = req.0;
        let call = |goals: GoalService, site| async move {
            goals.add_revenue_goal(site, display_name, StepDraft { page_path, event_name }, currency).await
        };
        self.answer((&auth, &site.0, Need::Manage), call, |g| GoalsResult::Created(Json(goal_view(&g)))).await
    }

    /// Delete a goal.
    #[oai(path = "/sites/:site/goals/:id", method = "delete", operation_id = "deleteGoal")]
    async fn delete_goal(&self, auth: Auth, site: Path<String>, id: Path<u32>) -> GoalsResult {
        let call = |goals: GoalService, site| async move { goals.delete_goal(site, id.0).await };
        self.answer((&auth, &site.0, Need::Manage), call, |()| GoalsResult::Deleted).await
    }

    /// List a site's funnels.
    #[oai(path = "/sites/:site/funnels", method = "get", operation_id = "listFunnels")]
    async fn list_funnels(&self, auth: Auth, site: Path<String>) -> FunnelListResult {
        let call = |goals: GoalService, site| async move { goals.funnels(site).await };
        self.answer((&auth, &site.0, Need::Read), call, |list| {
            FunnelListResult::Ok(Json(list.into_iter().map(funnel_view).collect()))
        })
        .await
    }

    /// Create a funnel of 2-8 steps.
    #[oai(path = "/sites/:site/funnels", method = "post", operation_id = "createFunnel")]
    async fn create_funnel(&self, auth: Auth, site: Path<String>, req: Json<CreateFunnel>) -> FunnelsResult {
        let CreateFunnel { name, steps } = req.0;
        let call = |goals: GoalService, site| async move {
            goals.add_funnel(site, &name, steps.into_iter().map(draft).collect()).await
        };
        self.answer((&auth, &site.0, Need::Manage), call, |f| FunnelsResult::Created(Json(funnel_view(f)))).await
    }

    /// A funnel's visitors per step over a period (`date_range` as in queries, default `30d`).
    #[oai(path = "/sites/:site/funnels/:id", method = "get", operation_id = "funnelReport")]
    async fn funnel_report(
        &self,
        auth: Auth,
        site: Path<String>,
        id: Path<u32>,
        /// `30d`, `month`, ... or `YYYY-MM-DD,YYYY-MM-DD`.
        date_range: QueryParam<Option<String>>,
    ) -> FunnelReportResult {
        let site = crate::or_return!(unsegmented_site(&self.state, &auth, &site.0).await);
        match self.state.reports.funnel(site, id.0, date_range.0).await {
            Ok(Some(FunnelReportOf { funnel, period, steps })) => FunnelReportResult::Ok(Json(FunnelReport {
                id: funnel.id,
                name: funnel.name,
                date_range: vec![iso(&period, period.start), iso(&period, period.end - 1)],
                steps: steps
                    .into_iter()
                    .map(|s| FunnelStepReport {
                        label: s.label,
                        visitors: s.visitors,
                        dropoff: s.dropoff,
                        conversion_rate: s.conversion_rate,
                        conversion_rate_step: s.conversion_rate_step,
                    })
                    .collect(),
            })),
            Ok(None) => FunnelReportResult::NotFound(body("not_found", "no such funnel")),
            Err(e) => FunnelReportResult::report_failed(e, "invalid_date_range"),
        }
    }

    /// Delete a funnel.
    #[oai(path = "/sites/:site/funnels/:id", method = "delete", operation_id = "deleteFunnel")]
    async fn delete_funnel(&self, auth: Auth, site: Path<String>, id: Path<u32>) -> FunnelsResult {
        let call = |goals: GoalService, site| async move { goals.delete_funnel(site, id.0).await };
        self.answer((&auth, &site.0, Need::Manage), call, |()| FunnelsResult::Deleted).await
    }
}

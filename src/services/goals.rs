//! Goals and funnels of a site: what may be saved (one step kind each, 2-8 funnel steps, unique
//! goal names) and the one hop to the synchronous goal repository.

use std::sync::Arc;

use super::blocking;
use crate::domain::query::{Goal, GoalKind};
use crate::domain::revenue::is_currency;
use crate::ports::reports::{Funnel, GoalRepository};
use crate::ports::store::StoreError;

/// The fewest and most steps of a funnel.
const FUNNEL_STEPS: std::ops::RangeInclusive<usize> = 2..=8;

/// Refusals of the goal service.
#[derive(Debug, thiserror::Error)]
pub enum GoalError {
    /// The goal is invalid; the message names the problem.
    #[error("{0}")]
    InvalidGoal(String),
    /// The funnel is invalid; the message names the problem.
    #[error("{0}")]
    InvalidFunnel(String),
    #[error("a goal with this display name exists")]
    GoalExists,
    #[error("no such goal")]
    NoGoal,
    #[error("no such funnel")]
    NoFunnel,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A goal or funnel step as the caller wrote it: exactly one of a page pattern and an event name.
#[derive(Debug, Clone, Default)]
pub struct StepDraft {
    pub page_path: Option<String>,
    pub event_name: Option<String>,
}

impl StepDraft {
    /// The step's kind, or why it is none.
    pub fn kind(self) -> Result<GoalKind, String> {
        let page = self.page_path.filter(|p| !p.is_empty());
        match (page, self.event_name.filter(|e| !e.trim().is_empty())) {
            (Some(p), None) if p.starts_with('/') && p.len() <= 2000 => Ok(GoalKind::Page(p)),
            (Some(_), None) => Err("page_path must start with '/'".into()),
            (None, Some(e)) if e.len() <= 120 => Ok(GoalKind::Event(e.trim().to_string())),
            (None, Some(_)) => Err("event_name is longer than 120 characters".into()),
            _ => Err("give exactly one of page_path and event_name".into()),
        }
    }
}

/// Goals and funnels of sites.
#[derive(Clone)]
pub struct GoalService {
    goals: Arc<dyn GoalRepository>,
}

impl GoalService {
    pub fn new(goals: Arc<dyn GoalRepository>) -> Self {
        Self { goals }
    }

    /// A site's goals.
    pub async fn goals(&self, site_id: u32) -> Result<Vec<Goal>, GoalError> {
        let goals = self.goals.clone();
        blocking(move || Ok(goals.goals(site_id)?)).await
    }

    /// Saves a goal; without a display name it is named after its page or event.
    pub async fn add_goal(&self, site_id: u32, name: Option<String>, step: StepDraft) -> Result<Goal, GoalError> {
        self.add_revenue_goal(site_id, name, step, None).await
    }

    /// Saves a goal, with a currency (ISO 4217) a revenue goal: custom event goals only.
    pub async fn add_revenue_goal(
        &self,
        site_id: u32,
        name: Option<String>,
        step: StepDraft,
        currency: Option<String>,
    ) -> Result<Goal, GoalError> {
        let kind = step.kind().map_err(GoalError::InvalidGoal)?;
        let currency = currency.map(|c| c.trim().to_ascii_uppercase());
        match (&currency, &kind) {
            (Some(c), _) if !is_currency(c) => {
                return Err(GoalError::InvalidGoal("currency must be an ISO 4217 code such as EUR".into()));
            }
            (Some(_), GoalKind::Page(_)) => {
                return Err(GoalError::InvalidGoal("revenue goals are custom event goals".into()));
            }
            _ => {}
        }
        let name = name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| match &kind {
            GoalKind::Page(p) => format!("Visit {p}"),
            GoalKind::Event(e) => e.clone(),
        });
        let goals = self.goals.clone();
        blocking(move || {
            if goals.goals(site_id)?.iter().any(|g| g.display_name == name) {
                return Err(GoalError::GoalExists);
            }
            Ok(goals.add_goal(site_id, &name, &kind, currency.as_deref())?)
        })
        .await
    }

    pub async fn delete_goal(&self, site_id: u32, goal_id: u32) -> Result<(), GoalError> {
        let goals = self.goals.clone();
        blocking(move || if goals.delete_goal(site_id, goal_id)? { Ok(()) } else { Err(GoalError::NoGoal) }).await
    }

    /// A site's funnels.
    pub async fn funnels(&self, site_id: u32) -> Result<Vec<Funnel>, GoalError> {
        let goals = self.goals.clone();
        blocking(move || Ok(goals.funnels(site_id)?)).await
    }

    /// Saves a funnel of 2-8 steps under a non-empty name.
    pub async fn add_funnel(&self, site_id: u32, name: &str, steps: Vec<StepDraft>) -> Result<Funnel, GoalError> {
        let invalid = |m: String| GoalError::InvalidFunnel(m);
        if !FUNNEL_STEPS.contains(&steps.len()) {
            return Err(invalid("a funnel has 2 to 8 steps".into()));
        }
        if name.trim().is_empty() {
            return Err(invalid("name must not be empty".into()));
        }
        let steps = (steps.into_iter().enumerate())
            .map(|(i, s)| s.kind().map_err(|m| invalid(format!("step {}: {m}", i + 1))))
            .collect::<Result<Vec<_>, _>>()?;
        let (goals, name) = (self.goals.clone(), name.trim().to_string());
        blocking(move || Ok(goals.add_funnel(site_id, &name, &steps)?)).await
    }

    pub async fn delete_funnel(&self, site_id: u32, funnel_id: u32) -> Result<(), GoalError> {
        let goals = self.goals.clone();
        blocking(move || if goals.delete_funnel(site_id, funnel_id)? { Ok(()) } else { Err(GoalError::NoFunnel) }).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::goals::MemoryGoals;

    fn service() -> GoalService {
        GoalService::new(Arc::new(MemoryGoals::default()))
    }

    fn page(p: &str) -> StepDraft {
        StepDraft { page_path: Some(p.into()), event_name: None }
    }

    #[tokio::test]
    async fn goals_are_named_after_their_page_and_unique_per_site() {
        let goals = service();
        let g = goals.add_goal(1, None, page("/pricing")).await.unwrap();
        assert_eq!(g.display_name, "Visit /pricing");
        let again = goals.add_goal(1, Some(" ".into()), page("/pricing")).await;
        assert!(matches!(again, Err(GoalError::GoalExists)));
        assert!(goals.add_goal(2, None, page("/pricing")).await.is_ok(), "names are unique per site only");
        let both = StepDraft { page_path: Some("/a".into()), event_name: Some("e".into()) };
        assert!(matches!(goals.add_goal(1, None, both).await, Err(GoalError::InvalidGoal(_))));
        assert!(matches!(goals.add_goal(1, None, page("pricing")).await, Err(GoalError::InvalidGoal(_))));
        assert!(matches!(goals.delete_goal(1, 99).await, Err(GoalError::NoGoal)));
        goals.delete_goal(1, g.id).await.unwrap();
        let event = || StepDraft { page_path: None, event_name: Some("Purchase".into()) };
        let paid = goals.add_revenue_goal(1, None, event(), Some("eur".into())).await.unwrap();
        assert_eq!(paid.currency.as_deref(), Some("EUR"));
        let bad = goals.add_revenue_goal(1, Some("x".into()), event(), Some("EURO".into())).await;
        assert!(matches!(bad, Err(GoalError::InvalidGoal(_))));
        let page_goal = goals.add_revenue_goal(1, Some("y".into()), page("/buy"), Some("EUR".into())).await;
        assert!(matches!(page_goal, Err(GoalError::InvalidGoal(m)) if m.contains("custom event")));
        goals.delete_goal(1, paid.id).await.unwrap();
        assert!(goals.goals(1).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn funnels_have_two_to_eight_valid_steps_and_a_name() {
        let goals = service();
        let message = |r: Result<Funnel, GoalError>| match r {
            Err(GoalError::InvalidFunnel(m)) => m,
            other => panic!("expected an invalid funnel, got {other:?}"),
        };
        assert_eq!(message(goals.add_funnel(1, "f", vec![page("/")]).await), "a funnel has 2 to 8 steps");
        assert_eq!(message(goals.add_funnel(1, " ", vec![page("/"), page("/b")]).await), "name must not be empty");
        let bad = goals.add_funnel(1, "f", vec![page("/"), StepDraft::default()]).await;
        assert_eq!(message(bad), "step 2: give exactly one of page_path and event_name");
        let f = goals.add_funnel(1, " Checkout ", vec![page("/"), page("/buy")]).await.unwrap();
        assert_eq!(f.name, "Checkout");
        assert_eq!(goals.funnels(1).await.unwrap().len(), 1);
        assert!(matches!(goals.delete_funnel(2, f.id).await, Err(GoalError::NoFunnel)));
    }
}

//! Goals, funnels and e-mail subscriptions in vectors.

use crate::domain::lifecycle::Frequency;
use crate::domain::query::{Goal, GoalKind};
use crate::ports::reports::{Funnel, GoalRepository};
use crate::ports::store::StoreResult;
use crate::ports::subscriptions::{Subscription, SubscriptionStore};

use super::table::Table;

/// Goals and funnels in memory, each beside its site's id; ids count from 1 like the
/// database's sequences.
#[derive(Default)]
pub struct MemoryGoals {
    goals: Table<(u32, Goal)>,
    funnels: Table<(u32, Funnel)>,
}

impl GoalRepository for MemoryGoals {
    fn goals(&self, site_id: u32) -> StoreResult<Vec<Goal>> {
        Ok(self.goals.select(|(s, _)| *s == site_id).into_iter().map(|(_, g)| g).collect())
    }

    fn add_goal(&self, site_id: u32, display_name: &str, kind: &GoalKind, currency: Option<&str>) -> StoreResult<Goal> {
        let (display_name, currency) = (display_name.to_string(), currency.map(str::to_string));
        Ok(self.goals.add(|id| (site_id, Goal { id, display_name, kind: kind.clone(), currency })).1)
    }

    fn delete_goal(&self, site_id: u32, goal_id: u32) -> StoreResult<bool> {
        Ok(self.goals.delete(|(s, g)| *s == site_id && g.id == goal_id) > 0)
    }

    fn funnels(&self, site_id: u32) -> StoreResult<Vec<Funnel>> {
        Ok(self.funnels.select(|(s, _)| *s == site_id).into_iter().map(|(_, f)| f).collect())
    }

    fn add_funnel(&self, site_id: u32, name: &str, steps: &[GoalKind]) -> StoreResult<Funnel> {
        Ok(self.funnels.add(|id| (site_id, Funnel { id, name: name.to_string(), steps: steps.to_vec() })).1)
    }

    fn delete_funnel(&self, site_id: u32, funnel_id: u32) -> StoreResult<bool> {
        Ok(self.funnels.delete(|(s, f)| *s == site_id && f.id == funnel_id) > 0)
    }
}

/// E-mail report subscriptions in memory, listed like the database lists them.
#[derive(Default)]
pub struct MemorySubscriptions {
    all: Table<Subscription>,
}

fn same(s: &Subscription, site_id: u32, email: &str, frequency: Frequency) -> bool {
    s.site_id == site_id && s.email == email && s.frequency == frequency
}

impl SubscriptionStore for MemorySubscriptions {
    fn subscriptions(&self, site_id: Option<u32>) -> StoreResult<Vec<Subscription>> {
        let mut list = self.all.select(|s| site_id.is_none_or(|id| s.site_id == id));
        list.sort_by(|a, b| {
            (a.site_id, &a.email, a.frequency.as_str()).cmp(&(b.site_id, &b.email, b.frequency.as_str()))
        });
        Ok(list)
    }

    fn subscribe(&self, site_id: u32, email: &str, frequency: Frequency) -> StoreResult<bool> {
        let added = self.all.add_unless(
            |s| same(s, site_id, email, frequency),
            |_| Subscription { site_id, email: email.to_string(), frequency, last_period: None },
        );
        Ok(added.is_ok())
    }

    fn unsubscribe(&self, site_id: u32, email: &str, frequency: Frequency) -> StoreResult<bool> {
        Ok(self.all.delete(|s| same(s, site_id, email, frequency)) > 0)
    }

    fn mark_sent(&self, site_id: u32, email: &str, frequency: Frequency, period: &str) -> StoreResult<()> {
        self.all.update_all(|s| same(s, site_id, email, frequency), |s| s.last_period = Some(period.to_string()));
        Ok(())
    }
}

crate::conformance_tests!(goal_repository: MemoryGoals::default, subscription_store: MemorySubscriptions::default);

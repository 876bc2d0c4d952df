//! Goals, funnels and e-mail subscriptions in vectors.

use std::sync::Mutex;

use crate::domain::lifecycle::Frequency;
use crate::domain::query::{Goal, GoalKind};
use crate::ports::reports::{Funnel, GoalRepository};
use crate::ports::store::StoreError;
use crate::ports::subscriptions::{Subscription, SubscriptionStore};

/// Goals and funnels in memory; ids count from 1 like the database's sequences.
#[derive(Default)]
pub struct MemoryGoals {
    goals: Mutex<(u32, Vec<(u32, Goal)>)>,
    funnels: Mutex<(u32, Vec<(u32, Funnel)>)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes the item of a site with an id; `false` when there was none.
fn remove<T>(items: &mut Vec<(u32, T)>, site_id: u32, id: impl Fn(&T) -> u32, wanted: u32) -> bool {
    let before = items.len();
    items.retain(|(site, item)| !(*site == site_id && id(item) == wanted));
    items.len() < before
}

impl GoalRepository for MemoryGoals {
    fn goals(&self, site_id: u32) -> Result<Vec<Goal>, StoreError> {
        Ok(lock(&self.goals).1.iter().filter(|(s, _)| *s == site_id).map(|(_, g)| g.clone()).collect())
    }

    fn add_goal(
        &self,
        site_id: u32,
        display_name: &str,
        kind: &GoalKind,
        currency: Option<&str>,
    ) -> Result<Goal, StoreError> {
        let mut guard = lock(&self.goals);
        guard.0 += 1;
        let (display_name, currency) = (display_name.to_string(), currency.map(str::to_string));
        let goal = Goal { id: guard.0, display_name, kind: kind.clone(), currency };
        guard.1.push((site_id, goal.clone()));
        Ok(goal)
    }

    fn delete_goal(&self, site_id: u32, goal_id: u32) -> Result<bool, StoreError> {
        Ok(remove(&mut lock(&self.goals).1, site_id, |g| g.id, goal_id))
    }

    fn funnels(&self, site_id: u32) -> Result<Vec<Funnel>, StoreError> {
        Ok(lock(&self.funnels).1.iter().filter(|(s, _)| *s == site_id).map(|(_, f)| f.clone()).collect())
    }

    fn add_funnel(&self, site_id: u32, name: &str, steps: &[GoalKind]) -> Result<Funnel, StoreError> {
        let mut guard = lock(&self.funnels);
        guard.0 += 1;
        let funnel = Funnel { id: guard.0, name: name.to_string(), steps: steps.to_vec() };
        guard.1.push((site_id, funnel.clone()));
        Ok(funnel)
    }

    fn delete_funnel(&self, site_id: u32, funnel_id: u32) -> Result<bool, StoreError> {
        Ok(remove(&mut lock(&self.funnels).1, site_id, |f| f.id, funnel_id))
    }
}

/// E-mail report subscriptions in memory, listed like the database lists them.
#[derive(Default)]
pub struct MemorySubscriptions {
    all: Mutex<Vec<Subscription>>,
}

fn same(s: &Subscription, site_id: u32, email: &str, frequency: Frequency) -> bool {
    s.site_id == site_id && s.email == email && s.frequency == frequency
}

impl SubscriptionStore for MemorySubscriptions {
    fn subscriptions(&self, site_id: Option<u32>) -> Result<Vec<Subscription>, StoreError> {
        let mut list: Vec<Subscription> =
            lock(&self.all).iter().filter(|s| site_id.is_none_or(|id| s.site_id == id)).cloned().collect();
        list.sort_by(|a, b| {
            (a.site_id, &a.email, a.frequency.as_str()).cmp(&(b.site_id, &b.email, b.frequency.as_str()))
        });
        Ok(list)
    }

    fn subscribe(&self, site_id: u32, email: &str, frequency: Frequency) -> Result<bool, StoreError> {
        let mut all = lock(&self.all);
        if all.iter().any(|s| same(s, site_id, email, frequency)) {
            return Ok(false);
        }
        all.push(Subscription { site_id, email: email.to_string(), frequency, last_period: None });
        Ok(true)
    }

    fn unsubscribe(&self, site_id: u32, email: &str, frequency: Frequency) -> Result<bool, StoreError> {
        let mut all = lock(&self.all);
        let before = all.len();
        all.retain(|s| !same(s, site_id, email, frequency));
        Ok(all.len() < before)
    }

    fn mark_sent(&self, site_id: u32, email: &str, frequency: Frequency, period: &str) -> Result<(), StoreError> {
        for s in lock(&self.all).iter_mut().filter(|s| same(s, site_id, email, frequency)) {
            s.last_period = Some(period.to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod conformance {
    #[test]
    fn passes_the_goal_repository_conformance_suite() {
        crate::ports::conformance::goal_repository(super::MemoryGoals::default);
    }

    #[test]
    fn passes_the_subscription_store_conformance_suite() {
        crate::ports::conformance::subscription_store(super::MemorySubscriptions::default);
    }
}

//! Report queries and the goals and funnels they use.

use crate::domain::imports::merge::TotalsRow;
use crate::domain::query::{Goal, GoalKind, Period, Query, QueryResult};
use crate::ports::store::StoreResult;

/// Additive totals per group, and whether their visitor counts are estimates.
pub type GroupTotals = (Vec<TotalsRow>, bool);

/// Runs report queries against stored events.
pub trait ReportStore: Send + Sync {
    /// Answers `q` over `period` (the query's own period or its comparison).
    fn query(&self, site_id: u32, q: &Query, period: &Period, goals: &[Goal]) -> StoreResult<QueryResult>;
    /// Additive totals per group of `q` (visitors, pageviews, visits, bounces, total visit
    /// seconds), unsorted and unpaged, to be summed with imported history; and whether visitor
    /// counts are estimates.
    fn query_totals(&self, site_id: u32, q: &Query, period: &Period, goals: &[Goal]) -> StoreResult<GroupTotals>;
    /// The first event's time, for `"all"`.
    fn first_event_micros(&self, site_id: u32) -> StoreResult<Option<i64>>;
    /// Distinct visitors since a time (realtime).
    fn current_visitors(&self, site_id: u32, since_micros: i64) -> StoreResult<u64>;
    /// Visitors reaching each funnel step in order within one visit.
    fn funnel(&self, site_id: u32, period: &Period, steps: &[GoalKind]) -> StoreResult<Vec<u64>>;
    /// Web Vitals per metric over a period, optionally for one page.
    fn web_vitals(&self, site_id: u32, period: &Period, page: Option<&str>) -> StoreResult<Vec<VitalSummary>>;
}

/// One Web Vitals metric over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct VitalSummary {
    pub metric: String,
    pub samples: u64,
    /// The 75th percentile, the value Core Web Vitals are judged by.
    pub p75: f64,
    /// Percent of samples rated good / needs-improvement / poor.
    pub good: f64,
    pub needs_improvement: f64,
    pub poor: f64,
}

/// A saved funnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funnel {
    pub id: u32,
    pub name: String,
    pub steps: Vec<GoalKind>,
}

/// Goals and funnels of sites.
pub trait GoalRepository: Send + Sync {
    fn goals(&self, site_id: u32) -> StoreResult<Vec<Goal>>;
    /// Saves a goal; `currency` makes it a revenue goal.
    fn add_goal(&self, site_id: u32, display_name: &str, kind: &GoalKind, currency: Option<&str>) -> StoreResult<Goal>;
    /// `false` when no such goal.
    fn delete_goal(&self, site_id: u32, goal_id: u32) -> StoreResult<bool>;
    fn funnels(&self, site_id: u32) -> StoreResult<Vec<Funnel>>;
    fn add_funnel(&self, site_id: u32, name: &str, steps: &[GoalKind]) -> StoreResult<Funnel>;
    fn delete_funnel(&self, site_id: u32, funnel_id: u32) -> StoreResult<bool>;
}

//! A small result cache in front of a report engine, keyed by site, query, period, goals and
//! the site's data version: the writer bumps the version after each stored batch (it is a
//! `BatchObserver`), so an answer is reused only while no new data arrived for its site.
//! Identical queries asked at once run once; the others wait for its answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use quick_cache::sync::{Cache, GuardResult};

use crate::domain::query::{Goal, GoalKind, Period, Query, QueryResult};
use crate::ports::notify::BatchObserver;
use crate::ports::reports::{GroupTotals, ReportStore, VitalSummary};
use crate::ports::store::{StoreError, StoreResult};

/// How long an answer is reused at most. Versions cover everything the writer stores; this
/// bounds staleness after changes made around it (retention deletes, restores).
const MAX_AGE: Duration = Duration::from_secs(60);

/// Per-site data versions, bumped after each stored batch.
#[derive(Default)]
pub struct DataVersions {
    versions: Mutex<HashMap<u32, u64>>,
}

impl DataVersions {
    /// The site's current version (0 until its first stored batch).
    pub fn of(&self, site_id: u32) -> u64 {
        self.versions.lock().get(&site_id).copied().unwrap_or(0)
    }
}

impl BatchObserver for DataVersions {
    fn stored(&self, site_ids: &[u32]) {
        let mut versions = self.versions.lock();
        for site in site_ids {
            *versions.entry(*site).or_default() += 1;
        }
    }
}

/// A cached answer: when it was computed, and what.
#[derive(Clone)]
enum Answer {
    Query(Arc<QueryResult>),
    Funnel(Arc<Vec<u64>>),
}

/// The report engine with a result cache in front of `query` and `funnel`.
pub struct CachedReports {
    inner: Arc<dyn ReportStore>,
    versions: Arc<DataVersions>,
    cache: Cache<String, (Instant, Answer)>,
}

impl CachedReports {
    /// Keeps up to `entries` answers (at least one).
    pub fn new(inner: Arc<dyn ReportStore>, versions: Arc<DataVersions>, entries: usize) -> Self {
        Self { inner, versions, cache: Cache::new(entries.max(1)) }
    }

    /// The cached answer for `key`, or `compute`'s (stored when it succeeds). Concurrent callers
    /// with the same key wait for the first one's answer.
    fn cached(&self, key: String, compute: impl FnOnce() -> StoreResult<Answer>) -> StoreResult<Answer> {
        loop {
            match self.cache.get_value_or_guard(&key, Some(Duration::from_secs(30))) {
                GuardResult::Value((at, answer)) if at.elapsed() < MAX_AGE => return Ok(answer),
                GuardResult::Value(_) => {
                    // Too old: drop it and compute again (under a fresh guard).
                    self.cache.remove(&key);
                }
                GuardResult::Guard(guard) => {
                    let answer = compute()?;
                    let _ = guard.insert((Instant::now(), answer.clone()));
                    return Ok(answer);
                }
                GuardResult::Timeout => return compute(),
            }
        }
    }

    fn key(&self, site_id: u32, what: std::fmt::Arguments) -> String {
        format!("{site_id}/{}/{what}", self.versions.of(site_id))
    }
}

impl ReportStore for CachedReports {
    fn query(&self, site_id: u32, q: &Query, period: &Period, goals: &[Goal]) -> StoreResult<QueryResult> {
        let key = self.key(site_id, format_args!("q/{q:?}/{period:?}/{goals:?}"));
        match self.cached(key, || self.inner.query(site_id, q, period, goals).map(|r| Answer::Query(Arc::new(r))))? {
            Answer::Query(r) => Ok((*r).clone()),
            Answer::Funnel(_) => Err(StoreError::Internal("report cache: a funnel under a query's key".into())),
        }
    }

    fn funnel(&self, site_id: u32, period: &Period, steps: &[GoalKind]) -> StoreResult<Vec<u64>> {
        let key = self.key(site_id, format_args!("f/{period:?}/{steps:?}"));
        match self.cached(key, || self.inner.funnel(site_id, period, steps).map(|r| Answer::Funnel(Arc::new(r))))? {
            Answer::Funnel(r) => Ok((*r).clone()),
            Answer::Query(_) => Err(StoreError::Internal("report cache: a query under a funnel's key".into())),
        }
    }

    fn query_totals(&self, site_id: u32, q: &Query, period: &Period, goals: &[Goal]) -> StoreResult<GroupTotals> {
        self.inner.query_totals(site_id, q, period, goals)
    }

    fn first_event_micros(&self, site_id: u32) -> StoreResult<Option<i64>> {
        self.inner.first_event_micros(site_id)
    }

    fn current_visitors(&self, site_id: u32, since_micros: i64) -> StoreResult<u64> {
        self.inner.current_visitors(site_id, since_micros)
    }

    fn web_vitals(&self, site_id: u32, period: &Period, page: Option<&str>) -> StoreResult<Vec<VitalSummary>> {
        self.inner.web_vitals(site_id, period, page)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use serde_json::json;

    use super::*;
    use crate::domain::query::{Cell, ResultRow, parse_query};

    /// Answers every query with the number of queries it has run so far.
    #[derive(Default)]
    struct Counting(AtomicU64);

    impl ReportStore for Counting {
        fn query(&self, _: u32, _: &Query, _: &Period, _: &[Goal]) -> StoreResult<QueryResult> {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            std::thread::sleep(Duration::from_millis(20));
            Ok(QueryResult {
                rows: vec![ResultRow { dimensions: vec![], metrics: vec![Cell::UInt(n)] }],
                ..Default::default()
            })
        }
        fn funnel(&self, _: u32, _: &Period, _: &[GoalKind]) -> StoreResult<Vec<u64>> {
            Ok(vec![self.0.fetch_add(1, Ordering::SeqCst) + 1])
        }
        fn query_totals(&self, _: u32, _: &Query, _: &Period, _: &[Goal]) -> StoreResult<GroupTotals> {
            Ok((vec![], false))
        }
        fn first_event_micros(&self, _: u32) -> StoreResult<Option<i64>> {
            Ok(None)
        }
        fn current_visitors(&self, _: u32, _: i64) -> StoreResult<u64> {
            Ok(0)
        }
        fn web_vitals(&self, _: u32, _: &Period, _: Option<&str>) -> StoreResult<Vec<VitalSummary>> {
            Ok(vec![])
        }
    }

    fn query(metric: &str) -> Query {
        let v = json!({"site_id": "a.test", "date_range": "7d", "metrics": [metric]});
        parse_query(&v, chrono_tz::UTC, 1_710_496_800_000_000, None).expect("valid")
    }

    fn answer(c: &CachedReports, site: u32, q: &Query) -> Cell {
        c.query(site, q, &q.period, &[]).expect("answer").rows[0].metrics[0].clone()
    }

    #[test]
    fn answers_are_reused_until_the_sites_data_changes() {
        let versions = Arc::new(DataVersions::default());
        let c = CachedReports::new(Arc::new(Counting::default()), versions.clone(), 16);
        let (visitors, pageviews) = (query("visitors"), query("pageviews"));
        assert_eq!(answer(&c, 1, &visitors), Cell::UInt(1));
        assert_eq!(answer(&c, 1, &visitors), Cell::UInt(1), "same query, same data: reused");
        assert_eq!(answer(&c, 1, &pageviews), Cell::UInt(2), "another query runs");
        assert_eq!(answer(&c, 2, &visitors), Cell::UInt(3), "another site runs");
        versions.stored(&[2]);
        assert_eq!(answer(&c, 1, &visitors), Cell::UInt(1), "site 1 unchanged: still reused");
        assert_eq!(answer(&c, 2, &visitors), Cell::UInt(4), "site 2 got data: asked again");
        let p = &visitors.period;
        assert_eq!(c.funnel(1, p, &[GoalKind::Event("a".into())]).expect("funnel"), vec![5]);
        assert_eq!(c.funnel(1, p, &[GoalKind::Event("a".into())]).expect("funnel"), vec![5]);
    }

    #[test]
    fn identical_queries_asked_at_once_run_once() {
        let inner = Arc::new(Counting::default());
        let c = Arc::new(CachedReports::new(inner.clone(), Arc::new(DataVersions::default()), 16));
        let q = query("visitors");
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (c, q) = (c.clone(), q.clone());
                std::thread::spawn(move || answer(&c, 1, &q))
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().expect("thread"), Cell::UInt(1));
        }
        assert_eq!(inner.0.load(Ordering::SeqCst), 1);
    }
}

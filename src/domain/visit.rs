//! Visits (sessions): a visitor's events with gaps under 30 minutes, decided on the server from
//! in-memory state, so the cost per event is constant however large the table grows.

use std::collections::HashMap;

use super::visitor::VisitorKey;

/// Default inactivity that ends a visit.
pub const VISIT_TIMEOUT_MICROS: i64 = 30 * 60 * 1_000_000;

#[derive(Debug, Clone)]
struct ActiveVisit<S> {
    visitor_id: u64,
    visit_id: u64,
    last_seen: i64,
    /// What the visit carries from its first event to all later ones (its traffic source).
    attrs: S,
}

/// A visit still open when the process (re)starts, read back from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenVisit<S> {
    pub visitor_id: u64,
    pub visit_id: u64,
    pub last_seen: i64,
    pub attrs: S,
}

/// The visitor id to store and the visit an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment<S> {
    pub visitor_id: u64,
    pub visit_id: u64,
    /// The event opened a new visit.
    pub new_visit: bool,
    /// The visit's attributes (from its first event).
    pub attrs: S,
}

/// Assigns events to visits. Visit ids are increasing integers (they compress far better than
/// random ids); the next id continues after the largest stored one. `S` is what a visit keeps
/// from its first event (e.g. its source), handed to every later event of the visit.
#[derive(Debug)]
pub struct Sessionizer<S> {
    active: HashMap<u64, ActiveVisit<S>>,
    next_visit_id: u64,
    timeout: i64,
    last_prune: i64,
}

impl<S: Clone> Sessionizer<S> {
    pub fn new(next_visit_id: u64, timeout: i64, open: impl IntoIterator<Item = OpenVisit<S>>) -> Self {
        let active = open
            .into_iter()
            .map(|v| {
                (
                    v.visitor_id,
                    ActiveVisit {
                        visitor_id: v.visitor_id,
                        visit_id: v.visit_id,
                        last_seen: v.last_seen,
                        attrs: v.attrs,
                    },
                )
            })
            .collect();
        Self { active, next_visit_id: next_visit_id.max(1), timeout, last_prune: i64::MIN }
    }

    /// Places an event of `key` at time `ts` (microseconds) in a visit; `attrs` are taken only
    /// when the event opens a new visit.
    pub fn assign(&mut self, key: VisitorKey, ts: i64, attrs: impl FnOnce() -> S) -> Assignment<S> {
        self.prune(ts);
        let timeout = self.timeout;
        let alive = |v: &ActiveVisit<S>| ts - v.last_seen < timeout;
        if let Some(v) = self.active.get_mut(&key.current).filter(|v| alive(v)) {
            v.last_seen = v.last_seen.max(ts);
            return Assignment {
                visitor_id: v.visitor_id,
                visit_id: v.visit_id,
                new_visit: false,
                attrs: v.attrs.clone(),
            };
        }
        // A visit that began before midnight continues under yesterday's id.
        if let Some(prev) = key.previous
            && let Some(v) = self.active.get(&prev).filter(|v| alive(v)).cloned()
        {
            let v = ActiveVisit { last_seen: v.last_seen.max(ts), ..v };
            let assignment =
                Assignment { visitor_id: v.visitor_id, visit_id: v.visit_id, new_visit: false, attrs: v.attrs.clone() };
            self.active.insert(prev, v.clone());
            self.active.insert(key.current, v);
            return assignment;
        }
        let visit_id = self.next_visit_id;
        self.next_visit_id += 1;
        let attrs = attrs();
        self.active.insert(
            key.current,
            ActiveVisit { visitor_id: key.current, visit_id, last_seen: ts, attrs: attrs.clone() },
        );
        Assignment { visitor_id: key.current, visit_id, new_visit: true, attrs }
    }

    /// Visits open now (for tests and metrics).
    pub fn open_visits(&self) -> usize {
        self.active.len()
    }

    fn prune(&mut self, now: i64) {
        // Sweep at most once a minute of event time: amortised O(1) per event.
        if now.saturating_sub(self.last_prune) < 60_000_000 {
            return;
        }
        self.last_prune = now;
        let timeout = self.timeout;
        self.active.retain(|_, v| now - v.last_seen < timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    fn key(current: u64) -> VisitorKey {
        VisitorKey { current, previous: None }
    }

    #[test]
    fn gaps_under_thirty_minutes_stay_in_one_visit() {
        let mut s: Sessionizer<()> = Sessionizer::new(1, VISIT_TIMEOUT_MICROS, []);
        let a = s.assign(key(7), 0, || ());
        assert!(a.new_visit);
        assert_eq!(s.assign(key(7), 29 * MIN, || ()).visit_id, a.visit_id);
        assert_eq!(s.assign(key(7), 58 * MIN, || ()).visit_id, a.visit_id, "the gap counts from the last event");
        let b = s.assign(key(7), 88 * MIN, || ());
        assert!(b.new_visit, "exactly 30 minutes of silence ends the visit");
        assert_ne!(b.visit_id, a.visit_id);
        let other = s.assign(key(8), 88 * MIN, || ());
        assert_ne!(other.visit_id, b.visit_id, "visitors never share visits");
    }

    #[test]
    fn midnight_bridged_by_yesterdays_id() {
        let mut s: Sessionizer<()> = Sessionizer::new(1, VISIT_TIMEOUT_MICROS, []);
        let before = s.assign(key(100), 0, || ());
        let after = s.assign(VisitorKey { current: 200, previous: Some(100) }, 10 * MIN, || ());
        assert_eq!(after.visit_id, before.visit_id);
        assert_eq!(after.visitor_id, 100, "the visitor keeps one id for the whole visit");
        assert_eq!(s.assign(key(200), 20 * MIN, || ()).visit_id, before.visit_id);
    }

    #[test]
    fn resumes_open_visits_and_numbering() {
        let open = [OpenVisit { visitor_id: 5, visit_id: 41, last_seen: 0, attrs: "google" }];
        let mut s = Sessionizer::new(42, VISIT_TIMEOUT_MICROS, open);
        let resumed = s.assign(key(5), 5 * MIN, || "direct");
        assert_eq!((resumed.visit_id, resumed.attrs), (41, "google"), "a resumed visit keeps its source");
        let fresh = s.assign(key(6), 5 * MIN, || "direct");
        assert_eq!((fresh.visit_id, fresh.attrs), (42, "direct"));
    }

    #[test]
    fn stale_visits_are_pruned() {
        let mut s: Sessionizer<()> = Sessionizer::new(1, VISIT_TIMEOUT_MICROS, []);
        for v in 0..100 {
            s.assign(key(v), 0, || ());
        }
        s.assign(key(1000), 120 * MIN, || ());
        assert_eq!(s.open_visits(), 1);
    }
}

//! Visits (sessions): a visitor's events with gaps under 30 minutes, decided on the server from
//! in-memory state, so the cost per event is constant however large the table grows.

use std::collections::HashMap;

use super::event::{PreviousPage, VisitStats};
use super::visitor::VisitorKey;
use super::visitor_numbers::{FIRST_NUMBER, VisitorNumber, VisitorNumbers};

/// Default inactivity that ends a visit.
pub const VISIT_TIMEOUT_MICROS: i64 = 30 * 60 * 1_000_000;

#[derive(Debug, Clone)]
struct ActiveVisit<S> {
    visitor_id: u64,
    visit_id: u64,
    last_seen: i64,
    /// When its latest event (in arrival order, late ones aside) is stored: see `stored_at`.
    last_at: i64,
    /// Events so far, and whether the first was a pageview (for the bounce bookkeeping).
    events: u32,
    first_pageview: bool,
    /// What the visit carries from its first event to all later ones (its traffic source).
    attrs: S,
    /// The latest pageview's page and time.
    last_pageview: Option<(String, i64)>,
}

/// A visit still open when the process (re)starts, read back from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenVisit<S> {
    pub visitor_id: u64,
    pub visit_id: u64,
    pub last_seen: i64,
    pub events: u32,
    pub first_pageview: bool,
    pub attrs: S,
    /// The latest pageview's page and time (microseconds).
    pub last_pageview: Option<(String, i64)>,
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
    /// This event's share of the visit's numbers.
    pub stats: VisitStats,
    /// When the event is stored (microseconds, a whole millisecond): see `ActiveVisit::stored_at`.
    pub at: i64,
}

/// Events are stored to the millisecond: `ts` (microseconds) down to its whole millisecond.
fn whole_ms(ts: i64) -> i64 {
    ts - ts.rem_euclid(1000)
}

impl<S> ActiveVisit<S> {
    /// When an event at `ts` is stored. One not older than the visit's latest is stored at least
    /// a millisecond after it, so a visit's order survives in the stored times (its entry and
    /// exit pages, funnel steps, time on page): a page and an event sent within one millisecond
    /// would tie. A late event keeps its own time.
    fn stored_at(&mut self, ts: i64) -> i64 {
        if ts < self.last_seen {
            return whole_ms(ts);
        }
        self.last_at = whole_ms(ts).max(self.last_at + 1000);
        self.last_at
    }
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
    /// Most visits held open; beyond it the least recently seen tenth is closed early, so memory
    /// stays bounded under any load (a flood of new visitors included).
    max_open: usize,
    evicted: u64,
    /// Visitor numbers to store instead of visitor keys; without them the key is stored.
    numbers: Option<VisitorNumbers>,
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
                        last_at: whole_ms(v.last_seen),
                        events: v.events,
                        first_pageview: v.first_pageview,
                        attrs: v.attrs,
                        last_pageview: v.last_pageview,
                    },
                )
            })
            .collect();
        Self {
            active,
            next_visit_id: next_visit_id.max(1),
            timeout,
            last_prune: i64::MIN,
            max_open: usize::MAX,
            evicted: 0,
            numbers: None,
        }
    }

    /// Stores visitor numbers (see `visitor_numbers`) instead of keys. Resumed visits are found
    /// by their key again; one stored before numbering keeps its id for its visitor.
    pub fn with_numbers(mut self, mut numbers: VisitorNumbers) -> Self {
        let key_of = numbers.key_of();
        let resumed: Vec<(u64, ActiveVisit<S>)> = self.active.drain().collect();
        for (id, visit) in resumed {
            let key = match key_of.get(&id) {
                Some(key) => *key,
                None if id < FIRST_NUMBER => {
                    numbers.keep_unnumbered(id, visit.last_seen);
                    id
                }
                // A number no longer remembered: its key's day is over, nothing can continue it.
                None => continue,
            };
            self.active.insert(key, visit);
        }
        self.numbers = Some(numbers);
        self
    }

    /// The visitor numbers given since the last call, for the store to remember.
    pub fn take_given_numbers(&mut self) -> Vec<VisitorNumber> {
        self.numbers.as_mut().map(VisitorNumbers::take_given).unwrap_or_default()
    }

    /// Bounds the number of open visits (at least 10).
    pub fn with_max_open(mut self, max_open: usize) -> Self {
        self.max_open = max_open.max(10);
        self
    }

    /// Visits closed early because the bound was reached.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Places an event of `key` at time `ts` (microseconds) in a visit; `attrs` are taken only
    /// when the event opens a new visit.
    /// The open visit `key` belongs to at `ts`, untouched: reports that are no event (engagement)
    /// join their page view's visit without counting as its next event.
    pub fn peek(&self, key: VisitorKey, ts: i64) -> Option<(u64, u64)> {
        let alive = |v: &&ActiveVisit<S>| ts - v.last_seen < self.timeout;
        let v = self
            .active
            .get(&key.current)
            .filter(alive)
            .or_else(|| key.previous.and_then(|p| self.active.get(&p)).filter(alive))?;
        Some((v.visitor_id, v.visit_id))
    }

    pub fn assign(&mut self, key: VisitorKey, ts: i64, pageview: bool, attrs: impl FnOnce() -> S) -> Assignment<S> {
        self.prune(ts);
        let timeout = self.timeout;
        let alive = |v: &ActiveVisit<S>| ts - v.last_seen < timeout;
        let continued = if self.active.get(&key.current).is_some_and(&alive) {
            Some(key.current)
        } else {
            // A visit that began before midnight continues under yesterday's id.
            key.previous.filter(|prev| self.active.get(prev).is_some_and(&alive))
        };
        if let Some(found) = continued {
            let v = self.active.get_mut(&found).expect("present");
            let at = v.stored_at(ts);
            let stats = VisitStats {
                visit_start: false,
                bounce_delta: if v.events == 1 && v.first_pageview { -1 } else { 0 },
                duration_delta: (ts.div_euclid(1_000_000) - v.last_seen.div_euclid(1_000_000)).max(0) as u32,
                previous_page: None,
            };
            v.events += 1;
            v.last_seen = v.last_seen.max(ts);
            let assignment = Assignment {
                visitor_id: v.visitor_id,
                visit_id: v.visit_id,
                new_visit: false,
                attrs: v.attrs.clone(),
                stats,
                at,
            };
            if found != key.current {
                // Continued under today's id: today's key finds it from now on.
                if let Some(v) = self.active.get(&found).cloned() {
                    self.active.insert(key.current, v);
                }
            }
            return assignment;
        }
        let visit_id = self.next_visit_id;
        self.next_visit_id += 1;
        let attrs = attrs();
        let visitor_id = self.numbers.as_mut().map_or(key.current, |n| n.number(key.current, ts));
        let visit = ActiveVisit {
            visitor_id,
            visit_id,
            last_seen: ts,
            last_at: whole_ms(ts),
            events: 1,
            first_pageview: pageview,
            attrs: attrs.clone(),
            last_pageview: None,
        };
        self.active.insert(key.current, visit);
        if self.active.len() > self.max_open {
            self.evict();
        }
        let stats =
            VisitStats { visit_start: true, bounce_delta: pageview as i8, duration_delta: 0, previous_page: None };
        Assignment { visitor_id, visit_id, new_visit: true, attrs, stats, at: whole_ms(ts) }
    }

    /// Records a pageview of `path` at `ts` in the visit `visitor` has open (call after
    /// [`Sessionizer::assign`]); returns the visit's previous pageview, if any, and its gap.
    pub fn follow_page(&mut self, visitor: u64, path: &str, ts: i64) -> Option<PreviousPage> {
        let v = self.active.get_mut(&visitor)?;
        let (path, at) = v.last_pageview.replace((path.to_string(), ts))?;
        let gap_ms = ((ts - at) / 1000).clamp(0, u32::MAX as i64) as u32;
        Some(PreviousPage { path, gap_ms })
    }

    /// Visits open now (for tests and metrics).
    pub fn open_visits(&self) -> usize {
        self.active.len()
    }

    /// Closes the least recently seen visits down to nine tenths of the bound: O(n) once per
    /// `max_open / 10` new visits, so amortised O(1) per event.
    fn evict(&mut self) {
        let keep = self.max_open - self.max_open / 10;
        let mut seen: Vec<i64> = self.active.values().map(|v| v.last_seen).collect();
        let drop_count = seen.len() - keep;
        let (_, cutoff, _) = seen.select_nth_unstable(drop_count - 1);
        let cutoff = *cutoff;
        let before = self.active.len();
        self.active.retain(|_, v| v.last_seen > cutoff);
        self.evicted += (before - self.active.len()) as u64;
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
        let a = s.assign(key(7), 0, true, || ());
        assert!(a.new_visit);
        assert_eq!(s.assign(key(7), 29 * MIN, true, || ()).visit_id, a.visit_id);
        assert_eq!(s.assign(key(7), 58 * MIN, true, || ()).visit_id, a.visit_id, "the gap counts from the last event");
        let b = s.assign(key(7), 88 * MIN, true, || ());
        assert!(b.new_visit, "exactly 30 minutes of silence ends the visit");
        assert_ne!(b.visit_id, a.visit_id);
        let other = s.assign(key(8), 88 * MIN, true, || ());
        assert_ne!(other.visit_id, b.visit_id, "visitors never share visits");
    }

    #[test]
    fn peeking_joins_the_open_visit_without_counting_as_its_event() {
        let mut s: Sessionizer<()> = Sessionizer::new(1, VISIT_TIMEOUT_MICROS, []);
        assert_eq!(s.peek(key(7), 0), None, "no visit open yet");
        let a = s.assign(key(7), 0, true, || ());
        assert_eq!(s.peek(key(7), 10 * MIN), Some((7, a.visit_id)));
        assert_eq!(s.peek(key(7), 10 * MIN), Some((7, a.visit_id)));
        let second = s.assign(key(7), 20 * MIN, true, || ());
        assert_eq!(second.stats.bounce_delta, -1, "peeks did not count: this is the visit's second event");
        assert_eq!(second.stats.duration_delta, 20 * 60, "peeks did not move last_seen");
        assert_eq!(s.peek(key(7), 51 * MIN), None, "the visit timed out");
    }

    #[test]
    fn open_visits_are_bounded_by_closing_the_least_recently_seen() {
        let mut s: Sessionizer<()> = Sessionizer::new(1, VISIT_TIMEOUT_MICROS, []).with_max_open(100);
        for v in 0..100 {
            s.assign(key(v), v as i64, true, || ());
        }
        assert_eq!((s.open_visits(), s.evicted()), (100, 0));
        s.assign(key(1000), 1000, true, || ());
        assert_eq!(s.open_visits(), 90, "down to nine tenths");
        assert_eq!(s.evicted(), 11, "the eleven least recently seen");
        assert!(!s.assign(key(50), 2000, true, || ()).new_visit, "recent visits stay open");
        assert!(s.assign(key(3), 2000, true, || ()).new_visit, "an evicted visitor starts a new visit");
        for v in 0..100_000u64 {
            s.assign(key(10_000 + v), 3000 + v as i64, true, || ());
            assert!(s.open_visits() <= 100);
        }
    }

    #[test]
    fn midnight_bridged_by_yesterdays_id() {
        let mut s: Sessionizer<()> = Sessionizer::new(1, VISIT_TIMEOUT_MICROS, []);
        let before = s.assign(key(100), 0, true, || ());
        let after = s.assign(VisitorKey { current: 200, previous: Some(100) }, 10 * MIN, true, || ());
        assert_eq!(after.visit_id, before.visit_id);
        assert_eq!(after.visitor_id, 100, "the visitor keeps one id for the whole visit");
        assert_eq!(s.assign(key(200), 20 * MIN, true, || ()).visit_id, before.visit_id);
    }

    #[test]
    fn resumes_open_visits_and_numbering() {
        let open = [OpenVisit {
            visitor_id: 5,
            visit_id: 41,
            last_seen: 0,
            events: 1,
            first_pageview: true,
            attrs: "google",
            last_pageview: None,
        }];
        let mut s = Sessionizer::new(42, VISIT_TIMEOUT_MICROS, open);
        let resumed = s.assign(key(5), 5 * MIN, true, || "direct");
        assert_eq!(resumed.stats.bounce_delta, -1, "the resumed one-pageview visit stops being a bounce");
        assert_eq!((resumed.visit_id, resumed.attrs), (41, "google"), "a resumed visit keeps its source");
        let fresh = s.assign(key(6), 5 * MIN, true, || "direct");
        assert_eq!((fresh.visit_id, fresh.attrs), (42, "direct"));
    }

    #[test]
    fn numbered_visitors_resume_by_their_key() {
        use crate::domain::visitor_numbers::NumberingState;
        let visit = |visitor_id, visit_id| OpenVisit {
            visitor_id,
            visit_id,
            last_seen: 0,
            events: 1,
            first_pageview: true,
            attrs: "google",
            last_pageview: None,
        };
        let open = [visit(FIRST_NUMBER + 3, 41), visit(5, 40), visit(FIRST_NUMBER + 1, 39)];
        let known = vec![VisitorNumber { key: 77, number: FIRST_NUMBER + 3, since: 0 }];
        let numbers = VisitorNumbers::new(NumberingState { next: FIRST_NUMBER + 4, known });
        let mut s = Sessionizer::new(42, VISIT_TIMEOUT_MICROS, open).with_numbers(numbers);
        let resumed = s.assign(key(77), 5 * MIN, true, || "direct");
        assert_eq!((resumed.visitor_id, resumed.visit_id, resumed.new_visit), (FIRST_NUMBER + 3, 41, false));
        let unnumbered = s.assign(key(5), 5 * MIN, true, || "direct");
        assert_eq!((unnumbered.visitor_id, unnumbered.visit_id), (5, 40), "an id from before numbering stays");
        let fresh = s.assign(key(6), 5 * MIN, true, || "direct");
        assert_eq!((fresh.visitor_id, fresh.visit_id), (FIRST_NUMBER + 4, 42));
        assert_eq!(s.take_given_numbers(), [VisitorNumber { key: 6, number: FIRST_NUMBER + 4, since: 5 * MIN }]);
        assert_eq!(s.open_visits(), 3, "the visit whose number was forgotten is not resumed");
        let again = s.assign(key(6), 50 * MIN, true, || "direct");
        assert_eq!((again.visitor_id, again.new_visit), (FIRST_NUMBER + 4, true), "a new visit, the same visitor");
    }

    #[test]
    fn visit_stats_sum_to_visits_bounces_and_duration() {
        let mut s: Sessionizer<()> = Sessionizer::new(1, VISIT_TIMEOUT_MICROS, []);
        // Visit 1: pageview, custom event, pageview over 3.5 minutes. Visit 2: one pageview.
        // Visit 3: a custom event alone (not a bounce: it was interactive).
        let stats: Vec<VisitStats> = vec![
            s.assign(key(1), 0, true, || ()).stats,
            s.assign(key(1), 90 * 1_000_000, false, || ()).stats,
            s.assign(key(1), 210 * 1_000_000 + 500_000, true, || ()).stats,
            s.assign(key(2), 0, true, || ()).stats,
            s.assign(key(3), 0, false, || ()).stats,
        ];
        assert_eq!(stats.iter().filter(|s| s.visit_start).count(), 3);
        assert_eq!(stats.iter().map(|s| s.bounce_delta as i32).sum::<i32>(), 1);
        assert_eq!(stats.iter().map(|s| s.duration_delta).sum::<u32>(), 210);
    }

    #[test]
    fn stale_visits_are_pruned() {
        let mut s: Sessionizer<()> = Sessionizer::new(1, VISIT_TIMEOUT_MICROS, []);
        for v in 0..100 {
            s.assign(key(v), 0, true, || ());
        }
        s.assign(key(1000), 120 * MIN, true, || ());
        assert_eq!(s.open_visits(), 1);
    }

    #[test]
    fn a_visits_events_keep_their_order_when_stored_to_the_millisecond() {
        let mut s: Sessionizer<()> = Sessionizer::new(1, 30 * MIN, []);
        let t = 1_709_632_800_123_456;
        let at = |s: &mut Sessionizer<()>, ts: i64| s.assign(key(7), ts, true, || ()).at;
        assert_eq!(at(&mut s, t), t - 456, "to the millisecond");
        assert_eq!(at(&mut s, t + 300), t - 456 + 1000, "the same millisecond: the next one");
        assert_eq!(at(&mut s, t + 500), t - 456 + 2000, "and the one after");
        assert_eq!(at(&mut s, t + 5_000_000), t - 456 + 5_000_000, "a later one keeps its own time");
        assert_eq!(at(&mut s, t + 1_000_000), t - 456 + 1_000_000, "a late one too");
        assert_eq!(s.assign(key(8), t, true, || ()).at, t - 456, "another visitor's is its own");
    }
}

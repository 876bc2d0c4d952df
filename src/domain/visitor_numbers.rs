//! Visitor numbers: the visitor id stored with each event is a number the writer gives a visitor
//! key (the salted 48-bit hash) at its first visit, counting up, not the hash itself. Random
//! hashes cannot be compressed (6 bytes a row, a quarter of the table); numbers given in order
//! of arrival differ little between neighbouring rows and bit-pack into about 2. A key is made
//! with one day's salt, so its number needs remembering for two days at most (the day, and the
//! night a visit carries over); the writer keeps them in memory and the store keeps a copy so a
//! restart goes on with the same numbers.

use std::collections::HashMap;

/// The first number: above every 48-bit hash stored as a visitor id before numbering, so old
/// and new ids never meet.
pub const FIRST_NUMBER: u64 = 1 << 48;

/// How long a key's number is remembered after it was given (two days and an hour of margin).
pub const REMEMBER_MICROS: i64 = 49 * 3_600 * 1_000_000;

/// A key's number and when (event time, microseconds) it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitorNumber {
    pub key: u64,
    pub number: u64,
    pub since: i64,
}

/// What the writer resumes numbering from: the next free number and the numbers still remembered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberingState {
    pub next: u64,
    pub known: Vec<VisitorNumber>,
}

/// The writer's numbering: key -> number, with the numbers given since the last
/// [`VisitorNumbers::take_given`] (for the store to remember).
#[derive(Debug)]
pub struct VisitorNumbers {
    known: HashMap<u64, (u64, i64)>,
    next: u64,
    given: Vec<VisitorNumber>,
    last_prune: i64,
}

impl VisitorNumbers {
    pub fn new(state: NumberingState) -> Self {
        let known = state.known.iter().map(|n| (n.key, (n.number, n.since))).collect();
        Self { known, next: state.next.max(FIRST_NUMBER), given: Vec::new(), last_prune: i64::MIN }
    }

    /// The number of `key`, given now (at event time `ts`) when it has none.
    pub fn number(&mut self, key: u64, ts: i64) -> u64 {
        self.prune(ts);
        if let Some((number, _)) = self.known.get(&key) {
            return *number;
        }
        let number = self.next;
        self.next += 1;
        self.known.insert(key, (number, ts));
        self.given.push(VisitorNumber { key, number, since: ts });
        number
    }

    /// The key a remembered number was given to.
    pub fn key_of(&self) -> HashMap<u64, u64> {
        self.known.iter().map(|(key, (number, _))| (*number, *key)).collect()
    }

    /// Keeps an id stored before numbering (the key itself) for `key`, so the visitor of a visit
    /// open across the upgrade keeps one id that day.
    pub fn keep_unnumbered(&mut self, key: u64, since: i64) {
        self.known.entry(key).or_insert((key, since));
    }

    /// The numbers given since the last call.
    pub fn take_given(&mut self) -> Vec<VisitorNumber> {
        std::mem::take(&mut self.given)
    }

    /// Numbers remembered now (for tests and metrics).
    pub fn remembered(&self) -> usize {
        self.known.len()
    }

    fn prune(&mut self, now: i64) {
        // At most once an hour of event time: amortised O(1) per event.
        if now.saturating_sub(self.last_prune) < 3_600_000_000 {
            return;
        }
        self.last_prune = now;
        self.known.retain(|_, (_, since)| now - *since < REMEMBER_MICROS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    #[test]
    fn keys_get_increasing_numbers_once() {
        let mut n = VisitorNumbers::new(NumberingState::default());
        assert_eq!(n.number(0xabc, 0), FIRST_NUMBER);
        assert_eq!(n.number(0x123, 1), FIRST_NUMBER + 1);
        assert_eq!(n.number(0xabc, 2 * HOUR), FIRST_NUMBER, "a returning key keeps its number");
        let given = n.take_given();
        assert_eq!(
            given.iter().map(|g| (g.key, g.number)).collect::<Vec<_>>(),
            [(0xabc, FIRST_NUMBER), (0x123, FIRST_NUMBER + 1)]
        );
        assert!(n.take_given().is_empty(), "each number is handed out to remember once");
    }

    #[test]
    fn numbers_are_forgotten_after_two_days() {
        let mut n = VisitorNumbers::new(NumberingState::default());
        let first = n.number(7, 0);
        assert_eq!(n.number(7, 48 * HOUR), first);
        assert_ne!(n.number(7, 50 * HOUR), first, "the key's salt is gone by now: a new number");
        assert_eq!(n.remembered(), 1);
    }

    #[test]
    fn resumes_numbering_where_it_stopped() {
        let known = vec![VisitorNumber { key: 7, number: FIRST_NUMBER + 4, since: 0 }];
        let mut n = VisitorNumbers::new(NumberingState { next: FIRST_NUMBER + 5, known });
        assert_eq!(n.number(7, HOUR), FIRST_NUMBER + 4);
        assert_eq!(n.number(8, HOUR), FIRST_NUMBER + 5);
        assert_eq!(n.key_of()[&(FIRST_NUMBER + 4)], 7);
        n.keep_unnumbered(99, HOUR);
        assert_eq!(n.number(99, 2 * HOUR), 99, "an id stored before numbering stays the visitor's");
    }
}

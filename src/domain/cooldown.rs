//! A per-key cooldown: an action may start again only after a fixed time since its last start
//! ("send report now" once a minute per site). In memory: a restart forgets, which only allows
//! one early repeat.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

const MICROS_PER_SEC: i64 = 1_000_000;
/// Entries kept before expired ones are swept, so the map cannot grow without bound.
const SWEEP_AT: usize = 10_000;

/// See the module documentation.
pub struct Cooldown<K> {
    every_micros: i64,
    started: Mutex<HashMap<K, i64>>,
}

impl<K: Eq + Hash + Clone> Cooldown<K> {
    pub fn new(every_secs: u64) -> Self {
        Self { every_micros: every_secs as i64 * MICROS_PER_SEC, started: Mutex::default() }
    }

    pub fn every_secs(&self) -> u64 {
        (self.every_micros / MICROS_PER_SEC) as u64
    }

    /// Starts the action for `key` at `now` (micros), or says in how many seconds it may start.
    pub fn start(&self, key: &K, now: i64) -> Result<(), u64> {
        let mut started = self.started.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&at) = started.get(key) {
            let ready = at + self.every_micros;
            if now < ready {
                let secs = (ready - now + MICROS_PER_SEC - 1) / MICROS_PER_SEC;
                return Err(secs.max(1) as u64);
            }
        }
        if started.len() >= SWEEP_AT {
            let every = self.every_micros;
            started.retain(|_, at| now < *at + every);
        }
        started.insert(key.clone(), now);
        Ok(())
    }

    /// Forgets the last start of `key` (the action did nothing, so it does not count).
    pub fn forget(&self, key: &K) {
        self.started.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = MICROS_PER_SEC;

    #[test]
    fn a_key_starts_once_per_period() {
        let c = Cooldown::new(60);
        assert_eq!(c.start(&1, 0), Ok(()));
        assert_eq!(c.start(&1, 10 * S), Err(50));
        assert_eq!(c.start(&1, 59 * S + 1), Err(1));
        assert_eq!(c.start(&2, 10 * S), Ok(()), "keys are independent");
        assert_eq!(c.start(&1, 60 * S), Ok(()));
        assert_eq!(c.start(&1, 61 * S), Err(59));
        c.forget(&1);
        assert_eq!(c.start(&1, 61 * S), Ok(()), "a forgotten start does not count");
    }
}

//! A bounded, expiring map of things waiting for their next step (a sign-in waiting for its
//! second factor, a passkey ceremony waiting for the browser), keyed by a secret's digest. It
//! lives in memory only: each entry is short-lived, and a restart merely asks the user again.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Entries by key with their expiry (Unix microseconds); at most `max`, the one closest to
/// expiry goes first when full.
pub(super) struct Expiring<T> {
    max: usize,
    entries: Mutex<HashMap<[u8; 32], (T, i64)>>,
}

impl<T> Expiring<T> {
    pub(super) fn new(max: usize) -> Self {
        Self { max, entries: Mutex::default() }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<[u8; 32], (T, i64)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `value` under `key` until `expires_at`, dropping expired entries first and, when
    /// still full, the one that would expire soonest.
    pub(super) fn insert(&self, key: [u8; 32], value: T, expires_at: i64, now: i64) {
        let mut entries = self.entries();
        entries.retain(|_, (_, until)| *until > now);
        if entries.len() >= self.max
            && let Some(oldest) = entries.iter().min_by_key(|(_, (_, until))| *until).map(|(k, _)| *k)
        {
            entries.remove(&oldest);
        }
        entries.insert(key, (value, expires_at));
    }

    /// Takes the entry out (good once, whatever comes of it); `None` when unknown or expired.
    pub(super) fn take(&self, key: &[u8; 32], now: i64) -> Option<T> {
        self.entries().remove(key).filter(|(_, until)| *until > now).map(|(value, _)| value)
    }

    /// Reads the entry without taking it; `None` when unknown or expired.
    pub(super) fn read<R>(&self, key: &[u8; 32], now: i64, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.entries().get(key).filter(|(_, until)| *until > now).map(|(value, _)| f(value))
    }

    /// Forgets the entry.
    pub(super) fn remove(&self, key: &[u8; 32]) {
        self.entries().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::Expiring;

    fn key(n: u8) -> [u8; 32] {
        [n; 32]
    }

    #[test]
    fn an_entry_is_read_until_it_expires_and_taken_once() {
        let map = Expiring::new(4);
        map.insert(key(1), "a", 100, 0);
        assert_eq!(map.read(&key(1), 99, |v| *v), Some("a"));
        assert_eq!(map.read(&key(1), 100, |v| *v), None, "expired at its expiry time");
        assert_eq!(map.take(&key(1), 50), Some("a"));
        assert_eq!(map.take(&key(1), 50), None, "good once");
    }

    #[test]
    fn an_expired_entry_is_not_taken() {
        let map = Expiring::new(4);
        map.insert(key(1), 1, 10, 0);
        assert_eq!(map.take(&key(1), 10), None);
    }

    /// A map of at most `max` holding each `(key and value, expires_at, inserted at)` in turn.
    fn filled(max: usize, entries: &[(u8, i64, i64)]) -> Expiring<u8> {
        let map = Expiring::new(max);
        for &(n, expires_at, now) in entries {
            map.insert(key(n), n, expires_at, now);
        }
        map
    }

    fn present(map: &Expiring<u8>, now: i64) -> Vec<u8> {
        (1..=3).filter(|n| map.read(&key(*n), now, |v| *v).is_some()).collect()
    }

    #[test]
    fn when_full_the_entry_expiring_soonest_goes() {
        let map = filled(2, &[(1, 300, 0), (2, 200, 0), (3, 400, 0)]);
        assert_eq!(present(&map, 0), vec![1, 3], "the soonest to expire made room");
    }

    #[test]
    fn expired_entries_make_room_before_live_ones() {
        let map = filled(2, &[(1, 50, 0), (2, 300, 0), (3, 400, 100)]);
        assert_eq!(present(&map, 100), vec![2, 3], "the live entry stays");
    }

    #[test]
    fn a_removed_entry_is_gone() {
        let map = Expiring::new(2);
        map.insert(key(1), 1, 50, 0);
        map.remove(&key(1));
        assert_eq!(map.read(&key(1), 0, |v| *v), None);
    }
}

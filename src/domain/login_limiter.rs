//! Fixed-window counters of failed attempts (sign-ins, share-link passwords), keyed by account,
//! address or link. In memory: a restart forgives, which only favours the legitimate user.

use std::collections::HashMap;

const MICROS_PER_SEC: i64 = 1_000_000;

/// Failed sign-ins allowed per window: per account and per client address.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub per_account: u32,
    pub per_ip: u32,
    pub window_secs: i64,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self { per_account: 5, per_ip: 20, window_secs: 15 * 60 }
    }
}

struct Window {
    failures: u32,
    started: i64,
}

/// Fixed-window counters of failed sign-ins.
#[derive(Default)]
pub(crate) struct Limiter {
    windows: HashMap<String, Window>,
}

impl Limiter {
    pub(crate) fn retry_after(&self, key: &str, limit: u32, window: i64, now: i64) -> Option<u64> {
        let w = self.windows.get(key)?;
        let ends = w.started + window;
        (w.failures >= limit && now < ends).then(|| ((ends - now) / MICROS_PER_SEC).max(1) as u64)
    }

    pub(crate) fn fail(&mut self, key: String, window: i64, now: i64) {
        if self.windows.len() > 100_000 {
            self.windows.retain(|_, w| now < w.started + window);
        }
        let w = self.windows.entry(key).or_insert(Window { failures: 0, started: now });
        if now >= w.started + window {
            *w = Window { failures: 0, started: now };
        }
        w.failures += 1;
    }

    pub(crate) fn clear(&mut self, key: &str) {
        self.windows.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_counts_failures_in_a_window() {
        let mut l = Limiter::default();
        let w = 60 * MICROS_PER_SEC;
        for _ in 0..3 {
            assert_eq!(l.retry_after("k", 3, w, 0), None);
            l.fail("k".into(), w, 0);
        }
        assert_eq!(l.retry_after("k", 3, w, 10 * MICROS_PER_SEC), Some(50));
        assert_eq!(l.retry_after("k", 3, w, w), None, "the window has passed");
        l.clear("k");
        assert_eq!(l.retry_after("k", 3, w, 0), None);
    }
}

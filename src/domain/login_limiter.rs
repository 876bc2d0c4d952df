//! Fixed-window counters of failed attempts (sign-ins, share-link passwords), keyed by account,
//! client network or link. In memory: a restart forgives, which only favours the legitimate user.
//!
//! An attempt *reserves* its failure in every bucket it draws from before the password is
//! verified, all under one lock: concurrent guesses cannot all pass the check and be verified
//! before any failure is counted. A successful attempt gives its reservation back.
//!
//! Per-account lockout would let anyone lock the owner out by guessing. So a client network that
//! has signed in to an account before ("known client") draws from its own per-account bucket:
//! strangers' failures do not lock it out, and its own guesses are still limited the same way.

use std::collections::HashMap;
use std::net::IpAddr;

const MICROS_PER_SEC: i64 = 1_000_000;
/// Known client networks remembered per account, and accounts remembered at all (memory bound).
const KNOWN_PER_ACCOUNT: usize = 8;
const KNOWN_ACCOUNTS: usize = 100_000;
/// Buckets kept before expired ones are dropped (memory bound).
const MAX_WINDOWS: usize = 100_000;

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

/// The network a client address is counted by: an IPv4 address, or an IPv6 /64 (one host
/// usually holds a whole /64, so counting single IPv6 addresses would be no limit at all).
pub fn client_network(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

struct Window {
    failures: u32,
    started: i64,
}

/// Fixed-window counters of failed sign-ins, and the client networks known per account.
#[derive(Default)]
pub(crate) struct Limiter {
    windows: HashMap<String, Window>,
    known: HashMap<String, Vec<String>>,
}

impl Limiter {
    pub(crate) fn retry_after(&self, key: &str, limit: u32, window: i64, now: i64) -> Option<u64> {
        let w = self.windows.get(key)?;
        let ends = w.started + window;
        (w.failures >= limit && now < ends).then(|| ((ends - now) / MICROS_PER_SEC).max(1) as u64)
    }

    /// Counts one failure in every bucket, unless one of them is full: then nothing is counted
    /// and the longest wait is returned.
    pub(crate) fn reserve(&mut self, buckets: &[(&str, u32)], window: i64, now: i64) -> Result<(), u64> {
        if let Some(wait) = buckets.iter().filter_map(|(k, limit)| self.retry_after(k, *limit, window, now)).max() {
            return Err(wait);
        }
        for (key, _) in buckets {
            self.fail((*key).to_string(), window, now);
        }
        Ok(())
    }

    pub(crate) fn fail(&mut self, key: String, window: i64, now: i64) {
        if self.windows.len() > MAX_WINDOWS {
            self.windows.retain(|_, w| now < w.started + window);
        }
        let w = self.windows.entry(key).or_insert(Window { failures: 0, started: now });
        if now >= w.started + window {
            *w = Window { failures: 0, started: now };
        }
        w.failures += 1;
    }

    /// Gives back one reserved failure (the attempt succeeded or was never verified).
    pub(crate) fn refund(&mut self, key: &str) {
        if let Some(w) = self.windows.get_mut(key) {
            w.failures = w.failures.saturating_sub(1);
        }
    }

    pub(crate) fn clear(&mut self, key: &str) {
        self.windows.remove(key);
    }

    /// Has `client` (a [`client_network`]) signed in to `account` before?
    pub(crate) fn is_known(&self, account: &str, client: &str) -> bool {
        self.known.get(account).is_some_and(|c| c.iter().any(|k| k == client))
    }

    /// Remembers a successful sign-in of `client` to `account` (the newest few per account).
    pub(crate) fn remember(&mut self, account: &str, client: &str) {
        if self.known.len() >= KNOWN_ACCOUNTS && !self.known.contains_key(account) {
            self.known.clear();
        }
        let clients = self.known.entry(account.to_string()).or_default();
        clients.retain(|c| c != client);
        clients.push(client.to_string());
        if clients.len() > KNOWN_PER_ACCOUNT {
            clients.remove(0);
        }
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

    #[test]
    fn reservations_are_all_or_nothing_and_refundable() {
        let mut l = Limiter::default();
        let w = 60 * MICROS_PER_SEC;
        for _ in 0..2 {
            assert_eq!(l.reserve(&[("ip", 5), ("acct", 2)], w, 0), Ok(()));
        }
        assert_eq!(l.reserve(&[("ip", 5), ("acct", 2)], w, 0), Err(60), "the account bucket is full");
        assert_eq!(l.reserve(&[("ip", 5), ("other", 2)], w, 0), Ok(()), "the refused attempt counted nowhere");
        l.refund("acct");
        assert_eq!(l.reserve(&[("ip", 5), ("acct", 2)], w, 0), Ok(()));
        assert_eq!(l.reserve(&[("ip", 5), ("x", 2)], w, 0), Ok(()));
        assert_eq!(l.reserve(&[("ip", 5), ("y", 2)], w, 0), Err(60), "ip: 5 counted");
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a = client_network("2001:db8:1:2::1".parse().unwrap());
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, client_network("2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap()));
        assert_ne!(a, client_network("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(client_network("203.0.113.7".parse().unwrap()), "203.0.113.7");
        assert_eq!(client_network("::ffff:203.0.113.7".parse().unwrap()), "203.0.113.7");
    }

    #[test]
    fn known_clients_are_remembered_per_account() {
        let mut l = Limiter::default();
        l.remember("ann", "198.51.100.7");
        assert!(l.is_known("ann", "198.51.100.7"));
        assert!(!l.is_known("ann", "203.0.113.9"));
        assert!(!l.is_known("bob", "198.51.100.7"));
        for i in 0..KNOWN_PER_ACCOUNT {
            l.remember("ann", &format!("10.0.0.{i}"));
        }
        assert!(!l.is_known("ann", "198.51.100.7"), "only the newest few are kept");
    }
}

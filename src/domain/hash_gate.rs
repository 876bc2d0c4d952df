//! A counting semaphore around password hashing. Each argon2 run holds about 19 MiB for tens
//! of milliseconds, so unbounded concurrency turns a burst of sign-ins into a memory blow-up.
//! A few run at once, a bounded number wait briefly, and beyond that callers are told to come
//! back later (the HTTP edge answers 503 + Retry-After).

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// How many hashes run at once, how many callers may wait, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct HashLimits {
    pub concurrent: usize,
    pub waiting: usize,
    pub max_wait: Duration,
}

impl Default for HashLimits {
    fn default() -> Self {
        // Half the cores (1 to 4): password hashing never takes every core from the requests
        // that must stay quick (health checks, ingest).
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self { concurrent: (cores / 2).clamp(1, 4), waiting: 16, max_wait: Duration::from_secs(2) }
    }
}

#[derive(Default)]
struct Slots {
    running: usize,
    waiting: usize,
}

/// See the module documentation.
pub struct HashGate {
    limits: HashLimits,
    slots: Mutex<Slots>,
    freed: Condvar,
}

/// A slot for one hash; released when dropped.
pub struct HashPermit<'a>(&'a HashGate);

impl Drop for HashPermit<'_> {
    fn drop(&mut self) {
        let mut slots = self.0.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.running -= 1;
        drop(slots);
        self.0.freed.notify_one();
    }
}

impl HashGate {
    pub fn new(limits: HashLimits) -> Self {
        Self {
            limits: HashLimits { concurrent: limits.concurrent.max(1), ..limits },
            slots: Mutex::default(),
            freed: Condvar::new(),
        }
    }

    /// A slot, after a short wait if all are taken; `None` when the queue is full or the wait
    /// ran out (the caller should answer "busy").
    pub fn enter(&self) -> Option<HashPermit<'_>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.running < self.limits.concurrent {
            slots.running += 1;
            return Some(HashPermit(self));
        }
        if slots.waiting >= self.limits.waiting {
            return None;
        }
        slots.waiting += 1;
        let deadline = Instant::now() + self.limits.max_wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if slots.running < self.limits.concurrent {
                slots.waiting -= 1;
                slots.running += 1;
                return Some(HashPermit(self));
            }
            if left.is_zero() {
                slots.waiting -= 1;
                return None;
            }
            slots = self.freed.wait_timeout(slots, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// A slot, waiting as long as it takes: for authenticated callers whose number is bounded
    /// by the accounts that exist (a site admin adding a share-link password, the command line).
    pub fn wait(&self) -> HashPermit<'_> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        while slots.running >= self.limits.concurrent {
            slots = self.freed.wait(slots).unwrap_or_else(|p| p.into_inner());
        }
        slots.running += 1;
        HashPermit(self)
    }

    /// Seconds a refused caller should wait before trying again.
    pub fn retry_after(&self) -> u64 {
        self.limits.max_wait.as_secs().max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_limit_run_and_the_queue_is_bounded() {
        let gate = HashGate::new(HashLimits { concurrent: 2, waiting: 0, max_wait: Duration::from_millis(10) });
        let a = gate.enter().expect("first");
        let _b = gate.enter().expect("second");
        assert!(gate.enter().is_none(), "third refused: nobody may wait");
        drop(a);
        assert!(gate.enter().is_some(), "a slot was freed");
    }

    #[test]
    fn waiters_get_a_freed_slot_or_give_up() {
        let gate = HashGate::new(HashLimits { concurrent: 1, waiting: 1, max_wait: Duration::from_millis(50) });
        let held = gate.enter().unwrap();
        assert!(gate.enter().is_none(), "the wait ran out");
        std::thread::scope(|s| {
            let waiter = s.spawn(|| gate.enter().is_some());
            std::thread::sleep(Duration::from_millis(5));
            drop(held);
            assert!(waiter.join().unwrap(), "the waiter got the freed slot");
        });
    }
}

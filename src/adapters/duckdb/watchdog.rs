//! A per-query deadline: a small thread that interrupts the DuckDB connection when a report
//! query runs longer than `--query-timeout-ms`, so one expensive query cannot hold a core (and
//! a pooled connection) for minutes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use duckdb::InterruptHandle;

/// How often a fired watchdog repeats the interrupt: one that lands between two statements of
/// the same report would otherwise be lost.
const REPEAT: Duration = Duration::from_millis(20);

/// An armed deadline; [`Watchdog::disarm`] it when the work is done.
pub struct Watchdog {
    done: mpsc::Sender<()>,
    fired: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Watchdog {
    /// Interrupts `handle` once `after` has passed (and keeps interrupting until disarmed).
    /// `None` when no thread could be started: the query then runs without a deadline.
    pub fn arm(handle: Arc<InterruptHandle>, after: Duration) -> Option<Self> {
        let (done, wait) = mpsc::channel::<()>();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        let thread = std::thread::Builder::new()
            .name("hitkeep-query-deadline".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                if wait.recv_timeout(after) != Err(RecvTimeoutError::Timeout) {
                    return;
                }
                flag.store(true, Ordering::SeqCst);
                loop {
                    handle.interrupt();
                    if wait.recv_timeout(REPEAT) != Err(RecvTimeoutError::Timeout) {
                        return;
                    }
                }
            })
            .map_err(|e| tracing::warn!(error = %e, "could not start a query deadline thread"))
            .ok()?;
        Some(Self { done, fired, thread })
    }

    /// Stops the deadline; true when it fired (the connection was interrupted and should not be
    /// reused: an interrupt may still be pending on it).
    pub fn disarm(self) -> bool {
        drop(self.done);
        let _ = self.thread.join();
        self.fired.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_interrupts_a_long_query_and_a_quick_one_is_left_alone() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let dog = Watchdog::arm(conn.interrupt_handle(), Duration::from_millis(50)).unwrap();
        // Minutes of work without the deadline.
        let r = conn.query_row("SELECT sum(i * i % 7) FROM range(100000000000) t(i)", [], |r| r.get::<_, i64>(0));
        assert!(r.is_err(), "interrupted: {r:?}");
        assert!(dog.disarm(), "the deadline fired");
        // A fresh connection, as `DuckReports` does after a deadline fired.
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let dog = Watchdog::arm(conn.interrupt_handle(), Duration::from_secs(30)).unwrap();
        let r = conn.query_row("SELECT 42", [], |r| r.get::<_, i64>(0));
        assert!(!dog.disarm(), "disarmed before the deadline");
        assert_eq!(r.unwrap(), 42);
    }
}

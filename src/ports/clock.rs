//! Time, so tests can control it.

/// Wall-clock time in UTC.
pub trait Clock: Send + Sync {
    /// Microseconds since the Unix epoch.
    fn now_micros(&self) -> i64;
}

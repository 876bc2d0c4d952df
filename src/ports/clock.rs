//! Time, so tests can control it.

/// Wall-clock time in UTC.
pub trait Clock: Send + Sync {
    /// Microseconds since the Unix epoch.
    fn now_micros(&self) -> i64;
}

/// A clock that always says the same time (tests, reproducible CLI runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_micros(&self) -> i64 {
        self.0
    }
}

/// What every clock must do: tell a time after 2020 that never runs backwards.
#[cfg(test)]
mod conformance {
    use super::*;

    const YEAR_2020: i64 = 1_577_836_800_000_000;

    fn conforms(clock: &dyn Clock) {
        let first = clock.now_micros();
        assert!(first > YEAR_2020, "{first}");
        assert!(clock.now_micros() >= first);
    }

    #[test]
    fn system_clock_conforms() {
        conforms(&crate::adapters::system::SystemClock);
    }

    #[test]
    fn fixed_clock_conforms() {
        conforms(&FixedClock(1_709_596_800_000_000));
    }
}

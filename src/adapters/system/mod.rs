//! The system clock and random salts.

use crate::domain::visitor::Salt;
use crate::ports::clock::Clock;

/// Wall-clock time.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_micros(&self) -> i64 {
        chrono::Utc::now().timestamp_micros()
    }
}

/// A fresh salt from the OS random generator.
pub fn random_salt() -> Salt {
    let mut bytes = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    Salt(bytes)
}

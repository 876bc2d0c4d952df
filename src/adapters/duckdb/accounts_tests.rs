//! Tests of the DuckDB account store.

use std::sync::Arc;

use super::*;
use crate::adapters::crypto::{Argon2Hasher, OsSecrets};
use crate::adapters::duckdb::Database;
use crate::ports::accounts::{AuditEntry, AuditStore};
use crate::ports::clock::Clock;
use crate::services::accounts::{AccountService, LoginLimits};

struct At(i64);
impl Clock for At {
    fn now_micros(&self) -> i64 {
        self.0
    }
}

const DAY: i64 = 24 * 3600 * 1_000_000;

#[test]
fn the_audit_log_is_pruned_by_age() {
    let db = Database::open_in_memory().unwrap();
    let store = Arc::new(DuckAccounts::new(db.connect().unwrap()));
    for (days_ago, action) in [(120, "old"), (91, "older_than_90"), (89, "recent"), (0, "today")] {
        let entry = AuditEntry {
            at: 1000 * DAY - days_ago * DAY,
            actor: "a".into(),
            action: action.into(),
            target: String::new(),
            ip: String::new(),
        };
        store.audit(&entry).unwrap();
    }
    let accounts = AccountService::new(
        store.clone(),
        Arc::new(Argon2Hasher::default()),
        Arc::new(OsSecrets),
        Arc::new(At(1000 * DAY)),
        LoginLimits::default(),
    );
    assert_eq!(accounts.prune_audit(0).unwrap(), 0, "0 keeps everything");
    assert_eq!(accounts.prune_audit(90).unwrap(), 2);
    let left: Vec<String> = store.audit_log(10).unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(left, ["today", "recent"]);
}

/// Each account capability's conformance suite, on a DuckDB account store in memory (the
/// in-memory double of the account ports).
mod conformance {
    use crate::adapters::duckdb::DuckAccounts;
    use crate::ports::conformance as suite;

    fn in_memory() -> DuckAccounts {
        DuckAccounts::new(crate::adapters::duckdb::memory_connection())
    }

    /// One test per capability, each on a fresh store.
    macro_rules! suites {
        ($($suite:ident),*) => {$(
            #[test]
            fn $suite() {
                suite::$suite(in_memory);
            }
        )*};
    }

    suites!(user_store, membership_store, session_store, token_store, share_store, invite_store, audit_store);
}

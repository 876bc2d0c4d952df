//! Tests of the DuckDB account store.

use std::sync::Arc;

use super::*;
use crate::adapters::crypto::{Argon2Hasher, OsSecrets};
use crate::adapters::duckdb::Database;
use crate::adapters::otp::TotpCodes;
use crate::adapters::sealing::{Sealer, SealingKey};
use crate::ports::accounts::{AuditEntry, AuditStore};
use crate::ports::clock::Clock;
use crate::services::accounts::{AccountService, AuthError, LoginLimits, SecondFactorCrypto};

struct At(i64);
impl Clock for At {
    fn now_micros(&self) -> i64 {
        self.0
    }
}

const DAY: i64 = 24 * 3600 * 1_000_000;

fn factors() -> SecondFactorCrypto {
    SecondFactorCrypto {
        codes: Arc::new(TotpCodes),
        cipher: Arc::new(Sealer::new(&SealingKey::from_secret("test"))),
        passkeys: Arc::new(crate::adapters::webauthn::WebauthnCeremonies::new(None)),
    }
}

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
        factors(),
    );
    assert_eq!(accounts.prune_audit(0).unwrap(), 0, "0 keeps everything");
    assert_eq!(accounts.prune_audit(90).unwrap(), 2);
    let left: Vec<String> = store.audit_log(10).unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(left, ["today", "recent"]);
}

/// A clock the test moves.
struct Moving(std::sync::atomic::AtomicI64);
impl Clock for Moving {
    fn now_micros(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
fn a_half_finished_sign_in_expires_after_five_minutes_and_a_code_is_good_once() {
    use crate::ports::second_factors::SecondFactorStore;
    use crate::services::accounts::{Origin, SignIn};
    let store = Arc::new(DuckAccounts::new(crate::adapters::duckdb::memory_connection()));
    let clock = Arc::new(Moving(std::sync::atomic::AtomicI64::new(1_700_000_000 * 1_000_000)));
    let accounts = AccountService::new(
        store.clone(),
        Arc::new(Argon2Hasher::default()),
        Arc::new(OsSecrets),
        clock.clone(),
        LoginLimits::default(),
        factors(),
    );
    let origin = Origin { ip: "192.0.2.1".parse().unwrap() };
    let user = accounts.add_user("ann@example.com", "correct horse", "Ann", false).unwrap();
    let sealer = Sealer::new(&SealingKey::from_secret("test"));
    let secret = b"12345678901234567890";
    store.begin_totp(user.id, &crate::ports::second_factors::SecretCipher::seal(&sealer, secret), 0).unwrap();
    store.confirm_totp(user.id, 0, &[]).unwrap();
    let app = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, secret.to_vec(), None, String::new());
    let code_at = |secs: i64| app.generate(secs as u64);
    let sign_in = || match accounts.login("ann@example.com", "correct horse", false, origin).unwrap().1 {
        SignIn::SecondFactor { token, .. } => token,
        SignIn::Session(_) => panic!("the password alone signed in"),
    };

    let token = sign_in();
    clock.0.fetch_add(5 * 60 * 1_000_000 + 1, std::sync::atomic::Ordering::SeqCst);
    let now = clock.now_micros() / 1_000_000;
    let code = code_at(now);
    assert!(matches!(accounts.complete_login(&token, &code, origin), Err(AuthError::SignInExpired)));
    let token = sign_in();
    assert!(accounts.complete_login(&token, &code, origin).is_ok());
    let token = sign_in();
    assert!(matches!(accounts.complete_login(&token, &code, origin), Err(AuthError::WrongCode)), "replayed");
}

/// A DuckDB account store in memory: the in-memory double of the account ports.
fn in_memory() -> DuckAccounts {
    DuckAccounts::new(crate::adapters::duckdb::memory_connection())
}

// Each account capability's conformance suite, each on a fresh store.
crate::conformance_tests!(in_memory =>
    user_store,
    membership_store,
    session_store,
    token_store,
    share_store,
    invite_store,
    audit_store,
    second_factor_store,
    security_policy_store,
    external_identity_store,
    passkey_store,
);

//! Conformance suites of the second-factor and sign-in policy stores.

use crate::domain::accounts::UserId;
use crate::ports::second_factors::{SecondFactorStore, SecurityPolicyStore, TotpRecord};
use crate::ports::sso::ExternalIdentityStore;

/// TOTP authenticators: confirmed once, steps used once and in order, recovery codes used once,
/// everything removed together.
pub fn second_factor_store<S: SecondFactorStore>(make: impl Fn() -> S) {
    let store = make();
    let (ann, bob) = (UserId(1), UserId(2));
    assert_eq!(store.totp(ann).unwrap(), None);
    assert!(!store.confirm_totp(ann, 5, &[]).unwrap(), "nothing to confirm");
    assert!(store.begin_totp(ann, b"first", 1).unwrap());
    assert!(store.begin_totp(ann, b"second", 2).unwrap(), "an unconfirmed secret is replaced");
    let pending = TotpRecord { sealed: b"second".to_vec(), confirmed: false, last_step: None };
    assert_eq!(store.totp(ann).unwrap(), Some(pending));
    assert!(!store.use_totp_step(ann, 9).unwrap(), "an unconfirmed secret signs nobody in");

    let codes = [[1u8; 32], [2u8; 32]];
    assert!(store.confirm_totp(ann, 10, &codes).unwrap());
    assert!(!store.confirm_totp(ann, 11, &codes).unwrap(), "confirmed once");
    assert!(!store.begin_totp(ann, b"third", 3).unwrap(), "a confirmed secret is kept");
    let active = TotpRecord { sealed: b"second".to_vec(), confirmed: true, last_step: Some(10) };
    assert_eq!(store.totp(ann).unwrap(), Some(active));

    assert!(!store.use_totp_step(ann, 10).unwrap(), "the confirming step is used");
    assert!(store.use_totp_step(ann, 11).unwrap());
    assert!(!store.use_totp_step(ann, 11).unwrap(), "a replay");
    assert!(!store.use_totp_step(ann, 10).unwrap(), "an older step");

    assert_eq!(store.recovery_codes_left(ann).unwrap(), 2);
    assert!(!store.use_recovery_code(bob, &[1u8; 32], 5).unwrap(), "another user's code");
    assert!(store.use_recovery_code(ann, &[1u8; 32], 5).unwrap());
    assert!(!store.use_recovery_code(ann, &[1u8; 32], 6).unwrap(), "used once");
    assert_eq!(store.recovery_codes_left(ann).unwrap(), 1);
    store.replace_recovery_codes(ann, &[[3u8; 32], [4u8; 32], [5u8; 32]]).unwrap();
    assert_eq!(store.recovery_codes_left(ann).unwrap(), 3);
    assert!(!store.use_recovery_code(ann, &[2u8; 32], 7).unwrap(), "replaced codes are void");
    assert!(store.use_recovery_code(ann, &[4u8; 32], 7).unwrap());

    assert!(store.begin_totp(bob, b"bob", 1).unwrap());
    assert!(store.remove_second_factors(ann).unwrap());
    assert!(!store.remove_second_factors(ann).unwrap(), "nothing left");
    assert_eq!((store.totp(ann).unwrap(), store.recovery_codes_left(ann).unwrap()), (None, 0));
    assert!(store.totp(bob).unwrap().is_some(), "other users keep theirs");
}

/// The instance policy: off until set, then as last set.
pub fn security_policy_store<S: SecurityPolicyStore>(make: impl Fn() -> S) {
    let store = make();
    assert!(!store.two_factor_required().unwrap(), "off by default");
    store.set_two_factor_required(true).unwrap();
    store.set_two_factor_required(true).unwrap();
    assert!(store.two_factor_required().unwrap());
    store.set_two_factor_required(false).unwrap();
    assert!(!store.two_factor_required().unwrap());
}

/// External identities: one account per issuer and subject, relinked when linked again.
pub fn external_identity_store<S: ExternalIdentityStore>(make: impl Fn() -> S) {
    let store = make();
    let (ann, bob) = (UserId(1), UserId(2));
    assert_eq!(store.identity_user("https://idp", "a").unwrap(), None);
    assert!(!store.has_identity(ann).unwrap());
    store.link_identity(ann, "https://idp", "a", 1).unwrap();
    store.link_identity(bob, "https://other-idp", "a", 1).unwrap();
    assert_eq!(store.identity_user("https://idp", "a").unwrap(), Some(ann));
    assert_eq!(store.identity_user("https://other-idp", "a").unwrap(), Some(bob), "per issuer");
    assert_eq!(store.identity_user("https://idp", "b").unwrap(), None);
    store.link_identity(bob, "https://idp", "a", 2).unwrap();
    assert_eq!(store.identity_user("https://idp", "a").unwrap(), Some(bob), "relinked");
    assert!(!store.has_identity(ann).unwrap());
    assert!(store.has_identity(bob).unwrap());
}

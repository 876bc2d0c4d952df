//! Conformance suite of the passkey store.

use crate::domain::accounts::UserId;
use crate::ports::passkeys::{NewPasskey, PasskeyStore};

/// Passkeys: several per account, a credential registered once across accounts, renames,
/// removals and uses scoped to the owner.
pub fn passkey_store<S: PasskeyStore>(make: impl Fn() -> S) {
    let store = make();
    let (ann, bob) = (UserId(1), UserId(2));
    let key = |id: u8| NewPasskey { credential_id: vec![id; 16], credential: format!("cred-{id}") };
    assert!(store.passkeys(ann).unwrap().is_empty());
    let laptop = store.add_passkey(ann, "Laptop", &key(1), 10).unwrap().expect("stored");
    let phone = store.add_passkey(ann, "Phone", &key(2), 20).unwrap().expect("stored");
    assert_ne!(laptop, phone, "ids are distinct");
    assert_eq!(store.add_passkey(bob, "Stolen", &key(1), 30).unwrap(), None, "a credential belongs to one account");
    let mine = store.passkeys(ann).unwrap();
    let names: Vec<&str> = mine.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["Laptop", "Phone"], "oldest first");
    assert_eq!((mine[0].created_at, mine[0].last_used_at, mine[0].credential.as_str()), (10, None, "cred-1"));
    assert!(store.passkeys(bob).unwrap().is_empty());

    let found = store.passkey_by_credential(&[2; 16]).unwrap().expect("found");
    assert_eq!((found.id, found.user), (phone, ann));
    assert_eq!(store.passkey_by_credential(&[9; 16]).unwrap(), None);

    assert!(!store.rename_passkey(bob, laptop, "Mine now").unwrap(), "another user's passkey");
    assert!(store.rename_passkey(ann, laptop, "Work laptop").unwrap());
    store.passkey_used(laptop, None, 40).unwrap();
    store.passkey_used(phone, Some("cred-2b"), 50).unwrap();
    let after = store.passkeys(ann).unwrap();
    assert_eq!(
        (after[0].name.as_str(), after[0].last_used_at, after[0].credential.as_str()),
        ("Work laptop", Some(40), "cred-1")
    );
    assert_eq!((after[1].last_used_at, after[1].credential.as_str()), (Some(50), "cred-2b"), "a moved counter is kept");

    assert!(!store.remove_passkey(bob, laptop).unwrap(), "another user's passkey stays");
    assert!(store.remove_passkey(ann, laptop).unwrap());
    assert!(!store.remove_passkey(ann, laptop).unwrap(), "gone already");
    assert_eq!(store.passkey_by_credential(&[1; 16]).unwrap(), None);
    store.add_passkey(bob, "Key", &key(3), 60).unwrap().expect("stored");
    assert_eq!(store.remove_passkeys(ann).unwrap(), 1);
    assert!(store.passkeys(ann).unwrap().is_empty());
    assert_eq!(store.passkeys(bob).unwrap().len(), 1, "other accounts keep theirs");
}

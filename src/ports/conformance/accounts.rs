//! Conformance suites of the account capability traits: what every account store must do.

use crate::domain::accounts::{Email, Role, Scope, UserId};
use crate::domain::site::SiteId;
use crate::ports::accounts::{
    AuditEntry, AuditStore, InviteRecord, InviteStore, MembershipStore, NewUser, SessionRecord, SessionStore,
    ShareRecord, ShareStore, TokenRecord, TokenStore, User, UserStore,
};
use crate::ports::store::StoreResult;

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

fn add(
    store: &impl UserStore,
    to: &str,
    name: &str,
    hash: &str,
    admin: bool,
    first: bool,
) -> StoreResult<Option<User>> {
    let user = NewUser { email: &email(to), name, password_hash: hash, is_admin: admin };
    store.add_user(&user, first)
}

/// Users: e-mails unique, the first-run insert only into an empty store, updates and deletes by id.
pub fn user_store<S: UserStore>(make: impl Fn() -> S) {
    let store = make();
    assert_eq!(store.count_users().unwrap(), 0);
    let ann = add(&store, "ann@x.test", "Ann", "h1", true, true).unwrap().expect("the first user");
    assert!(add(&store, "bob@x.test", "Bob", "h2", false, true).unwrap().is_none(), "not the first");
    assert!(add(&store, "ann@x.test", "Ann 2", "h3", false, false).unwrap().is_none(), "e-mail taken");
    let bob = add(&store, "bob@x.test", "Bob", "h2", false, false).unwrap().unwrap();
    assert_ne!(ann.id, bob.id, "ids are distinct");
    assert_eq!((ann.name.as_str(), ann.is_admin, ann.last_login_at), ("Ann", true, None));
    assert_eq!(store.user_by_email(&email("bob@x.test")).unwrap(), Some(bob.clone()));
    assert_eq!(store.users().unwrap(), [ann.clone(), bob.clone()], "listed in creation order");

    store.set_password(bob.id, "h9").unwrap();
    assert!(store.set_admin(bob.id, true).unwrap());
    store.touch_login(bob.id, 42).unwrap();
    let changed = store.user(bob.id).unwrap().unwrap();
    assert_eq!((changed.password_hash.as_str(), changed.is_admin, changed.last_login_at), ("h9", true, Some(42)));
    assert!(!store.set_admin(UserId(9_999), true).unwrap(), "no such user");

    assert!(store.delete_user(bob.id).unwrap());
    assert!(!store.delete_user(bob.id).unwrap(), "a deleted user is gone");
    assert_eq!((store.user(bob.id).unwrap(), store.count_users().unwrap()), (None, 1));
}

/// Memberships: one role per user and site, replaced when set again, forgotten with the site.
pub fn membership_store<S: MembershipStore>(make: impl Fn() -> S) {
    let store = make();
    let (ann, bob, one, two) = (UserId(1), UserId(2), SiteId(1), SiteId(2));
    assert!(store.memberships(ann).unwrap().is_empty());
    store.set_member(ann, one, Role::Viewer).unwrap();
    store.set_member(ann, one, Role::Owner).unwrap();
    store.set_member(ann, two, Role::Admin).unwrap();
    store.set_member(bob, one, Role::Viewer).unwrap();
    let mut of_ann = store.memberships(ann).unwrap();
    of_ann.sort_by_key(|(s, _)| s.0);
    assert_eq!(of_ann, [(one, Role::Owner), (two, Role::Admin)], "a role set again replaces the old one");
    assert_eq!(store.members(one).unwrap(), [(ann, Role::Owner), (bob, Role::Viewer)], "members by user");
    assert!(store.remove_member(bob, one).unwrap());
    assert!(!store.remove_member(bob, one).unwrap(), "nothing left to remove");
    store.forget_site(one).unwrap();
    assert!(store.members(one).unwrap().is_empty());
    assert_eq!(store.memberships(ann).unwrap(), [(two, Role::Admin)], "other sites are kept");
}

/// Sessions: found by digest, deleted one by one, per user, or when expired.
pub fn session_store<S: SessionStore>(make: impl Fn() -> S) {
    let store = make();
    let (ann, bob) = (UserId(1), UserId(2));
    store.add_session(&[1; 32], ann, 100).unwrap();
    store.add_session(&[2; 32], ann, 300).unwrap();
    store.add_session(&[3; 32], bob, 300).unwrap();
    store.add_share_session(&[4; 32], 7, 300).unwrap();
    assert_eq!(store.session(&[1; 32]).unwrap(), Some(SessionRecord { user: Some(ann), share: None, expires_at: 100 }));
    assert_eq!(store.session(&[4; 32]).unwrap(), Some(SessionRecord { user: None, share: Some(7), expires_at: 300 }));
    assert_eq!(store.session(&[9; 32]).unwrap(), None);
    store.delete_expired(100).unwrap();
    assert_eq!(store.session(&[1; 32]).unwrap(), None, "expired at its expiry time");
    store.delete_sessions_of(ann).unwrap();
    assert_eq!(store.session(&[2; 32]).unwrap(), None);
    store.delete_session(&[3; 32]).unwrap();
    assert_eq!(store.session(&[3; 32]).unwrap(), None);
    assert!(store.session(&[4; 32]).unwrap().is_some(), "other sessions are kept");
}

fn token(user: u32, name: &str, sites: Vec<SiteId>) -> TokenRecord {
    TokenRecord {
        id: 0,
        user: UserId(user),
        name: name.into(),
        scope: Scope::Read,
        sites,
        created_at: 10,
        expires_at: Some(1_000),
        last_used_at: None,
    }
}

/// API tokens: stored with their sites, found by digest or id, listed per user, touched, deleted.
pub fn token_store<S: TokenStore>(make: impl Fn() -> S) {
    let store = make();
    let read = store.add_token(&[1; 32], &token(1, "ci", vec![SiteId(2), SiteId(5)])).unwrap();
    let other = store.add_token(&[2; 32], &token(2, "cron", vec![])).unwrap();
    assert_ne!(read.id, other.id, "ids are distinct");
    assert_eq!(read, TokenRecord { id: read.id, ..token(1, "ci", vec![SiteId(2), SiteId(5)]) });
    assert_eq!(store.token(&[1; 32]).unwrap(), Some(read.clone()));
    assert_eq!(store.token_by_id(other.id).unwrap(), Some(other.clone()));
    assert_eq!(store.tokens(Some(UserId(1))).unwrap(), std::slice::from_ref(&read));
    assert_eq!(store.tokens(None).unwrap(), [read.clone(), other.clone()], "all tokens in creation order");
    store.touch_token(read.id, 77).unwrap();
    assert_eq!(store.token_by_id(read.id).unwrap().unwrap().last_used_at, Some(77));
    assert!(store.delete_token(read.id).unwrap());
    assert!(!store.delete_token(read.id).unwrap(), "a deleted token is gone");
    assert_eq!(store.token(&[1; 32]).unwrap(), None);
}

/// Share links: found by digest or id, listed per site, deleted only by their own site.
pub fn share_store<S: ShareStore>(make: impl Fn() -> S) {
    let store = make();
    let record = |site: u32, name: &str| ShareRecord {
        id: 0,
        site: SiteId(site),
        name: name.into(),
        password_hash: Some("h".into()),
        // One link limited to a saved segment, one not: both round-trip.
        segment: (site == 1).then_some(9),
        created_at: 5,
    };
    let a = store.add_share(&[1; 32], &record(1, "press")).unwrap();
    let b = store.add_share(&[2; 32], &record(2, "board")).unwrap();
    assert_ne!(a.id, b.id, "ids are distinct");
    assert_eq!(a, ShareRecord { id: a.id, ..record(1, "press") });
    assert_eq!(store.share(&[2; 32]).unwrap(), Some(b.clone()));
    assert_eq!(store.share_by_id(a.id).unwrap(), Some(a.clone()));
    assert_eq!(store.shares(SiteId(1)).unwrap(), std::slice::from_ref(&a));
    assert!(!store.delete_share(SiteId(2), a.id).unwrap(), "another site's link is not deleted");
    assert!(store.delete_share(SiteId(1), a.id).unwrap());
    assert_eq!(store.share(&[1; 32]).unwrap(), None);
}

/// Invitations: found by digest until deleted or expired.
pub fn invite_store<S: InviteStore + SessionStore>(make: impl Fn() -> S) {
    let store = make();
    let invite = InviteRecord {
        email: email("new@x.test"),
        is_admin: false,
        site: Some((SiteId(3), Role::Admin)),
        created_by: Some(UserId(1)),
        expires_at: 500,
    };
    store.add_invite(&[1; 32], &invite).unwrap();
    store
        .add_invite(&[2; 32], &InviteRecord { site: None, is_admin: true, created_by: None, ..invite.clone() })
        .unwrap();
    assert_eq!(store.invite(&[1; 32]).unwrap(), Some(invite));
    store.delete_invite(&[1; 32]).unwrap();
    assert_eq!(store.invite(&[1; 32]).unwrap(), None);
    assert!(store.invite(&[2; 32]).unwrap().unwrap().is_admin);
    store.delete_expired(500).unwrap();
    assert_eq!(store.invite(&[2; 32]).unwrap(), None, "expired invitations go with expired sessions");
}

/// The audit log: newest first, at most `limit`, pruned by age.
pub fn audit_store<S: AuditStore>(make: impl Fn() -> S) {
    let store = make();
    let entry = |at: i64, action: &str| AuditEntry {
        at,
        actor: "ann@x.test".into(),
        action: action.into(),
        target: "site a.test".into(),
        ip: "192.0.2.0".into(),
    };
    for (at, action) in [(1, "login"), (3, "site.create"), (2, "token.create")] {
        store.audit(&entry(at, action)).unwrap();
    }
    assert_eq!(store.audit_log(2).unwrap(), [entry(3, "site.create"), entry(2, "token.create")], "newest first");
    assert_eq!(store.prune_audit(3).unwrap(), 2, "entries before the cut-off go");
    assert_eq!(store.audit_log(10).unwrap(), [entry(3, "site.create")]);
}

//! Conformance suites: what every adapter of a port must do, run against each of them.

use crate::domain::site::{NewSite, SiteDomain, SiteId, TimeZoneName};
use crate::ports::sites::{SiteRepoError, SiteRepository};

fn new_site(domain: &str) -> NewSite {
    NewSite { domain: SiteDomain::parse(domain).unwrap(), hostnames: vec![], timezone: TimeZoneName::utc() }
}

/// The site repository: sites listed by domain, duplicates refused, updates by id, deletes.
pub fn site_repository<S: SiteRepository>(make: impl Fn() -> S) {
    let repo = make();
    assert!(repo.list().unwrap().is_empty(), "a new repository holds no sites");
    let b = repo.add(new_site("b.test")).unwrap();
    let a = repo.add(new_site("a.test")).unwrap();
    assert_ne!(a.id, b.id, "ids are distinct");
    assert!(a.honor_dnt && a.honor_gpc && a.retention_days == 0, "new sites start with the defaults");
    let domains: Vec<String> = repo.list().unwrap().iter().map(|s| s.domain.to_string()).collect();
    assert_eq!(domains, ["a.test", "b.test"], "listed by domain");
    assert!(matches!(repo.add(new_site("a.test")), Err(SiteRepoError::Duplicate(_))));

    let mut changed = a.clone();
    changed.retention_days = 30;
    changed.honor_dnt = false;
    repo.update(&changed).unwrap();
    let stored = repo.list().unwrap().into_iter().find(|s| s.id == a.id).unwrap();
    assert_eq!((stored.retention_days, stored.honor_dnt), (30, false));

    let mut ghost = a.clone();
    ghost.id = SiteId(9_999);
    assert!(matches!(repo.update(&ghost), Err(SiteRepoError::NotFound(_))), "updates match by id");

    repo.delete(&b).unwrap();
    let left: Vec<SiteId> = repo.list().unwrap().iter().map(|s| s.id).collect();
    assert_eq!(left, [a.id]);
}

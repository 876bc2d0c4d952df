//! The site repository in a vector.

use std::sync::Mutex;

use crate::domain::site::{NewSite, Site, SiteId};
use crate::ports::sites::{SiteRepoError, SiteRepository};

/// Sites in memory; ids count from 1 like the database's sequence.
#[derive(Default)]
pub struct MemorySites {
    sites: Mutex<(u32, Vec<Site>)>,
}

impl SiteRepository for MemorySites {
    fn list(&self) -> Result<Vec<Site>, SiteRepoError> {
        let mut all = self.sites.lock().unwrap_or_else(|p| p.into_inner()).1.clone();
        all.sort_by(|a, b| a.domain.as_str().cmp(b.domain.as_str()));
        Ok(all)
    }

    fn add(&self, site: NewSite) -> Result<Site, SiteRepoError> {
        let mut guard = self.sites.lock().unwrap_or_else(|p| p.into_inner());
        if guard.1.iter().any(|s| s.domain == site.domain) {
            return Err(SiteRepoError::Duplicate(site.domain));
        }
        guard.0 += 1;
        let added = Site {
            id: SiteId(guard.0),
            domain: site.domain,
            hostnames: site.hostnames,
            timezone: site.timezone,
            honor_dnt: true,
            honor_gpc: true,
            excluded_ips: vec![],
            retention_days: 0,
        };
        guard.1.push(added.clone());
        Ok(added)
    }

    fn update(&self, site: &Site) -> Result<(), SiteRepoError> {
        let mut guard = self.sites.lock().unwrap_or_else(|p| p.into_inner());
        let stored = guard.1.iter_mut().find(|s| s.id == site.id);
        let stored = stored.ok_or_else(|| SiteRepoError::NotFound(site.domain.clone()))?;
        // The domain does not change; everything else does.
        let domain = stored.domain.clone();
        *stored = Site { domain, ..site.clone() };
        Ok(())
    }

    fn delete(&self, site: &Site) -> Result<(), SiteRepoError> {
        self.sites.lock().unwrap_or_else(|p| p.into_inner()).1.retain(|s| s.id != site.id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passes_the_site_repository_conformance_suite() {
        crate::ports::conformance::site_repository(super::MemorySites::default);
    }
}

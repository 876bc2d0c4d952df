//! The site repository (and the visitor salts kept beside it) in memory.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::domain::site::{NewSite, Site, SiteId};
use crate::domain::visitor::{Day, Salt};
use crate::ports::sites::{SiteRepoError, SiteRepository};
use crate::ports::store::{SaltStore, StoreResult};

use super::table::Table;

/// Sites in memory; ids count from 1 like the database's sequence.
#[derive(Default)]
pub struct MemorySites {
    sites: Table<Site>,
    salts: Mutex<BTreeMap<Day, [u8; 32]>>,
}

impl SaltStore for MemorySites {
    fn load_salts(&self) -> StoreResult<Vec<(Day, Salt)>> {
        let salts = self.salts.lock().unwrap_or_else(|p| p.into_inner());
        Ok(salts.iter().rev().map(|(day, bytes)| (*day, Salt(*bytes))).collect())
    }

    fn save_salt(&self, day: Day, salt: &Salt) -> StoreResult<()> {
        self.salts.lock().unwrap_or_else(|p| p.into_inner()).insert(day, salt.0);
        Ok(())
    }

    fn delete_salts_through(&self, day: Day) -> StoreResult<()> {
        self.salts.lock().unwrap_or_else(|p| p.into_inner()).retain(|d, _| *d > day);
        Ok(())
    }
}

impl SiteRepository for MemorySites {
    fn list(&self) -> Result<Vec<Site>, SiteRepoError> {
        let mut all = self.sites.select(|_| true);
        all.sort_by(|a, b| a.domain.as_str().cmp(b.domain.as_str()));
        Ok(all)
    }

    fn add(&self, site: NewSite) -> Result<Site, SiteRepoError> {
        let added = self.sites.add_unless(|s| s.domain == site.domain, |id| site.clone().stored_as(SiteId(id)));
        added.map_err(|_| SiteRepoError::Duplicate(site.domain))
    }

    fn update(&self, site: &Site) -> Result<(), SiteRepoError> {
        // The domain does not change; everything else does.
        let updated = self
            .sites
            .update(|s| s.id == site.id, |stored| *stored = Site { domain: stored.domain.clone(), ..site.clone() });
        updated.map(|_| ()).ok_or_else(|| SiteRepoError::NotFound(site.domain.clone()))
    }

    fn delete(&self, site: &Site) -> Result<(), SiteRepoError> {
        self.sites.delete(|s| s.id == site.id);
        Ok(())
    }
}

crate::conformance_tests!(site_repository: MemorySites::default, salt_store: MemorySites::default);

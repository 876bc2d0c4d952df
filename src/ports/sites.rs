//! Site registry.

use crate::domain::site::{NewSite, Site, SiteDomain};

/// Errors of the site repository.
#[derive(Debug, thiserror::Error)]
pub enum SiteRepoError {
    #[error("site {0} already exists")]
    Duplicate(SiteDomain),
    #[error("site {0} not found")]
    NotFound(SiteDomain),
    #[error("stored site is invalid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
}

/// Reads and changes the set of sites.
pub trait SiteRepository: Send + Sync {
    fn list(&self) -> Result<Vec<Site>, SiteRepoError>;
    fn add(&self, site: NewSite) -> Result<Site, SiteRepoError>;
    /// Replaces the settings of an existing site (matched by id; the domain does not change).
    fn update(&self, site: &Site) -> Result<(), SiteRepoError>;
    /// Deletes a site with its events, goals and funnels.
    fn delete(&self, site: &Site) -> Result<(), SiteRepoError>;
}

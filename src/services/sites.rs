//! Sites: creation, settings, deletion and the live directory ingest reads. The one place a site
//! is added, so the API and the command line obey the same rules.

use std::sync::{Arc, Mutex};

use super::blocking;
use crate::domain::accounts::{Need, Role, SiteCreation, may_create_site};
use crate::domain::ingest::IngestService;
use crate::domain::site::{HostConflict, NewSite, Site, SiteDirectory, SiteDomain, SiteError, TimeZoneName};
use crate::ports::accounts::{ShareRecord, User};
use crate::ports::sites::{SiteRepoError, SiteRepository};
use crate::ports::store::StoreError;
use crate::services::accounts::{AccountService, AuthError, Caller, Origin};

/// Why `createSite` refuses a caller.
const CREATE_FORBIDDEN: &str = "creating sites is reserved to instance administrators on this server \
     (--site-creation admins); API tokens also need the admin scope and no site list";

/// Longest retention a site may ask for (100 years).
const MAX_RETENTION_DAYS: u32 = 36_500;

/// Refusals of the site service.
#[derive(Debug, thiserror::Error)]
pub enum SiteServiceError {
    /// A field is invalid; the message names it.
    #[error("{0}")]
    Invalid(String),
    #[error("{CREATE_FORBIDDEN}")]
    CreateForbidden,
    /// Another site already receives traffic for a host.
    #[error(transparent)]
    HostTaken(#[from] HostConflict),
    #[error(transparent)]
    Account(#[from] AuthError),
}

impl From<StoreError> for SiteServiceError {
    fn from(e: StoreError) -> Self {
        Self::Account(AuthError::Store(e))
    }
}

impl From<SiteRepoError> for SiteServiceError {
    fn from(e: SiteRepoError) -> Self {
        Self::Account(match e {
            SiteRepoError::Duplicate(_) => AuthError::Conflict("a site with this domain exists"),
            SiteRepoError::NotFound(_) => AuthError::NotFound("no such site"),
            SiteRepoError::Store(s) => AuthError::Store(s),
            other => AuthError::Store(StoreError::Internal(other.to_string())),
        })
    }
}

/// A site to create, as the caller wrote it.
#[derive(Debug, Clone, Default)]
pub struct SiteDraft {
    pub domain: String,
    pub hostnames: Vec<String>,
    /// IANA time zone; `None`: UTC.
    pub timezone: Option<String>,
}

/// Changes to a site's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct SiteChanges {
    pub hostnames: Option<Vec<String>>,
    pub timezone: Option<String>,
    pub honor_dnt: Option<bool>,
    pub honor_gpc: Option<bool>,
    pub excluded_ips: Option<Vec<String>>,
    pub retention_days: Option<u32>,
}

/// Where the current set of sites lives in memory (ingest's directory on a server).
pub trait LiveSites: Send + Sync {
    fn current(&self) -> Arc<SiteDirectory>;
    fn replace(&self, sites: SiteDirectory);
}

impl LiveSites for IngestService {
    fn current(&self) -> Arc<SiteDirectory> {
        self.sites()
    }
    fn replace(&self, sites: SiteDirectory) {
        self.set_sites(sites)
    }
}

/// A directory nobody else reads: command-line tools and tests.
#[derive(Default)]
pub struct DetachedSites(Mutex<Arc<SiteDirectory>>);

impl LiveSites for DetachedSites {
    fn current(&self) -> Arc<SiteDirectory> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    fn replace(&self, sites: SiteDirectory) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(sites);
    }
}

/// See the module documentation.
pub struct SiteService {
    repo: Arc<dyn SiteRepository>,
    accounts: Arc<AccountService>,
    live: Arc<dyn LiveSites>,
    creation: SiteCreation,
    /// Creation and hostname changes are checked and stored one at a time, so two requests
    /// cannot both take a host that was free when they looked.
    changes: tokio::sync::Mutex<()>,
}

impl SiteService {
    pub fn new(
        repo: Arc<dyn SiteRepository>,
        accounts: Arc<AccountService>,
        live: Arc<dyn LiveSites>,
        creation: SiteCreation,
    ) -> Self {
        Self { repo, accounts, live, creation, changes: tokio::sync::Mutex::new(()) }
    }

    /// The live directory of sites.
    pub fn directory(&self) -> Arc<SiteDirectory> {
        self.live.current()
    }

    /// All stored sites (from storage, not the live directory).
    pub fn list(&self) -> Result<Vec<Site>, SiteServiceError> {
        Ok(self.repo.list()?)
    }

    /// The stored site named `domain`, if any.
    pub fn find(&self, domain: &SiteDomain) -> Result<Option<Site>, SiteServiceError> {
        Ok(self.list()?.into_iter().find(|s| s.domain == *domain))
    }

    /// The sites `caller` can see, with their role.
    pub fn visible(&self, caller: &Caller) -> Vec<(Arc<Site>, Role)> {
        self.live.current().sites().iter().filter_map(|s| caller.role(s.id).map(|r| (s.clone(), r))).collect()
    }

    /// Creates a site for `caller`, who becomes its owner.
    pub async fn create(&self, caller: &Caller, draft: SiteDraft, origin: Origin) -> Result<Site, SiteServiceError> {
        if may_create_site(&caller.principal, self.creation).is_err() {
            return Err(SiteServiceError::CreateForbidden);
        }
        let new_site = parse_draft(&draft).map_err(|e| SiteServiceError::Invalid(e.to_string()))?;
        let _one_at_a_time = self.changes.lock().await;
        let directory = self.live.current();
        if directory.by_domain(&new_site.domain).is_none() {
            let hosts = std::iter::once(&new_site.domain).chain(&new_site.hostnames);
            directory.check_claims(None, hosts, |owner| caller.check(owner, Need::Manage).is_ok())?;
        }
        let (repo, accounts, caller) = (self.repo.clone(), self.accounts.clone(), caller.clone());
        let site = blocking(move || {
            let site = repo.add(new_site)?;
            if let Some(user) = caller.principal.user() {
                accounts.grant(user, site.id, Role::Owner)?;
            }
            accounts.audit(&caller.principal.actor(), "site_created", site.domain.as_str(), Some(origin));
            Ok::<_, SiteServiceError>(site)
        })
        .await?;
        self.reload()?;
        Ok(site)
    }

    /// Adds a site from the command line, which speaks for the operator: no claims are
    /// checked and nothing is audited, as before accounts existed. The repository's own
    /// refusal (`site ... already exists`) is what the operator reads.
    pub fn add_offline(&self, new_site: NewSite) -> Result<Site, SiteRepoError> {
        let site = self.repo.add(new_site)?;
        self.live.replace(SiteDirectory::new(self.repo.list()?));
        Ok(site)
    }

    /// Applies `changes` to `site` (the caller manages it); returns the changed site.
    pub async fn update(
        &self,
        caller: &Caller,
        site: &Site,
        changes: SiteChanges,
        origin: Origin,
    ) -> Result<Site, SiteServiceError> {
        let changed = apply(site, changes).map_err(SiteServiceError::Invalid)?;
        let _one_at_a_time = self.changes.lock().await;
        let added = changed.hostnames.iter().filter(|h| !site.hostnames.contains(h));
        let manages = |owner| caller.check(owner, Need::Manage).is_ok();
        self.live.current().check_claims(Some(site.id), added, manages)?;
        let (repo, accounts, c) = (self.repo.clone(), self.accounts.clone(), changed.clone());
        let actor = caller.principal.actor();
        blocking(move || {
            repo.update(&c)?;
            accounts.audit(&actor, "site_updated", c.domain.as_str(), Some(origin));
            Ok::<_, SiteServiceError>(())
        })
        .await?;
        self.reload()?;
        Ok(changed)
    }

    /// Sets how many days of events a site keeps (command line; 0: forever).
    pub fn set_retention(&self, domain: &SiteDomain, days: u32) -> Result<Site, SiteServiceError> {
        let mut site = self.find(domain)?.ok_or(AuthError::NotFound("no such site"))?;
        site = apply(&site, SiteChanges { retention_days: Some(days), ..SiteChanges::default() })
            .map_err(SiteServiceError::Invalid)?;
        self.repo.update(&site)?;
        Ok(site)
    }

    /// Deletes a site with all its data (the caller owns it).
    pub async fn delete(&self, caller: &Caller, site: Site, origin: Origin) -> Result<(), SiteServiceError> {
        let (repo, accounts, actor) = (self.repo.clone(), self.accounts.clone(), caller.principal.actor());
        blocking(move || {
            repo.delete(&site)?;
            accounts.forget_site(site.id)?;
            accounts.audit(&actor, "site_deleted", site.domain.as_str(), Some(origin));
            Ok::<_, SiteServiceError>(())
        })
        .await?;
        self.reload()
    }

    /// A site's members.
    pub async fn members(&self, site: &Site) -> Result<Vec<(User, Role)>, SiteServiceError> {
        let (accounts, id) = (self.accounts.clone(), site.id);
        Ok(blocking(move || accounts.members(id)).await?)
    }

    /// A site's share links.
    pub async fn shares(&self, site: &Site) -> Result<Vec<ShareRecord>, SiteServiceError> {
        let (accounts, id) = (self.accounts.clone(), site.id);
        Ok(blocking(move || accounts.shares(id)).await?)
    }

    /// Reloads the live directory from storage.
    fn reload(&self) -> Result<(), SiteServiceError> {
        self.live.replace(SiteDirectory::new(self.repo.list()?));
        Ok(())
    }
}

/// The new site a draft describes.
fn parse_draft(draft: &SiteDraft) -> Result<NewSite, SiteError> {
    let domain = SiteDomain::parse(&draft.domain)?;
    Ok(NewSite {
        hostnames: distinct_hostnames(&domain, &draft.hostnames)?,
        domain,
        timezone: match &draft.timezone {
            Some(tz) => TimeZoneName::parse(tz)?,
            None => TimeZoneName::utc(),
        },
    })
}

fn parse_net(s: &str) -> Option<ipnet::IpNet> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>().ok().or_else(|| s.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}

/// Parsed extra hostnames without repeats or the site's own domain (`www.` is stripped, so
/// `shop.example` and `www.shop.example` are one).
fn distinct_hostnames(domain: &SiteDomain, hosts: &[String]) -> Result<Vec<SiteDomain>, SiteError> {
    let mut out: Vec<SiteDomain> = Vec::new();
    for h in hosts {
        let parsed = SiteDomain::parse(h)?;
        if parsed != *domain && !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    Ok(out)
}

/// Applies `u` to a copy of the site, or names the invalid field.
fn apply(site: &Site, u: SiteChanges) -> Result<Site, String> {
    let mut s = site.clone();
    if let Some(hosts) = u.hostnames {
        s.hostnames = distinct_hostnames(&s.domain, &hosts).map_err(|e| format!("hostnames: {e}"))?;
    }
    if let Some(tz) = u.timezone {
        s.timezone = TimeZoneName::parse(&tz).map_err(|e| format!("timezone: {e}"))?;
    }
    if let Some(v) = u.honor_dnt {
        s.honor_dnt = v;
    }
    if let Some(v) = u.honor_gpc {
        s.honor_gpc = v;
    }
    if let Some(ips) = u.excluded_ips {
        s.excluded_ips = ips
            .iter()
            .map(|ip| parse_net(ip).ok_or_else(|| format!("excluded_ips: {ip:?} is not an address or CIDR network")))
            .collect::<Result<_, _>>()?;
    }
    if let Some(days) = u.retention_days {
        if days > MAX_RETENTION_DAYS {
            return Err("retention_days: at most 36500 (100 years); 0 keeps events forever".into());
        }
        s.retention_days = days;
    }
    Ok(s)
}

//! Sites: the domains whose traffic is recorded, and how a request's host finds its site.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Longest hostname DNS allows.
const MAX_HOST_LEN: usize = 253;

/// Why a site domain or time zone was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiteError {
    #[error("invalid domain {0:?}: use a hostname such as example.com")]
    InvalidDomain(String),
    #[error("unknown time zone {0:?}: use an IANA name such as Europe/Berlin")]
    InvalidTimezone(String),
}

/// A site's hostname: lowercase, no scheme, port, path or leading `www.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteDomain(String);

impl SiteDomain {
    /// Parses user input such as `https://www.Example.com/` into `example.com`.
    pub fn parse(input: &str) -> Result<Self, SiteError> {
        let host = normalize_host(input).ok_or_else(|| SiteError::InvalidDomain(input.to_string()))?;
        Ok(Self(host))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lowercases a host, strips scheme, credentials, port, path and `www.`; `None` if it is not a hostname.
pub fn normalize_host(input: &str) -> Option<String> {
    let mut s = input.trim();
    if let Some(i) = s.find("://") {
        s = &s[i + 3..];
    }
    if let Some(i) = s.find(['/', '?', '#']) {
        s = &s[..i];
    }
    if let Some(i) = s.rfind('@') {
        s = &s[i + 1..];
    }
    // Strip a port, but leave bracketed IPv6 alone (not a valid site host anyway).
    if let Some(i) = s.rfind(':')
        && !s.starts_with('[')
    {
        s = &s[..i];
    }
    let s = s.trim_end_matches('.').to_ascii_lowercase();
    let s = s.strip_prefix("www.").map(str::to_string).unwrap_or(s);
    let valid = !s.is_empty()
        && s.len() <= MAX_HOST_LEN
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    valid.then_some(s)
}

/// An IANA time zone name, checked against the tz database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(input: &str) -> Result<Self, SiteError> {
        input
            .trim()
            .parse::<chrono_tz::Tz>()
            .map(|tz| Self(tz.name().to_string()))
            .map_err(|_| SiteError::InvalidTimezone(input.to_string()))
    }

    pub fn utc() -> Self {
        Self("UTC".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Numeric site id, as stored with every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteId(pub u32);

/// A site and its recording policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub id: SiteId,
    pub domain: SiteDomain,
    /// Further hostnames whose traffic belongs to this site (besides subdomains).
    pub hostnames: Vec<SiteDomain>,
    pub timezone: TimeZoneName,
    /// Drop hits sent with `DNT: 1`.
    pub honor_dnt: bool,
    /// Drop hits sent with `Sec-GPC: 1`.
    pub honor_gpc: bool,
    /// Client addresses whose hits are not recorded (an owner's office, a monitor).
    pub excluded_ips: Vec<ipnet::IpNet>,
    /// Events older than this many days are deleted by the retention job; 0 keeps them forever.
    pub retention_days: u32,
}

/// Why a host cannot be given to a site: another site receives its traffic. Names the host, not
/// the other site (the caller may not be allowed to see it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostConflict {
    #[error("{host} is already counted for another site; remove it there first")]
    Taken { host: SiteDomain },
    #[error(
        "{host} is part of another site ({parent} and its subdomains); only that site's owners and admins may give it to a site of its own"
    )]
    Covered { host: SiteDomain, parent: String },
}

impl HostConflict {
    pub fn host(&self) -> &SiteDomain {
        match self {
            Self::Taken { host } | Self::Covered { host, .. } => host,
        }
    }
}

/// What a new site needs; the store assigns the id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSite {
    pub domain: SiteDomain,
    pub hostnames: Vec<SiteDomain>,
    pub timezone: TimeZoneName,
}

impl NewSite {
    /// The new site as stored under `id`, with the defaults every store gives it: Do Not Track
    /// and Global Privacy Control honoured, no excluded addresses, data kept forever.
    pub fn stored_as(self, id: SiteId) -> Site {
        Site {
            id,
            domain: self.domain,
            hostnames: self.hostnames,
            timezone: self.timezone,
            honor_dnt: true,
            honor_gpc: true,
            excluded_ips: vec![],
            retention_days: 0,
        }
    }
}

/// Finds the site a hostname belongs to: its domain, any subdomain of it, or an extra hostname.
/// The most specific match wins (`blog.example.com` over `example.com` when both are sites).
#[derive(Debug, Default, Clone)]
pub struct SiteDirectory {
    // Shared so the ingest path takes a reference count, not a copy of the site's lists.
    sites: Vec<Arc<Site>>,
    by_host: HashMap<String, usize>,
}

impl SiteDirectory {
    pub fn new(sites: Vec<Site>) -> Self {
        let sites: Vec<Arc<Site>> = sites.into_iter().map(Arc::new).collect();
        let mut by_host = HashMap::new();
        for (i, site) in sites.iter().enumerate() {
            for host in std::iter::once(&site.domain).chain(site.hostnames.iter()) {
                by_host.entry(host.as_str().to_string()).or_insert(i);
            }
        }
        Self { sites, by_host }
    }

    /// The site for a raw host (an `Origin`, a URL or a bare domain), if any.
    pub fn resolve(&self, raw_host: &str) -> Option<&Arc<Site>> {
        let host = normalize_host(raw_host)?;
        let mut candidate = host.as_str();
        loop {
            if let Some(&i) = self.by_host.get(candidate) {
                return Some(&self.sites[i]);
            }
            candidate = candidate.split_once('.')?.1;
        }
    }

    pub fn sites(&self) -> &[Arc<Site>] {
        &self.sites
    }

    /// Checks that giving `hosts` to `site` (`None`: a site being created) takes no traffic from
    /// a site the caller does not manage (`manages`). Each host goes to the site that receives
    /// its traffic today (the most specific match); a host another site lists exactly is never
    /// given away (one host, one site), a subdomain of another site's host only by its managers.
    pub fn check_claims<'a>(
        &self,
        site: Option<SiteId>,
        hosts: impl IntoIterator<Item = &'a SiteDomain>,
        manages: impl Fn(SiteId) -> bool,
    ) -> Result<(), HostConflict> {
        for host in hosts {
            if let Some(&i) = self.by_host.get(host.as_str()) {
                let owner = &self.sites[i];
                if Some(owner.id) != site {
                    return Err(HostConflict::Taken { host: host.clone() });
                }
                continue;
            }
            let mut candidate = host.as_str();
            while let Some((_, parent)) = candidate.split_once('.') {
                candidate = parent;
                let Some(&i) = self.by_host.get(candidate) else { continue };
                let owner = &self.sites[i];
                if Some(owner.id) != site && !manages(owner.id) {
                    return Err(HostConflict::Covered { host: host.clone(), parent: candidate.to_string() });
                }
                break;
            }
        }
        Ok(())
    }

    pub fn by_domain(&self, domain: &SiteDomain) -> Option<&Arc<Site>> {
        self.sites.iter().find(|s| &s.domain == domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(id: u32, domain: &str, extra: &[&str]) -> Site {
        Site {
            id: SiteId(id),
            domain: SiteDomain::parse(domain).unwrap(),
            hostnames: extra.iter().map(|h| SiteDomain::parse(h).unwrap()).collect(),
            timezone: TimeZoneName::utc(),
            honor_dnt: true,
            honor_gpc: true,
            excluded_ips: vec![],
            retention_days: 0,
        }
    }

    #[test]
    fn domains_are_normalized() {
        assert_eq!(SiteDomain::parse("https://WWW.Example.com:8443/x?y").unwrap().as_str(), "example.com");
        assert_eq!(SiteDomain::parse("shop.test.").unwrap().as_str(), "shop.test");
        assert!(SiteDomain::parse("").is_err());
        assert!(SiteDomain::parse("exa mple.com").is_err());
        assert!(SiteDomain::parse("-bad.com").is_err());
        assert!(SiteDomain::parse("a..b").is_err());
        assert!(SiteDomain::parse("__main__").is_err(), "underscores are not valid in hostnames");
    }

    #[test]
    fn resolves_domain_subdomains_and_extra_hostnames() {
        let dir =
            SiteDirectory::new(vec![site(1, "example.com", &["example-cdn.net"]), site(2, "blog.example.com", &[])]);
        let id = |h: &str| dir.resolve(h).map(|s| s.id.0);
        assert_eq!(id("https://example.com"), Some(1));
        assert_eq!(id("http://www.example.com:8080"), Some(1));
        assert_eq!(id("https://shop.eu.example.com"), Some(1));
        assert_eq!(id("https://blog.example.com"), Some(2), "most specific site wins");
        assert_eq!(id("https://x.blog.example.com"), Some(2));
        assert_eq!(id("https://static.example-cdn.net"), Some(1));
        assert_eq!(id("https://notexample.com"), None, "suffix must be a whole label");
        assert_eq!(id("https://example.com.evil.org"), None);
        assert_eq!(id("null"), None);
    }

    #[test]
    fn hosts_of_other_sites_are_not_given_away() {
        let dir = SiteDirectory::new(vec![site(1, "victim.test", &["victim-cdn.test"]), site(2, "own.test", &[])]);
        let host = |h: &str| SiteDomain::parse(h).unwrap();
        let nobody = |_: SiteId| false;
        let check = |site: Option<u32>, h: &str, manages: &dyn Fn(SiteId) -> bool| {
            dir.check_claims(site.map(SiteId), [&host(h)], manages)
        };
        assert_eq!(
            check(None, "blog.victim.test", &nobody),
            Err(HostConflict::Covered { host: host("blog.victim.test"), parent: "victim.test".into() })
        );
        assert!(matches!(check(Some(2), "shop.victim.test", &nobody), Err(HostConflict::Covered { .. })));
        assert!(matches!(check(Some(2), "static.victim-cdn.test", &nobody), Err(HostConflict::Covered { .. })));
        assert_eq!(check(Some(2), "victim.test", &nobody), Err(HostConflict::Taken { host: host("victim.test") }));
        assert!(check(None, "victim-cdn.test", &|_| true).is_err(), "an exact host is never shared, even by admins");
        assert_eq!(check(None, "blog.victim.test", &|s| s == SiteId(1)), Ok(()), "the victim's admins may split");
        assert_eq!(check(Some(1), "shop.victim.test", &nobody), Ok(()), "a site's own subdomains");
        assert_eq!(check(Some(2), "x.own.test", &nobody), Ok(()));
        assert_eq!(check(None, "elsewhere.test", &nobody), Ok(()));
        assert_eq!(check(None, "test", &nobody), Ok(()), "a parent takes nothing: the more specific sites win");
    }

    #[test]
    fn time_zones_are_checked() {
        assert_eq!(TimeZoneName::parse("Europe/Berlin").unwrap().as_str(), "Europe/Berlin");
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
    }
}

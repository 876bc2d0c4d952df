//! Sites and salts in DuckDB (small tables, indexes are fine here).

use duckdb::{OptionalExt, params};

use super::{all_rows, internal};
use crate::domain::site::{NewSite, Site, SiteDomain, SiteId, TimeZoneName};
use crate::domain::visitor::{Day, Salt};
use crate::ports::sites::{SiteRepoError, SiteRepository};
use crate::ports::store::{SaltStore, StoreResult};

on_own_connection!(
    /// Site and salt repository on its own connection.
    DuckSites
);

#[allow(clippy::too_many_arguments)] // one per column of the row
fn parse_site(
    id: u32,
    domain: String,
    hostnames: String,
    timezone: String,
    honor_dnt: bool,
    honor_gpc: bool,
    excluded: String,
    retention_days: i32,
) -> Result<Site, SiteRepoError> {
    let corrupt = |e: String| SiteRepoError::Corrupt(e);
    let list = |s: &str| -> Vec<String> { serde_json::from_str::<Vec<String>>(s).unwrap_or_default() };
    Ok(Site {
        id: SiteId(id),
        domain: SiteDomain::parse(&domain).map_err(|e| corrupt(e.to_string()))?,
        hostnames: list(&hostnames).iter().filter_map(|h| SiteDomain::parse(h).ok()).collect(),
        timezone: TimeZoneName::parse(&timezone).map_err(|e| corrupt(e.to_string()))?,
        honor_dnt,
        honor_gpc,
        excluded_ips: list(&excluded).iter().filter_map(|n| parse_net(n)).collect(),
        retention_days: u32::try_from(retention_days).unwrap_or(0),
    })
}

fn parse_net(s: &str) -> Option<ipnet::IpNet> {
    s.parse::<ipnet::IpNet>().ok().or_else(|| s.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}

impl SiteRepository for DuckSites {
    fn list(&self) -> Result<Vec<Site>, SiteRepoError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT id, domain, to_json(hostnames)::VARCHAR, timezone, honor_dnt, honor_gpc, to_json(excluded_ips)::VARCHAR,
                        retention_days
                 FROM sites ORDER BY domain",
            )
            .map_err(|e| SiteRepoError::Store(internal(e)))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
            })
            .map_err(|e| SiteRepoError::Store(internal(e)))?
            .collect::<Result<Vec<(u32, String, String, String, bool, bool, String, i32)>, _>>()
            .map_err(|e| SiteRepoError::Store(internal(e)))?;
        rows.into_iter().map(|(a, b, c, d, e, f, g, h)| parse_site(a, b, c, d, e, f, g, h)).collect()
    }

    fn add(&self, site: NewSite) -> Result<Site, SiteRepoError> {
        let conn = self.conn();
        let exists: Option<u32> = conn
            .query_row("SELECT id FROM sites WHERE domain = ?", [site.domain.as_str()], |r| r.get(0))
            .optional()
            .map_err(|e| SiteRepoError::Store(internal(e)))?;
        if exists.is_some() {
            return Err(SiteRepoError::Duplicate(site.domain));
        }
        let hostnames = serde_json::to_string(&site.hostnames.iter().map(|h| h.as_str()).collect::<Vec<_>>())
            .expect("strings serialize");
        let id: u32 = conn
            .query_row(
                "INSERT INTO sites (domain, hostnames, timezone) VALUES (?, ?::JSON::VARCHAR[], ?) RETURNING id",
                params![site.domain.as_str(), hostnames, site.timezone.as_str()],
                |r| r.get(0),
            )
            .map_err(|e| SiteRepoError::Store(internal(e)))?;
        Ok(site.stored_as(SiteId(id)))
    }

    fn update(&self, site: &Site) -> Result<(), SiteRepoError> {
        let strings = |v: Vec<String>| serde_json::to_string(&v).expect("strings serialize");
        let hostnames = strings(site.hostnames.iter().map(ToString::to_string).collect());
        let excluded = strings(site.excluded_ips.iter().map(ToString::to_string).collect());
        let changed = self
            .conn()
            .execute(
                "UPDATE sites SET hostnames = ?::JSON::VARCHAR[], timezone = ?, honor_dnt = ?, honor_gpc = ?,
                        excluded_ips = ?::JSON::VARCHAR[], retention_days = ?
                 WHERE id = ?",
                params![
                    hostnames,
                    site.timezone.as_str(),
                    site.honor_dnt,
                    site.honor_gpc,
                    excluded,
                    i64::from(site.retention_days),
                    site.id.0
                ],
            )
            .map_err(|e| SiteRepoError::Store(internal(e)))?;
        if changed == 0 {
            return Err(SiteRepoError::NotFound(site.domain.clone()));
        }
        Ok(())
    }

    fn delete(&self, site: &Site) -> Result<(), SiteRepoError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| SiteRepoError::Store(internal(e)))?;
        for table in SITE_TABLES {
            tx.execute(&format!("DELETE FROM {table} WHERE site_id = ?"), [site.id.0])
                .map_err(|e| SiteRepoError::Store(internal(e)))?;
        }
        let changed =
            tx.execute("DELETE FROM sites WHERE id = ?", [site.id.0]).map_err(|e| SiteRepoError::Store(internal(e)))?;
        if changed == 0 {
            return Err(SiteRepoError::NotFound(site.domain.clone()));
        }
        tx.commit().map_err(|e| SiteRepoError::Store(internal(e)))
    }
}

/// Tables whose rows belong to one site (`site_id`), deleted with it.
const SITE_TABLES: &[&str] = &[
    "events",
    "visit_ends",
    "day_totals",
    "day_dims",
    "web_vitals",
    "engagements",
    "goals",
    "funnels",
    "imported_visitors",
    "imported_breakdowns",
    "imports",
    "email_subscriptions",
    "webhooks",
    "webhook_deliveries",
    "alert_settings",
    "alerts",
    "crawler_fetches",
    "annotations",
    "segments",
];

impl SaltStore for DuckSites {
    fn load_salts(&self) -> StoreResult<Vec<(Day, Salt)>> {
        let sql = "SELECT day, salt FROM salts ORDER BY day DESC";
        let rows = all_rows(&self.conn(), sql, [], |r| Ok((r.get::<_, i32>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        Ok(rows
            .into_iter()
            .filter_map(|(day, bytes)| <[u8; 32]>::try_from(bytes.as_slice()).ok().map(|b| (day, Salt(b))))
            .collect())
    }

    fn save_salt(&self, day: Day, salt: &Salt) -> StoreResult<()> {
        self.conn()
            .execute("INSERT OR REPLACE INTO salts (day, salt) VALUES (?, ?)", params![day, salt.0.to_vec()])
            .map(|_| ())
            .map_err(internal)
    }

    fn delete_salts_through(&self, day: Day) -> StoreResult<()> {
        self.conn().execute("DELETE FROM salts WHERE day <= ?", [day]).map(|_| ()).map_err(internal)
    }
}

#[cfg(test)]
mod conformance {
    #[test]
    fn passes_the_site_repository_conformance_suite() {
        crate::ports::conformance::site_repository(|| super::DuckSites::new(super::super::memory_connection()));
    }

    /// Every table with a `site_id` loses the site's rows with it: here, or in the accounts
    /// adapter's `forget_site` (members, share links, invites).
    #[test]
    fn every_table_with_a_site_id_is_cleared_when_the_site_goes() {
        let conn = super::super::memory_connection();
        let mut stmt = conn
            .prepare(
                "SELECT DISTINCT table_name FROM information_schema.columns WHERE column_name = 'site_id' ORDER BY 1",
            )
            .unwrap();
        let tables: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        let forgotten_by_accounts = ["invites", "memberships", "share_links"];
        let missing: Vec<&String> = tables
            .iter()
            .filter(|t| !super::SITE_TABLES.contains(&t.as_str()) && !forgotten_by_accounts.contains(&t.as_str()))
            .collect();
        assert!(missing.is_empty(), "tables keeping a deleted site's rows: {missing:?}");
        assert!(tables.iter().any(|t| t == "segments") && tables.iter().any(|t| t == "crawler_fetches"), "{tables:?}");
    }

    #[test]
    fn passes_the_salt_store_conformance_suite() {
        crate::ports::conformance::salt_store(|| super::DuckSites::new(super::super::memory_connection()));
    }
}

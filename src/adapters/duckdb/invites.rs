//! Invitations and the audit log of the account store, in DuckDB.

use duckdb::{OptionalExt, params};

use super::accounts::{DuckAccounts, corrupt};
use super::{all_rows, internal};
use crate::domain::accounts::{Email, Role, UserId};
use crate::domain::site::SiteId;
use crate::ports::accounts::{AuditEntry, AuditStore, InviteRecord, InviteStore};
use crate::ports::store::StoreResult;

impl InviteStore for DuckAccounts {
    fn add_invite(&self, digest: &[u8; 32], invite: &InviteRecord) -> StoreResult<()> {
        self.conn()
            .execute(
                "INSERT INTO invites (digest, email, is_admin, site_id, role, created_by, expires_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                params![
                    digest.to_vec(),
                    invite.email.as_str(),
                    invite.is_admin,
                    invite.site.map(|(s, _)| s.0),
                    invite.site.map(|(_, r)| r.as_str()),
                    invite.created_by.map(|u| u.0),
                    invite.expires_at
                ],
            )
            .map_err(internal)?;
        Ok(())
    }

    fn invite(&self, digest: &[u8; 32]) -> StoreResult<Option<InviteRecord>> {
        let row = self
            .conn()
            .query_row(
                "SELECT email, is_admin, site_id, role, created_by, expires_at FROM invites WHERE digest = ?",
                [digest.to_vec()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, bool>(1)?,
                        r.get::<_, Option<u32>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<u32>>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(internal)?;
        let Some((email, is_admin, site, role, created_by, expires_at)) = row else { return Ok(None) };
        let site = match (site, role) {
            (Some(s), Some(r)) => Some((SiteId(s), Role::parse(&r).map_err(|_| corrupt("role"))?)),
            _ => None,
        };
        Ok(Some(InviteRecord {
            email: Email::parse(&email).map_err(|_| corrupt("e-mail"))?,
            is_admin,
            site,
            created_by: created_by.map(UserId),
            expires_at,
        }))
    }

    fn delete_invite(&self, digest: &[u8; 32]) -> StoreResult<()> {
        self.conn().execute("DELETE FROM invites WHERE digest = ?", [digest.to_vec()]).map_err(internal)?;
        Ok(())
    }
}

impl AuditStore for DuckAccounts {
    fn audit(&self, e: &AuditEntry) -> StoreResult<()> {
        self.conn()
            .execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?)", params![e.at, e.actor, e.action, e.target, e.ip])
            .map_err(internal)?;
        Ok(())
    }

    fn audit_log(&self, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let sql = "SELECT happened_at, actor, action, target, ip FROM audit_log ORDER BY happened_at DESC LIMIT ?";
        all_rows(&self.conn(), sql, [limit], |r| {
            Ok(AuditEntry { at: r.get(0)?, actor: r.get(1)?, action: r.get(2)?, target: r.get(3)?, ip: r.get(4)? })
        })
    }

    fn prune_audit(&self, before: i64) -> StoreResult<u64> {
        let n = self.conn().execute("DELETE FROM audit_log WHERE happened_at < ?", [before]).map_err(internal)?;
        Ok(n as u64)
    }
}

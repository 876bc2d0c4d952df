//! External (OpenID Connect) identities of accounts in DuckDB, on the account store's connection.

use duckdb::{OptionalExt, params};

use super::accounts::DuckAccounts;
use super::internal;
use crate::domain::accounts::UserId;
use crate::ports::sso::ExternalIdentityStore;
use crate::ports::store::StoreResult;

impl ExternalIdentityStore for DuckAccounts {
    fn identity_user(&self, issuer: &str, subject: &str) -> StoreResult<Option<UserId>> {
        let id: Option<u32> = self
            .conn()
            .query_row(
                "SELECT user_id FROM external_identities WHERE issuer = ? AND subject = ?",
                params![issuer, subject],
                |r| r.get(0),
            )
            .optional()
            .map_err(internal)?;
        Ok(id.map(UserId))
    }

    fn link_identity(&self, user: UserId, issuer: &str, subject: &str, at: i64) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        tx.execute("DELETE FROM external_identities WHERE issuer = ? AND subject = ?", params![issuer, subject])
            .map_err(internal)?;
        tx.execute("INSERT INTO external_identities VALUES (?, ?, ?, ?)", params![issuer, subject, user.0, at])
            .map_err(internal)?;
        tx.commit().map_err(internal)
    }

    fn has_identity(&self, user: UserId) -> StoreResult<bool> {
        let n: i64 = self
            .conn()
            .query_row("SELECT count(*) FROM external_identities WHERE user_id = ?", [user.0], |r| r.get(0))
            .map_err(internal)?;
        Ok(n > 0)
    }
}

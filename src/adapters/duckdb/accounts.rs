//! Accounts in DuckDB: small tables on their own connection, every change under one lock.

use duckdb::{OptionalExt, Row, params};

use super::{all_rows, changed, first_row, internal};
use crate::domain::accounts::{Email, Role, Scope, UserId};
use crate::domain::language::Language;
use crate::domain::site::SiteId;
use crate::ports::accounts::{
    MembershipStore, NewUser, SessionRecord, SessionStore, ShareRecord, ShareStore, TokenRecord, TokenStore, User,
    UserStore,
};
use crate::ports::store::{StoreError, StoreResult};

on_own_connection!(
    /// The account store.
    DuckAccounts
);

pub(super) fn corrupt(what: &str) -> StoreError {
    StoreError::Internal(format!("stored {what} is invalid"))
}

const USER_COLS: &str = "id, email, name, password_hash, is_admin, created_at, last_login_at, language";

type UserRow = (u32, String, String, String, bool, i64, Option<i64>, Option<String>);

fn user_row(r: &Row<'_>) -> duckdb::Result<UserRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
}

/// Pairs of an id and a role, as `sql` with one id parameter lists them.
fn roles(conn: &duckdb::Connection, sql: &str, id: u32) -> StoreResult<Vec<(u32, Role)>> {
    let rows = all_rows(conn, sql, [id], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))?;
    rows.into_iter().map(|(id, r)| Ok((id, Role::parse(&r).map_err(|_| corrupt("role"))?))).collect()
}

fn to_user(row: UserRow) -> StoreResult<User> {
    let (id, email, name, password_hash, is_admin, created_at, last_login_at, language) = row;
    Ok(User {
        id: UserId(id),
        email: Email::parse(&email).map_err(|_| corrupt("e-mail"))?,
        name,
        password_hash,
        is_admin,
        created_at,
        last_login_at,
        language: language.map(|l| Language::parse(&l).map_err(|_| corrupt("language"))).transpose()?,
    })
}

const TOKEN_COLS: &str = "id, user_id, name, scope, site_ids, created_at, expires_at, last_used_at";

type TokenRow = (u32, u32, String, String, String, i64, Option<i64>, Option<i64>);

fn token_row(r: &Row<'_>) -> duckdb::Result<TokenRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
}

fn to_token(row: TokenRow) -> StoreResult<TokenRecord> {
    let (id, user, name, scope, sites, created_at, expires_at, last_used_at) = row;
    Ok(TokenRecord {
        id,
        user: UserId(user),
        name,
        scope: Scope::parse(&scope).map_err(|_| corrupt("token scope"))?,
        sites: sites.split(',').filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).map(SiteId).collect(),
        created_at,
        expires_at,
        last_used_at,
    })
}

fn site_list(sites: &[SiteId]) -> String {
    sites.iter().map(|s| s.0.to_string()).collect::<Vec<_>>().join(",")
}

const SHARE_COLS: &str = "id, site_id, name, password_hash, created_at, segment_id";

fn share_row(r: &Row<'_>) -> duckdb::Result<ShareRecord> {
    Ok(ShareRecord {
        id: r.get(0)?,
        site: SiteId(r.get(1)?),
        name: r.get(2)?,
        password_hash: r.get(3)?,
        created_at: r.get(4)?,
        segment: r.get(5)?,
    })
}

impl UserStore for DuckAccounts {
    fn count_users(&self) -> StoreResult<u64> {
        self.conn().query_row("SELECT count(*) FROM users", [], |r| r.get(0)).map_err(internal)
    }

    fn add_user(&self, user: &NewUser<'_>, only_if_no_users: bool) -> StoreResult<Option<User>> {
        let NewUser { email, name, password_hash, is_admin } = *user;
        let conn = self.conn();
        let (users, same): (i64, i64) = conn
            .query_row("SELECT count(*), count(*) FILTER (email = ?) FROM users", [email.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(internal)?;
        if same > 0 || (only_if_no_users && users > 0) {
            return Ok(None);
        }
        let now = chrono::Utc::now().timestamp_micros();
        let row = conn
            .query_row(
                &format!(
                    "INSERT INTO users (email, name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?, ?)
                     RETURNING {USER_COLS}"
                ),
                params![email.as_str(), name, password_hash, is_admin, now],
                user_row,
            )
            .map_err(internal)?;
        to_user(row).map(Some)
    }

    fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = ?");
        first_row(&self.conn(), &sql, [id.0], user_row)?.map(to_user).transpose()
    }

    fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE email = ?");
        first_row(&self.conn(), &sql, [email.as_str()], user_row)?.map(to_user).transpose()
    }

    fn users(&self) -> StoreResult<Vec<User>> {
        let rows = all_rows(&self.conn(), &format!("SELECT {USER_COLS} FROM users ORDER BY id"), [], user_row)?;
        rows.into_iter().map(to_user).collect()
    }

    fn set_password(&self, id: UserId, password_hash: &str) -> StoreResult<()> {
        self.conn()
            .execute("UPDATE users SET password_hash = ? WHERE id = ?", params![password_hash, id.0])
            .map_err(internal)?;
        Ok(())
    }

    fn set_admin(&self, id: UserId, is_admin: bool) -> StoreResult<bool> {
        changed(&self.conn(), "UPDATE users SET is_admin = ? WHERE id = ?", params![is_admin, id.0])
    }

    fn touch_login(&self, id: UserId, at: i64) -> StoreResult<()> {
        self.conn().execute("UPDATE users SET last_login_at = ? WHERE id = ?", params![at, id.0]).map_err(internal)?;
        Ok(())
    }

    fn set_language(&self, id: UserId, language: Language) -> StoreResult<bool> {
        changed(&self.conn(), "UPDATE users SET language = ? WHERE id = ?", params![language.as_str(), id.0])
    }

    fn delete_user(&self, id: UserId) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        for sql in [
            "DELETE FROM memberships WHERE user_id = ?",
            "DELETE FROM sessions WHERE user_id = ?",
            "DELETE FROM api_tokens WHERE user_id = ?",
            "DELETE FROM totp_authenticators WHERE user_id = ?",
            "DELETE FROM recovery_codes WHERE user_id = ?",
            "DELETE FROM external_identities WHERE user_id = ?",
            "DELETE FROM passkeys WHERE user_id = ?",
        ] {
            tx.execute(sql, [id.0]).map_err(internal)?;
        }
        let n = tx.execute("DELETE FROM users WHERE id = ?", [id.0]).map_err(internal)?;
        tx.commit().map_err(internal)?;
        Ok(n > 0)
    }
}

impl MembershipStore for DuckAccounts {
    fn memberships(&self, user: UserId) -> StoreResult<Vec<(SiteId, Role)>> {
        let sql = "SELECT site_id, role FROM memberships WHERE user_id = ?";
        Ok(roles(&self.conn(), sql, user.0)?.into_iter().map(|(s, r)| (SiteId(s), r)).collect())
    }

    fn members(&self, site: SiteId) -> StoreResult<Vec<(UserId, Role)>> {
        let sql = "SELECT user_id, role FROM memberships WHERE site_id = ? ORDER BY user_id";
        Ok(roles(&self.conn(), sql, site.0)?.into_iter().map(|(u, r)| (UserId(u), r)).collect())
    }

    fn set_member(&self, user: UserId, site: SiteId, role: Role) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        tx.execute("DELETE FROM memberships WHERE user_id = ? AND site_id = ?", [user.0, site.0]).map_err(internal)?;
        tx.execute("INSERT INTO memberships VALUES (?, ?, ?)", params![user.0, site.0, role.as_str()])
            .map_err(internal)?;
        tx.commit().map_err(internal)
    }

    fn remove_member(&self, user: UserId, site: SiteId) -> StoreResult<bool> {
        changed(&self.conn(), "DELETE FROM memberships WHERE user_id = ? AND site_id = ?", [user.0, site.0])
    }

    fn forget_site(&self, site: SiteId) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        tx.execute("DELETE FROM memberships WHERE site_id = ?", [site.0]).map_err(internal)?;
        tx.execute("DELETE FROM sessions WHERE share_id IN (SELECT id FROM share_links WHERE site_id = ?)", [site.0])
            .map_err(internal)?;
        tx.execute("DELETE FROM share_links WHERE site_id = ?", [site.0]).map_err(internal)?;
        tx.execute("DELETE FROM invites WHERE site_id = ?", [site.0]).map_err(internal)?;
        // A token limited to sites that are all gone would silently widen to "all sites": delete it.
        let id = site.0.to_string();
        let sql = "SELECT id, site_ids FROM api_tokens WHERE site_ids <> ''";
        let tokens = all_rows(&tx, sql, [], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))?;
        for (token, sites) in tokens {
            let rest: Vec<&str> = sites.split(',').filter(|s| *s != id).collect();
            if rest.len() == sites.split(',').count() {
                continue;
            }
            if rest.is_empty() {
                tx.execute("DELETE FROM api_tokens WHERE id = ?", [token]).map_err(internal)?;
            } else {
                tx.execute("UPDATE api_tokens SET site_ids = ? WHERE id = ?", params![rest.join(","), token])
                    .map_err(internal)?;
            }
        }
        tx.commit().map_err(internal)
    }
}

impl SessionStore for DuckAccounts {
    fn add_session(&self, digest: &[u8; 32], user: UserId, expires_at: i64) -> StoreResult<()> {
        self.conn()
            .execute(
                "INSERT INTO sessions (digest, user_id, expires_at) VALUES (?, ?, ?)",
                params![digest.to_vec(), user.0, expires_at],
            )
            .map_err(internal)?;
        Ok(())
    }

    fn add_share_session(&self, digest: &[u8; 32], share: u32, expires_at: i64) -> StoreResult<()> {
        self.conn()
            .execute(
                "INSERT INTO sessions (digest, share_id, expires_at) VALUES (?, ?, ?)",
                params![digest.to_vec(), share, expires_at],
            )
            .map_err(internal)?;
        Ok(())
    }

    fn session(&self, digest: &[u8; 32]) -> StoreResult<Option<SessionRecord>> {
        self.conn()
            .query_row("SELECT user_id, share_id, expires_at FROM sessions WHERE digest = ?", [digest.to_vec()], |r| {
                Ok(SessionRecord {
                    user: r.get::<_, Option<u32>>(0)?.map(UserId),
                    share: r.get(1)?,
                    expires_at: r.get(2)?,
                })
            })
            .optional()
            .map_err(internal)
    }

    fn delete_session(&self, digest: &[u8; 32]) -> StoreResult<()> {
        self.conn().execute("DELETE FROM sessions WHERE digest = ?", [digest.to_vec()]).map_err(internal)?;
        Ok(())
    }

    fn delete_sessions_of(&self, user: UserId) -> StoreResult<()> {
        self.conn().execute("DELETE FROM sessions WHERE user_id = ?", [user.0]).map_err(internal)?;
        Ok(())
    }

    fn delete_expired(&self, now: i64) -> StoreResult<()> {
        let conn = self.conn();
        conn.execute("DELETE FROM sessions WHERE expires_at <= ?", [now]).map_err(internal)?;
        conn.execute("DELETE FROM invites WHERE expires_at <= ?", [now]).map_err(internal)?;
        Ok(())
    }
}

impl TokenStore for DuckAccounts {
    fn add_token(&self, digest: &[u8; 32], token: &TokenRecord) -> StoreResult<TokenRecord> {
        let row = self
            .conn()
            .query_row(
                &format!(
                    "INSERT INTO api_tokens (digest, user_id, name, scope, site_ids, created_at, expires_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {TOKEN_COLS}"
                ),
                params![
                    digest.to_vec(),
                    token.user.0,
                    token.name,
                    token.scope.as_str(),
                    site_list(&token.sites),
                    token.created_at,
                    token.expires_at
                ],
                token_row,
            )
            .map_err(internal)?;
        to_token(row)
    }

    fn token(&self, digest: &[u8; 32]) -> StoreResult<Option<TokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE digest = ?");
        first_row(&self.conn(), &sql, [digest.to_vec()], token_row)?.map(to_token).transpose()
    }

    fn tokens(&self, user: Option<UserId>) -> StoreResult<Vec<TokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE ?::UINTEGER IS NULL OR user_id = ? ORDER BY id");
        let id = user.map(|u| u.0);
        all_rows(&self.conn(), &sql, params![id, id], token_row)?.into_iter().map(to_token).collect()
    }

    fn token_by_id(&self, id: u32) -> StoreResult<Option<TokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = ?");
        first_row(&self.conn(), &sql, [id], token_row)?.map(to_token).transpose()
    }

    fn delete_token(&self, id: u32) -> StoreResult<bool> {
        changed(&self.conn(), "DELETE FROM api_tokens WHERE id = ?", [id])
    }

    fn touch_token(&self, id: u32, at: i64) -> StoreResult<()> {
        self.conn()
            .execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", params![at, id])
            .map_err(internal)?;
        Ok(())
    }
}

impl ShareStore for DuckAccounts {
    fn add_share(&self, digest: &[u8; 32], share: &ShareRecord) -> StoreResult<ShareRecord> {
        self.conn()
            .query_row(
                &format!(
                    "INSERT INTO share_links (digest, site_id, name, password_hash, created_at, segment_id)
                     VALUES (?, ?, ?, ?, ?, ?) RETURNING {SHARE_COLS}"
                ),
                params![
                    digest.to_vec(),
                    share.site.0,
                    share.name,
                    share.password_hash,
                    share.created_at,
                    share.segment
                ],
                share_row,
            )
            .map_err(internal)
    }

    fn share(&self, digest: &[u8; 32]) -> StoreResult<Option<ShareRecord>> {
        let sql = format!("SELECT {SHARE_COLS} FROM share_links WHERE digest = ?");
        first_row(&self.conn(), &sql, [digest.to_vec()], share_row)
    }

    fn shares(&self, site: SiteId) -> StoreResult<Vec<ShareRecord>> {
        let sql = format!("SELECT {SHARE_COLS} FROM share_links WHERE site_id = ? ORDER BY id");
        all_rows(&self.conn(), &sql, [site.0], share_row)
    }

    fn share_by_id(&self, id: u32) -> StoreResult<Option<ShareRecord>> {
        first_row(&self.conn(), &format!("SELECT {SHARE_COLS} FROM share_links WHERE id = ?"), [id], share_row)
    }

    fn delete_share(&self, site: SiteId, id: u32) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        let n = tx.execute("DELETE FROM share_links WHERE id = ? AND site_id = ?", [id, site.0]).map_err(internal)?;
        if n > 0 {
            tx.execute("DELETE FROM sessions WHERE share_id = ?", [id]).map_err(internal)?;
        }
        tx.commit().map_err(internal)?;
        Ok(n > 0)
    }
}

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod tests;

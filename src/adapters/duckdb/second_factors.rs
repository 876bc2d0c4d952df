//! TOTP authenticators, recovery codes and the instance's sign-in policy in DuckDB (on the
//! account store's connection: every change under its one lock).

use duckdb::{OptionalExt, params};

use super::accounts::DuckAccounts;
use super::{changed, internal};
use crate::domain::accounts::UserId;
use crate::ports::second_factors::{SecondFactorStore, SecurityPolicyStore, TotpRecord};
use crate::ports::store::StoreResult;

const TWO_FACTOR_REQUIRED: &str = "two_factor_required";

fn insert_codes(tx: &duckdb::Transaction<'_>, user: UserId, digests: &[[u8; 32]]) -> StoreResult<()> {
    tx.execute("DELETE FROM recovery_codes WHERE user_id = ?", [user.0]).map_err(internal)?;
    for digest in digests {
        tx.execute("INSERT INTO recovery_codes (user_id, digest) VALUES (?, ?)", params![user.0, digest.to_vec()])
            .map_err(internal)?;
    }
    Ok(())
}

impl SecondFactorStore for DuckAccounts {
    fn begin_totp(&self, user: UserId, sealed: &[u8], at: i64) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        let confirmed: i64 = tx
            .query_row("SELECT count(*) FROM totp_authenticators WHERE user_id = ? AND confirmed", [user.0], |r| {
                r.get(0)
            })
            .map_err(internal)?;
        if confirmed > 0 {
            return Ok(false);
        }
        tx.execute("DELETE FROM totp_authenticators WHERE user_id = ?", [user.0]).map_err(internal)?;
        tx.execute(
            "INSERT INTO totp_authenticators (user_id, sealed, created_at) VALUES (?, ?, ?)",
            params![user.0, sealed.to_vec(), at],
        )
        .map_err(internal)?;
        tx.commit().map_err(internal)?;
        Ok(true)
    }

    fn totp(&self, user: UserId) -> StoreResult<Option<TotpRecord>> {
        self.conn()
            .query_row(
                "SELECT sealed, confirmed, last_step FROM totp_authenticators WHERE user_id = ?",
                [user.0],
                |r| Ok(TotpRecord { sealed: r.get(0)?, confirmed: r.get(1)?, last_step: r.get(2)? }),
            )
            .optional()
            .map_err(internal)
    }

    fn confirm_totp(&self, user: UserId, step: i64, recovery: &[[u8; 32]]) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        let n = tx
            .execute(
                "UPDATE totp_authenticators SET confirmed = true, last_step = ? WHERE user_id = ? AND NOT confirmed",
                params![step, user.0],
            )
            .map_err(internal)?;
        if n == 0 {
            return Ok(false);
        }
        insert_codes(&tx, user, recovery)?;
        tx.commit().map_err(internal)?;
        Ok(true)
    }

    fn use_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        changed(
            &self.conn(),
            "UPDATE totp_authenticators SET last_step = ?
                 WHERE user_id = ? AND confirmed AND (last_step IS NULL OR last_step < ?)",
            params![step, user.0, step],
        )
    }

    fn replace_recovery_codes(&self, user: UserId, digests: &[[u8; 32]]) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        insert_codes(&tx, user, digests)?;
        tx.commit().map_err(internal)
    }

    fn use_recovery_code(&self, user: UserId, digest: &[u8; 32], at: i64) -> StoreResult<bool> {
        changed(
            &self.conn(),
            "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND digest = ? AND used_at IS NULL",
            params![at, user.0, digest.to_vec()],
        )
    }

    fn recovery_codes_left(&self, user: UserId) -> StoreResult<u32> {
        self.conn()
            .query_row("SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL", [user.0], |r| {
                r.get(0)
            })
            .map_err(internal)
    }

    fn remove_second_factors(&self, user: UserId) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        let n = tx.execute("DELETE FROM totp_authenticators WHERE user_id = ?", [user.0]).map_err(internal)?;
        let m = tx.execute("DELETE FROM recovery_codes WHERE user_id = ?", [user.0]).map_err(internal)?;
        tx.commit().map_err(internal)?;
        Ok(n + m > 0)
    }
}

impl SecurityPolicyStore for DuckAccounts {
    fn two_factor_required(&self) -> StoreResult<bool> {
        let value: Option<String> = self
            .conn()
            .query_row("SELECT value FROM instance_policy WHERE name = ?", [TWO_FACTOR_REQUIRED], |r| r.get(0))
            .optional()
            .map_err(internal)?;
        Ok(value.as_deref() == Some("true"))
    }

    fn set_two_factor_required(&self, required: bool) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        tx.execute("DELETE FROM instance_policy WHERE name = ?", [TWO_FACTOR_REQUIRED]).map_err(internal)?;
        tx.execute("INSERT INTO instance_policy VALUES (?, ?)", params![TWO_FACTOR_REQUIRED, required.to_string()])
            .map_err(internal)?;
        tx.commit().map_err(internal)
    }
}

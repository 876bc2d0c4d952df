//! Passkeys in DuckDB, on the account store's connection (every change under its one lock).

use duckdb::params;

use super::accounts::DuckAccounts;
use super::{changed, first_row, internal};
use crate::domain::accounts::UserId;
use crate::ports::passkeys::{NewPasskey, PasskeyRecord, PasskeyStore};
use crate::ports::store::StoreResult;

const COLUMNS: &str = "id, user_id, name, credential_id, credential, created_at, last_used_at";

fn record(r: &duckdb::Row<'_>) -> duckdb::Result<PasskeyRecord> {
    Ok(PasskeyRecord {
        id: r.get(0)?,
        user: UserId(r.get(1)?),
        name: r.get(2)?,
        credential_id: r.get(3)?,
        credential: r.get(4)?,
        created_at: r.get(5)?,
        last_used_at: r.get(6)?,
    })
}

impl PasskeyStore for DuckAccounts {
    fn add_passkey(&self, user: UserId, name: &str, key: &NewPasskey, at: i64) -> StoreResult<Option<u32>> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        let taken: i64 = tx
            .query_row("SELECT count(*) FROM passkeys WHERE credential_id = ?", [&key.credential_id], |r| r.get(0))
            .map_err(internal)?;
        if taken > 0 {
            return Ok(None);
        }
        let id: u32 = tx
            .query_row(
                "INSERT INTO passkeys (user_id, name, credential_id, credential, created_at)
                 VALUES (?, ?, ?, ?, ?) RETURNING id",
                params![user.0, name, key.credential_id, key.credential, at],
                |r| r.get(0),
            )
            .map_err(internal)?;
        tx.commit().map_err(internal)?;
        Ok(Some(id))
    }

    fn passkeys(&self, user: UserId) -> StoreResult<Vec<PasskeyRecord>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare(&format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = ? ORDER BY id")).map_err(internal)?;
        let rows = stmt.query_map([user.0], record).map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)
    }

    fn passkey_by_credential(&self, credential_id: &[u8]) -> StoreResult<Option<PasskeyRecord>> {
        first_row(
            &self.conn(),
            &format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = ?"),
            [credential_id],
            record,
        )
    }

    fn rename_passkey(&self, user: UserId, id: u32, name: &str) -> StoreResult<bool> {
        changed(&self.conn(), "UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?", params![name, id, user.0])
    }

    fn remove_passkey(&self, user: UserId, id: u32) -> StoreResult<bool> {
        changed(&self.conn(), "DELETE FROM passkeys WHERE id = ? AND user_id = ?", params![id, user.0])
    }

    fn passkey_used(&self, id: u32, credential: Option<&str>, at: i64) -> StoreResult<()> {
        self.conn()
            .execute(
                "UPDATE passkeys SET last_used_at = ?, credential = coalesce(?, credential) WHERE id = ?",
                params![at, credential, id],
            )
            .map_err(internal)?;
        Ok(())
    }

    fn remove_passkeys(&self, user: UserId) -> StoreResult<u64> {
        let n = self.conn().execute("DELETE FROM passkeys WHERE user_id = ?", [user.0]).map_err(internal)?;
        Ok(n as u64)
    }
}

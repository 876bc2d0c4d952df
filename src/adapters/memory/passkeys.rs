//! Passkeys in memory.

use crate::domain::accounts::UserId;
use crate::ports::passkeys::{NewPasskey, PasskeyRecord, PasskeyStore};
use crate::ports::store::StoreResult;

use super::table::Table;

/// Passkeys in memory; ids count from 1 like the database's sequence.
#[derive(Default)]
pub struct MemoryPasskeys {
    keys: Table<PasskeyRecord>,
}

impl PasskeyStore for MemoryPasskeys {
    fn add_passkey(&self, user: UserId, name: &str, key: &NewPasskey, at: i64) -> StoreResult<Option<u32>> {
        let added = self.keys.add_unless(
            |k| k.credential_id == key.credential_id,
            |id| PasskeyRecord {
                id,
                user,
                name: name.to_string(),
                credential_id: key.credential_id.clone(),
                credential: key.credential.clone(),
                created_at: at,
                last_used_at: None,
            },
        );
        Ok(added.ok().map(|k| k.id))
    }

    fn passkeys(&self, user: UserId) -> StoreResult<Vec<PasskeyRecord>> {
        Ok(self.keys.select(|k| k.user == user))
    }

    fn passkey_by_credential(&self, credential_id: &[u8]) -> StoreResult<Option<PasskeyRecord>> {
        Ok(self.keys.find(|k| k.credential_id == credential_id))
    }

    fn rename_passkey(&self, user: UserId, id: u32, name: &str) -> StoreResult<bool> {
        Ok(self.keys.update(|k| k.id == id && k.user == user, |k| k.name = name.to_string()).is_some())
    }

    fn remove_passkey(&self, user: UserId, id: u32) -> StoreResult<bool> {
        Ok(self.keys.delete(|k| k.id == id && k.user == user) > 0)
    }

    fn passkey_used(&self, id: u32, credential: Option<&str>, at: i64) -> StoreResult<()> {
        self.keys.update(
            |k| k.id == id,
            |k| {
                k.last_used_at = Some(at);
                if let Some(c) = credential {
                    k.credential = c.to_string();
                }
            },
        );
        Ok(())
    }

    fn remove_passkeys(&self, user: UserId) -> StoreResult<u64> {
        Ok(self.keys.delete(|k| k.user == user))
    }
}

crate::conformance_tests!(passkey_store: MemoryPasskeys::default);

//! Passkeys in memory.

use std::sync::Mutex;

use crate::domain::accounts::UserId;
use crate::ports::passkeys::{NewPasskey, PasskeyRecord, PasskeyStore};
use crate::ports::store::StoreError;

/// Passkeys in memory; ids count from 1 like the database's sequence.
#[derive(Default)]
pub struct MemoryPasskeys {
    keys: Mutex<(u32, Vec<PasskeyRecord>)>,
}

impl MemoryPasskeys {
    fn keys(&self) -> std::sync::MutexGuard<'_, (u32, Vec<PasskeyRecord>)> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl PasskeyStore for MemoryPasskeys {
    fn add_passkey(&self, user: UserId, name: &str, key: &NewPasskey, at: i64) -> Result<Option<u32>, StoreError> {
        let mut keys = self.keys();
        if keys.1.iter().any(|k| k.credential_id == key.credential_id) {
            return Ok(None);
        }
        keys.0 += 1;
        let id = keys.0;
        keys.1.push(PasskeyRecord {
            id,
            user,
            name: name.to_string(),
            credential_id: key.credential_id.clone(),
            credential: key.credential.clone(),
            created_at: at,
            last_used_at: None,
        });
        Ok(Some(id))
    }

    fn passkeys(&self, user: UserId) -> Result<Vec<PasskeyRecord>, StoreError> {
        Ok(self.keys().1.iter().filter(|k| k.user == user).cloned().collect())
    }

    fn passkey_by_credential(&self, credential_id: &[u8]) -> Result<Option<PasskeyRecord>, StoreError> {
        Ok(self.keys().1.iter().find(|k| k.credential_id == credential_id).cloned())
    }

    fn rename_passkey(&self, user: UserId, id: u32, name: &str) -> Result<bool, StoreError> {
        let mut keys = self.keys();
        let found = keys.1.iter_mut().find(|k| k.id == id && k.user == user);
        Ok(found.map(|k| k.name = name.to_string()).is_some())
    }

    fn remove_passkey(&self, user: UserId, id: u32) -> Result<bool, StoreError> {
        let mut keys = self.keys();
        let before = keys.1.len();
        keys.1.retain(|k| !(k.id == id && k.user == user));
        Ok(keys.1.len() < before)
    }

    fn passkey_used(&self, id: u32, credential: Option<&str>, at: i64) -> Result<(), StoreError> {
        if let Some(k) = self.keys().1.iter_mut().find(|k| k.id == id) {
            k.last_used_at = Some(at);
            if let Some(c) = credential {
                k.credential = c.to_string();
            }
        }
        Ok(())
    }

    fn remove_passkeys(&self, user: UserId) -> Result<u64, StoreError> {
        let mut keys = self.keys();
        let before = keys.1.len();
        keys.1.retain(|k| k.user != user);
        Ok((before - keys.1.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passkey_store() {
        crate::ports::conformance::passkey_store(super::MemoryPasskeys::default);
    }
}

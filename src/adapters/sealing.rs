//! Secrets sealed at rest with XChaCha20-Poly1305 under a key derived from the server secret
//! (`--secret-key`, or a random one kept in `<data-dir>/secret.key`, readable by the owner only).

use std::io::Write as _;
use std::path::Path;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;

use crate::ports::second_factors::SecretCipher;

/// The file the generated server secret is kept in, inside the data directory.
pub const KEY_FILE: &str = "secret.key";
const NONCE_BYTES: usize = 24;

/// The key secrets are sealed with; its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct SealingKey([u8; 32]);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

impl SealingKey {
    /// The key derived from a server secret (any length; a long random one is best).
    pub fn from_secret(secret: &str) -> Self {
        Self(blake3::derive_key("hitkeep 2026-11 sealing of sign-in secrets", secret.trim().as_bytes()))
    }

    /// The given secret's key, else the one kept in `<data_dir>/secret.key` (created on first
    /// use, mode 0600).
    pub fn resolve(given: Option<&str>, data_dir: &Path) -> std::io::Result<Self> {
        if let Some(secret) = given.filter(|s| !s.trim().is_empty()) {
            return Ok(Self::from_secret(secret));
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(secret) => return Ok(Self::from_secret(&secret)),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            Err(_) => {}
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::create_dir_all(data_dir)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                file.write_all(secret.as_bytes())?;
                file.sync_all()?;
                Ok(Self::from_secret(&secret))
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Ok(Self::from_secret(&std::fs::read_to_string(&path)?))
            }
            Err(e) => Err(e),
        }
    }
}

/// XChaCha20-Poly1305 with a random nonce per seal, stored in front of the ciphertext.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub fn new(key: &SealingKey) -> Self {
        Self { cipher: XChaCha20Poly1305::new(&key.0.into()) }
    }
}

impl SecretCipher for Sealer {
    fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self.cipher.encrypt(&nonce, plain).expect("sealing in memory cannot fail");
        [nonce.as_slice(), &sealed].concat()
    }

    fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        self.cipher.decrypt(XNonce::from_slice(nonce), body).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_under_their_key_and_unaltered() {
        let sealer = Sealer::new(&SealingKey::from_secret("one"));
        let sealed = sealer.seal(b"totp secret");
        assert!(!sealed.windows(11).any(|w| w == b"totp secret"), "ciphertext hides the secret");
        assert_ne!(sealed, sealer.seal(b"totp secret"), "a fresh nonce each time");
        assert_eq!(sealer.open(&sealed).as_deref(), Some(&b"totp secret"[..]));
        assert_eq!(Sealer::new(&SealingKey::from_secret("two")).open(&sealed), None, "another key");
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(sealer.open(&altered), None, "altered");
        assert_eq!(sealer.open(b"short"), None);
    }

    #[test]
    fn the_generated_key_is_kept_owner_only_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = SealingKey::resolve(None, dir.path()).unwrap();
        let again = SealingKey::resolve(None, dir.path()).unwrap();
        assert_eq!(first.0, again.0, "the same file, the same key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let given = SealingKey::resolve(Some("from the flag"), dir.path()).unwrap();
        assert_eq!(given.0, SealingKey::from_secret("from the flag").0);
        assert_eq!(format!("{given:?}"), "SealingKey(..)");
    }
}

//! Password hashing with argon2id and secrets from the operating system's CSPRNG.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use rand::RngCore as _;

use crate::ports::accounts::{PasswordHasher, SecretSource};

/// argon2id, m = 19 MiB, t = 2, p = 1 (OWASP's recommended minimum), PHC string format.
pub struct Argon2Hasher {
    params: Params,
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        Self { params: Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters") }
    }
}

impl Argon2Hasher {
    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }
}

impl PasswordHasher for Argon2Hasher {
    fn hash(&self, password: &str) -> String {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
        self.argon().hash_password(password.as_bytes(), &salt).expect("argon2 hashing cannot fail here").to_string()
    }

    fn verify(&self, password: &str, hash: &str) -> bool {
        PasswordHash::new(hash).is_ok_and(|parsed| self.argon().verify_password(password.as_bytes(), &parsed).is_ok())
    }
}

/// 256-bit random secrets, base64url without padding (43 characters).
pub struct OsSecrets;

impl SecretSource for OsSecrets {
    fn secret(&self) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = Argon2Hasher::default();
        let hash = h.hash("correct horse");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(h.verify("correct horse", &hash));
        assert!(!h.verify("wrong horse", &hash));
        assert!(!h.verify("correct horse", "not a hash"));
        assert_ne!(hash, h.hash("correct horse"), "salted");
        assert_ne!(OsSecrets.secret(), OsSecrets.secret());
        assert_eq!(OsSecrets.secret().len(), 43);
    }
}

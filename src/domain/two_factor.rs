//! Rules of two-factor sign-in: how long a half-finished sign-in lives, what recovery codes
//! look like and how a typed code is read. Pure; the service is
//! `crate::services::accounts::two_factor`.

use super::auth::MICROS_PER_SEC;

/// Recovery codes handed out at a time.
pub const RECOVERY_CODES: usize = 10;
/// How long the token between the password and the code step is good for.
pub const PENDING_TTL: i64 = 5 * 60 * MICROS_PER_SEC;
/// Half-finished sign-ins kept at most (memory bound; the oldest are dropped first).
pub const MAX_PENDING: usize = 10_000;
/// The name authenticator apps list the account under.
pub const ISSUER: &str = "HitKeep";
/// Longest code accepted as input (a recovery code typed with spaces and dashes).
pub const MAX_CODE_BYTES: usize = 64;

/// Crockford's base32: no I, L, O or U to misread.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const RECOVERY_LEN: usize = 10;

/// What a typed second-factor code is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedCode {
    /// Six digits from the authenticator app.
    Totp(String),
    /// A recovery code, normalised (lower case, no separators, misreadable letters mapped).
    Recovery(String),
}

/// Reads a typed code: six digits are an authenticator code, anything else a recovery code.
pub fn read_code(typed: &str) -> TypedCode {
    let compact: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
        return TypedCode::Totp(compact);
    }
    let normal = compact
        .to_ascii_lowercase()
        .chars()
        .map(|c| match c {
            'i' | 'l' => '1',
            'o' => '0',
            other => other,
        })
        .collect();
    TypedCode::Recovery(normal)
}

/// A recovery code from 10 random bytes (50 bits), shown as `xxxxx-xxxxx`.
pub fn recovery_code(random: &[u8; 32]) -> String {
    let chars: String = random[..RECOVERY_LEN].iter().map(|b| ALPHABET[usize::from(b & 31)] as char).collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digits_are_an_authenticator_code_anything_else_a_recovery_code() {
        assert_eq!(read_code(" 123 456 "), TypedCode::Totp("123456".into()));
        assert_eq!(read_code("12345"), TypedCode::Recovery("12345".into()));
        assert_eq!(read_code("AbCIL-O9xyz"), TypedCode::Recovery("abc1109xyz".into()));
    }

    #[test]
    fn a_shown_recovery_code_reads_back_as_itself() {
        let code = recovery_code(&[7u8; 32]);
        assert_eq!(code.len(), 11);
        assert_eq!(code.as_bytes()[5], b'-');
        assert_eq!(read_code(&code), TypedCode::Recovery(code.replace('-', "")));
        assert_eq!(read_code(&code.to_uppercase()), TypedCode::Recovery(code.replace('-', "")));
        let other = recovery_code(&[8u8; 32]);
        assert_ne!(code, other);
    }
}

//! TOTP codes (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of drift either way) with
//! the `totp-rs` crate.

use rand::RngCore as _;
use totp_rs::{Algorithm, TOTP};

use crate::ports::second_factors::OneTimeCodes;

const STEP_SECS: u64 = 30;
const DIGITS: usize = 6;

/// See the module documentation.
pub struct TotpCodes;

fn totp(secret: &[u8], issuer: Option<&str>, account: &str) -> TOTP {
    // Unchecked: our secrets are 160 bits, and e-mails and the issuer hold no ':' once cleaned.
    TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECS,
        secret.to_vec(),
        issuer.map(|i| i.replace(':', " ")),
        account.replace(':', " "),
    )
}

impl OneTimeCodes for TotpCodes {
    fn new_secret(&self) -> Vec<u8> {
        let mut secret = vec![0u8; 20];
        rand::rng().fill_bytes(&mut secret);
        secret
    }

    fn display_secret(&self, secret: &[u8]) -> String {
        totp(secret, None, "").get_secret_base32()
    }

    fn uri(&self, secret: &[u8], issuer: &str, account: &str) -> String {
        totp(secret, Some(issuer), account).get_url()
    }

    fn matching_step(&self, secret: &[u8], code: &str, unix_secs: u64) -> Option<i64> {
        let code = code.trim();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let totp = totp(secret, None, "");
        let now = unix_secs / STEP_SECS;
        // Every candidate is computed and compared in full: the time taken tells nothing.
        let mut found = None;
        for step in [now.saturating_sub(1), now, now + 1] {
            let expected = totp.generate(step * STEP_SECS);
            let same = expected.bytes().zip(code.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
            if same && found.is_none() {
                found = Some(step as i64);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 secret "12345678901234567890", 8-digit vectors cut to 6.
    #[test]
    fn codes_follow_rfc_6238() {
        let secret = b"12345678901234567890";
        for (time, code) in [(59u64, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924")] {
            assert_eq!(TotpCodes.matching_step(secret, code, time), Some((time / 30) as i64), "at {time}");
        }
    }

    #[test]
    fn one_step_of_drift_is_accepted_two_are_not() {
        let secret = TotpCodes.new_secret();
        let code = totp(&secret, None, "").generate(3000);
        assert_eq!(TotpCodes.matching_step(&secret, &code, 3000 + 30), Some(100));
        assert_eq!(TotpCodes.matching_step(&secret, &code, 3000 - 30), Some(100));
        assert_eq!(TotpCodes.matching_step(&secret, &code, 3000 + 60), None);
        assert_eq!(TotpCodes.matching_step(&secret, "12345", 3000), None, "too short");
        assert_eq!(TotpCodes.matching_step(&secret, "abcdef", 3000), None, "not digits");
    }

    #[test]
    fn the_uri_names_issuer_account_and_secret() {
        let secret = TotpCodes.new_secret();
        let uri = TotpCodes.uri(&secret, "HitKeep", "ann@example.com");
        assert!(uri.starts_with("otpauth://totp/HitKeep:ann%40example.com?"), "{uri}");
        assert!(uri.contains(&format!("secret={}", TotpCodes.display_secret(&secret))), "{uri}");
        assert!(uri.contains("issuer=HitKeep"), "{uri}");
    }
}

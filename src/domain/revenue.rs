//! Revenue carried by an event (Plausible's `revenue: {amount, currency}`), validated at ingest.

use std::collections::HashSet;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::limits::InvalidHit;

/// The official ISO 4217 list (SIX), shipped by the `currency-codes` field data package.
static ISO_4217: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/fielddata/node_modules/currency-codes/iso-4217-list-one.xml"));

static CURRENCIES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    ISO_4217.split("<Ccy>").skip(1).filter_map(|rest| rest.split("</Ccy>").next()).map(str::trim).collect()
});

/// Largest amount kept (the store's DECIMAL(18,3) holds 15 integer digits).
const MAX_THOUSANDTHS: i128 = 999_999_999_999_999_999;

/// A monetary amount in thousandths of a currency unit, and the currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revenue {
    /// The amount in thousandths (Plausible keeps three decimals).
    pub thousandths: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
}

impl Revenue {
    /// Validates an amount (decimal text such as `"12.50"`, or a JSON number's text) and a currency.
    pub fn parse(amount: &str, currency: &str) -> Result<Self, InvalidHit> {
        let currency = currency.trim().to_ascii_uppercase();
        if !is_currency(&currency) {
            return Err(InvalidHit::new("revenue", "currency must be an ISO 4217 code such as EUR or USD"));
        }
        let thousandths = parse_thousandths(amount.trim())
            .ok_or_else(|| InvalidHit::new("revenue", "amount must be a decimal number such as 12.50"))?;
        Ok(Self { thousandths, currency })
    }

    /// The amount as exact decimal text with three decimals (`12.500`), as the store takes it.
    pub fn amount_text(&self) -> String {
        let sign = if self.thousandths < 0 { "-" } else { "" };
        let abs = self.thousandths.unsigned_abs();
        format!("{sign}{}.{:03}", abs / 1000, abs % 1000)
    }
}

/// Whether `code` is a current ISO 4217 currency code.
pub fn is_currency(code: &str) -> bool {
    code.len() == 3 && CURRENCIES.contains(code)
}

/// `[-]digits[.digits]`, rounded half away from zero to thousandths; no exponents, no separators.
fn parse_thousandths(s: &str) -> Option<i64> {
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if (int.is_empty() && frac.is_empty()) || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    if int.len() > 15 {
        return None;
    }
    let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let digit = |i: usize| frac.as_bytes().get(i).map_or(0, |b| (b - b'0') as i128);
    let mut value = int * 1000 + digit(0) * 100 + digit(1) * 10 + digit(2);
    if digit(3) >= 5 {
        value += 1;
    }
    if value > MAX_THOUSANDTHS {
        return None;
    }
    Some(if negative { -value } else { value } as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_currencies() {
        let r = Revenue::parse("12.5", "eur").unwrap();
        assert_eq!((r.thousandths, r.currency.as_str(), r.amount_text()), (12_500, "EUR", "12.500".to_string()));
        assert_eq!(Revenue::parse("0.0015", "USD").unwrap().amount_text(), "0.002");
        assert_eq!(Revenue::parse("-3", "JPY").unwrap().amount_text(), "-3.000");
        assert_eq!(Revenue::parse("1999", "USD").unwrap().thousandths, 1_999_000);
        assert!(Revenue::parse("12,50", "EUR").is_err());
        assert!(Revenue::parse("1e3", "EUR").is_err());
        assert!(Revenue::parse("", "EUR").is_err());
        assert!(Revenue::parse("10", "XYZ").is_err());
        assert!(Revenue::parse("10", "EURO").is_err());
        assert!(Revenue::parse("1234567890123456", "EUR").is_err());
        assert!(is_currency("CHF") && is_currency("BRL") && !is_currency("chf"));
    }
}

//! Revenue as Plausible shows it: `long` is the amount with the currency symbol, thousands
//! separators and two decimals (`$96,336,315.00`); `short` abbreviates from a thousand on with one
//! decimal (`$96.3M`, `$1.2K`, `$2K`) and shows smaller amounts like `long`. Currencies without a
//! well-known symbol are prefixed with their code (`CHF 12.00`).

/// How a query's revenue is converted: to `currency`, each listed currency at its rate.
#[derive(Debug, Clone, PartialEq)]
pub struct RevenueConversion {
    pub currency: String,
    /// (from, rate to `currency`), ISO 4217 codes only.
    pub rates: Vec<(String, f64)>,
}

/// The symbol (or code and a space) written before an amount.
fn prefix(currency: &str) -> String {
    match currency {
        "USD" => "$".into(),
        "EUR" => "€".into(),
        "GBP" => "£".into(),
        "JPY" | "CNY" => "¥".into(),
        "INR" => "₹".into(),
        "KRW" => "₩".into(),
        "BRL" => "R$".into(),
        "CAD" => "CA$".into(),
        "AUD" => "A$".into(),
        other => format!("{other} "),
    }
}

fn sign(amount: f64) -> &'static str {
    if amount < 0.0 { "-" } else { "" }
}

/// `$96,336,315.00`.
pub fn long(amount: f64, currency: &str) -> String {
    let fixed = format!("{:.2}", amount.abs());
    let (whole, cents) = fixed.split_once('.').unwrap_or((&fixed, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}{}{grouped}.{cents}", sign(amount), prefix(currency))
}

/// `$96.3M`.
pub fn short(amount: f64, currency: &str) -> String {
    let abs = amount.abs();
    let units = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")];
    let Some((size, unit)) = units.iter().find(|(size, _)| abs >= *size) else {
        return long(amount, currency);
    };
    let scaled = format!("{:.1}", abs / size);
    let scaled = scaled.strip_suffix(".0").unwrap_or(&scaled);
    format!("{}{}{scaled}{unit}", sign(amount), prefix(currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausibles_documented_example() {
        assert_eq!(long(96_336_315.0, "USD"), "$96,336,315.00");
        assert_eq!(short(96_336_315.0, "USD"), "$96.3M");
    }

    #[test]
    fn small_negative_and_other_currencies() {
        assert_eq!(long(12.5, "EUR"), "€12.50");
        assert_eq!(short(12.5, "EUR"), "€12.50");
        assert_eq!(short(2000.0, "GBP"), "£2K");
        assert_eq!(long(-1234.567, "CHF"), "-CHF 1,234.57");
        assert_eq!(long(999.0, "USD"), "$999.00");
    }
}

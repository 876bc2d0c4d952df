//! The seven languages of the dashboard and the e-mail reports, with their number and date
//! formats (the same conventions `Intl` applies in the SPA, so a report reads like the dashboard).

use chrono::{Datelike, NaiveDate};

use super::accounts::AccountError;

/// A language a user can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    En,
    De,
    Fr,
    Es,
    It,
    Nl,
    PtBr,
}

impl Language {
    /// Every language, English first.
    pub const ALL: [Language; 7] = [Self::En, Self::De, Self::Fr, Self::Es, Self::It, Self::Nl, Self::PtBr];

    /// The BCP 47 tag the SPA uses (`pt-BR`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::Fr => "fr",
            Self::Es => "es",
            Self::It => "it",
            Self::Nl => "nl",
            Self::PtBr => "pt-BR",
        }
    }

    /// One of the seven tags; case-insensitive, `pt_BR` accepted.
    pub fn parse(tag: &str) -> Result<Self, AccountError> {
        let wanted = tag.trim().replace('_', "-");
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| AccountError::InvalidLanguage(tag.to_string()))
    }

    /// `1,234,567` / `1.234.567` / `1 234 567` (French: narrow no-break spaces).
    pub fn number(self, n: u64) -> String {
        let sep = match self {
            Self::En => ",",
            Self::Fr => "\u{202f}",
            _ => ".",
        };
        let digits = n.to_string();
        // Spanish groups only from five digits on (CLDR's minimum grouping): 1234 but 12.345.
        if self == Self::Es && digits.len() <= 4 {
            return digits;
        }
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 * sep.len());
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(sep);
            }
            out.push(c);
        }
        out
    }

    /// A signed whole percentage: `+25%`, `-10 %` (German and French put a space before `%`).
    pub fn percent(self, pct: i64) -> String {
        let sign = if pct > 0 { "+" } else { "" };
        match self {
            Self::De | Self::Fr => format!("{sign}{pct}\u{a0}%"),
            _ => format!("{sign}{pct}%"),
        }
    }

    /// A calendar date: `Nov 16, 2026`, `16.11.2026`, `16/11/2026`, `16-11-2026`.
    pub fn date(self, d: NaiveDate) -> String {
        match self {
            Self::En => d.format("%b %-d, %Y").to_string(),
            Self::De => format!("{:02}.{:02}.{}", d.day(), d.month(), d.year()),
            Self::Nl => format!("{}-{}-{}", d.day(), d.month(), d.year()),
            Self::Fr | Self::Es | Self::It | Self::PtBr => format!("{:02}/{:02}/{}", d.day(), d.month(), d.year()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seven_tags_and_refuses_others() {
        for l in Language::ALL {
            assert_eq!(Language::parse(l.as_str()).unwrap(), l);
        }
        assert_eq!(Language::parse("PT_br").unwrap(), Language::PtBr);
        assert!(Language::parse("pt").is_err());
        assert!(Language::parse("klingon").is_err());
    }

    #[test]
    fn numbers_dates_and_percentages_follow_the_language() {
        assert_eq!(Language::En.number(1234567), "1,234,567");
        assert_eq!(Language::De.number(1234), "1.234");
        assert_eq!(Language::Fr.number(1234), "1\u{202f}234");
        assert_eq!(Language::Es.number(1234), "1234");
        assert_eq!(Language::Es.number(12345), "12.345");
        assert_eq!(Language::En.number(999), "999");
        let d = NaiveDate::from_ymd_opt(2026, 11, 6).unwrap();
        assert_eq!(Language::En.date(d), "Nov 6, 2026");
        assert_eq!(Language::De.date(d), "06.11.2026");
        assert_eq!(Language::PtBr.date(d), "06/11/2026");
        assert_eq!(Language::Nl.date(d), "6-11-2026");
        assert_eq!(Language::De.percent(25), "+25\u{a0}%");
        assert_eq!(Language::En.percent(-10), "-10%");
    }
}

//! Country names from ISO 3166-1 alpha-2 codes.

/// The English short name of a country code (`DE` -> `Germany`).
pub fn name(code: &str) -> Option<&'static str> {
    isocountry::CountryCode::for_alpha2_caseless(code).ok().map(|c| c.name())
}

/// All (code, name) pairs.
pub fn all() -> impl Iterator<Item = (&'static str, &'static str)> {
    isocountry::CountryCode::as_array().iter().map(|c| (c.alpha2(), c.name()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        assert_eq!(super::name("DE"), Some("Germany"));
        assert_eq!(super::name("zz"), None);
    }
}

//! Country names from ISO 3166-1 alpha-2 codes: the short common names Plausible shows
//! ("United Kingdom", "Taiwan", "South Korea"), from the `world-countries` field data package.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

static WORLD_COUNTRIES: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/fielddata/node_modules/world-countries/countries.json"));

#[derive(Deserialize)]
struct Entry {
    cca2: String,
    name: Names,
}

#[derive(Deserialize)]
struct Names {
    common: String,
}

/// (code, common name), sorted by code; parsed once on first use.
static COUNTRIES: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    let entries: Vec<Entry> = serde_json::from_str(WORLD_COUNTRIES).expect("world-countries data is valid JSON");
    let mut out: Vec<(&'static str, &'static str)> =
        entries.into_iter().filter(|e| e.cca2.len() == 2).map(|e| (&*e.cca2.leak(), &*e.name.common.leak())).collect();
    out.sort_unstable();
    out
});

static BY_CODE: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| COUNTRIES.iter().copied().collect());

/// The English common name of a country code (`GB` -> `United Kingdom`), any case.
pub fn name(code: &str) -> Option<&'static str> {
    if code.len() != 2 {
        return None;
    }
    BY_CODE.get(code.to_ascii_uppercase().as_str()).copied()
}

/// All (code, name) pairs.
pub fn all() -> impl Iterator<Item = (&'static str, &'static str)> {
    COUNTRIES.iter().copied()
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_common_names() {
        assert_eq!(super::name("DE"), Some("Germany"));
        assert_eq!(super::name("gb"), Some("United Kingdom"));
        assert_eq!(super::name("TW"), Some("Taiwan"));
        assert_eq!(super::name("RU"), Some("Russia"));
        assert_eq!(super::name("US"), Some("United States"));
        assert_eq!(super::name("KR"), Some("South Korea"));
        assert_eq!(super::name("zz"), None);
        assert!(super::all().count() >= 249);
    }
}

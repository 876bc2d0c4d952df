//! IP -> location from MaxMind-format databases: the CC0 ip-location-db country database is
//! compiled in (works offline, no account), and a city database can be configured on top.

use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use crate::domain::event::Location;
use crate::ports::geo::GeoLookup;

/// The country database compiled into the binary (ip-location-db geo-whois-asn-country, CC0).
static COUNTRY_DB: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fielddata/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb"
));

/// Accepts both ip-location-db's flat records and MaxMind's GeoIP2 / DB-IP nested records.
#[derive(Deserialize, Default)]
struct GeoRecord<'a> {
    #[serde(borrow)]
    country_code: Option<&'a str>,
    #[serde(borrow)]
    country: Option<Named<'a>>,
    #[serde(borrow)]
    city: Option<NameField<'a>>,
    #[serde(borrow)]
    state1: Option<&'a str>,
    #[serde(borrow)]
    subdivisions: Option<Vec<Named<'a>>>,
}

#[derive(Deserialize)]
struct Named<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
    #[serde(borrow)]
    names: Option<Names<'a>>,
}

#[derive(Deserialize)]
struct Names<'a> {
    #[serde(borrow)]
    en: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NameField<'a> {
    Plain(&'a str),
    Nested(#[serde(borrow)] Named<'a>),
}

impl<'a> NameField<'a> {
    fn name(&self) -> Option<&'a str> {
        match self {
            NameField::Plain(s) => Some(s),
            NameField::Nested(n) => n.names.as_ref().and_then(|n| n.en),
        }
    }
}

/// Geo lookup over one or two MMDB files.
pub struct MaxMindGeo {
    country: Option<maxminddb::Reader<&'static [u8]>>,
    city: Option<maxminddb::Reader<Vec<u8>>>,
}

impl MaxMindGeo {
    /// The embedded country database, plus a city database file if given.
    pub fn new(city_db: Option<&Path>) -> anyhow::Result<Self> {
        let country = Some(maxminddb::Reader::from_source(COUNTRY_DB)?);
        let city = match city_db {
            Some(path) => Some(
                maxminddb::Reader::open_readfile(path)
                    .map_err(|e| anyhow::anyhow!("cannot open city database {}: {e}", path.display()))?,
            ),
            None => None,
        };
        Ok(Self { country, city })
    }

    /// No database at all (tests of other layers).
    pub fn disabled() -> Self {
        Self { country: None, city: None }
    }

    fn read<S: AsRef<[u8]>>(reader: &maxminddb::Reader<S>, ip: IpAddr) -> Location {
        let Ok(found) = reader.lookup(ip) else { return Location::default() };
        let Ok(Some(rec)) = found.decode::<GeoRecord>() else { return Location::default() };
        let country = rec
            .country_code
            .or_else(|| rec.country.as_ref().and_then(|c| c.iso_code))
            .filter(|c| c.len() == 2 && *c != "ZZ")
            .map(|c| c.to_ascii_uppercase());
        let region = rec
            .subdivisions
            .as_ref()
            .and_then(|s| s.first())
            .and_then(|s| match (country.as_deref(), s.iso_code) {
                (Some(cc), Some(code)) => Some(format!("{cc}-{code}")),
                _ => s.names.as_ref().and_then(|n| n.en).map(str::to_string),
            })
            .or_else(|| rec.state1.map(str::to_string));
        let city = rec.city.as_ref().and_then(NameField::name).map(str::to_string);
        Location { country, region, city }
    }
}

/// Loopback, private, link-local, shared and other non-public addresses: they say nothing about
/// where a visitor is (the embedded database even places some private ranges in a country).
fn placeless(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let shared = v4.octets()[0] == 100 && (v4.octets()[1] & 0xC0) == 64;
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || shared
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => placeless(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback() || v6.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

impl GeoLookup for MaxMindGeo {
    fn locate(&self, ip: IpAddr) -> Location {
        if placeless(ip) {
            return Location::default();
        }
        if let Some(city) = &self.city {
            let loc = Self::read(city, ip);
            if loc.country.is_some() {
                return loc;
            }
        }
        self.country.as_ref().map(|c| Self::read(c, ip)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_database_passes_the_geo_lookup_conformance_suite() {
        // Public resolvers registered in the US and Germany.
        let known = [("8.8.8.8", "US"), ("2001:4860:4860::8888", "US"), ("9.9.9.9", "US")];
        crate::ports::conformance::geo_lookup(&MaxMindGeo::new(None).unwrap(), &known);
    }

    #[test]
    fn a_disabled_lookup_knows_no_place() {
        crate::ports::conformance::geo_lookup(&MaxMindGeo::disabled(), &[]);
    }
}

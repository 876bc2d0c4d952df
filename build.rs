//! Fails early, with the fix, when the front-end builds and field data are missing: they are
//! compiled into the binary.

use std::path::Path;

fn main() {
    let required = [
        ("fielddata/node_modules/uap-core/regexes.yaml", "npm ci --prefix fielddata"),
        ("fielddata/node_modules/crawler-user-agents/crawler-user-agents.json", "npm ci --prefix fielddata"),
        ("fielddata/node_modules/world-countries/countries.json", "npm ci --prefix fielddata"),
        ("fielddata/node_modules/currency-codes/iso-4217-list-one.xml", "npm ci --prefix fielddata"),
        (
            "fielddata/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb",
            "npm ci --prefix fielddata",
        ),
        ("tracker/dist/hk.js", "npm ci --prefix tracker && npm run --prefix tracker build"),
        ("spa/dist/browser/index.html", "npm ci --prefix spa && npm run --prefix spa build"),
    ];
    let mut missing = Vec::new();
    for (path, fix) in required {
        println!("cargo:rerun-if-changed={path}");
        if !Path::new(path).exists() {
            missing.push(format!("  {path}  (run: {fix}, or simply `make build`)"));
        }
    }
    println!("cargo:rerun-if-changed=tracker/dist");
    println!("cargo:rerun-if-changed=spa/dist/browser");
    if !missing.is_empty() {
        panic!("files compiled into hitkeep are missing:\n{}", missing.join("\n"));
    }
}

//! Suites for the ports at the edge of ingest and imports: where a client is, what its user
//! agent says, what an upload holds.

use std::io::Write;
use std::net::IpAddr;

use crate::domain::client::{BotKind, DeviceClass};
use crate::domain::imports::ImportError;
use crate::ports::geo::GeoLookup;
use crate::ports::imports::Unpacker;
use crate::ports::useragent::UserAgentClassifier;

/// Addresses no lookup may place anywhere: they say nothing about where a visitor is.
const PLACELESS: [&str; 9] =
    ["127.0.0.1", "10.1.2.3", "192.168.0.9", "172.20.0.1", "100.64.0.1", "169.254.1.1", "::1", "fe80::1", "fd00::1"];

/// A geo lookup: every address in `known` gets its country (ISO 3166-1 alpha-2, upper case);
/// loopback, private and link-local addresses get no location at all.
pub fn geo_lookup<G: GeoLookup>(geo: &G, known: &[(&str, &str)]) {
    for (ip, country) in known {
        let at = geo.locate(ip.parse::<IpAddr>().unwrap());
        assert_eq!(at.country.as_deref(), Some(*country), "{ip} is located in {country}");
    }
    for ip in PLACELESS {
        let at = geo.locate(ip.parse().unwrap());
        assert_eq!(at, Default::default(), "{ip} has no location");
    }
}

const CHROME_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const GPTBOT: &str =
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)";
const CLAUDEBOT: &str =
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)";
const OTHER_BOTS: [&str; 4] = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "curl/8.5.0",
    "",
];

/// A user-agent classifier: browsers, systems and device classes of people's browsers; AI
/// crawlers apart from other bots; a user agent that says nothing counts as a bot; the same
/// string always gets the same answer.
pub fn user_agent_classifier<C: UserAgentClassifier>(c: &C) {
    let chrome = c.classify(CHROME_WINDOWS);
    assert_eq!((chrome.browser.as_deref(), chrome.os.as_deref()), (Some("Chrome"), Some("Windows")));
    assert_eq!((chrome.device, chrome.bot), (DeviceClass::Desktop, None));
    let iphone = c.classify(SAFARI_IPHONE);
    assert_eq!((iphone.browser.as_deref(), iphone.os.as_deref()), (Some("Safari"), Some("iOS")));
    assert_eq!((iphone.device, iphone.bot), (DeviceClass::Mobile, None));
    for ai in [GPTBOT, CLAUDEBOT] {
        assert_eq!(c.classify(ai).bot, Some(BotKind::AiCrawler), "{ai} is an AI crawler");
    }
    for bot in OTHER_BOTS {
        assert_eq!(c.classify(bot).bot, Some(BotKind::Other), "{bot:?} is a bot");
    }
    assert_eq!(c.classify(CHROME_WINDOWS), chrome, "the same user agent, the same answer");
}

const CSV: &[u8] = b"date,visitors\n2026-01-01,3\n";

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn gzip_of(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// An unpacker: a zip's CSV files (other entries skipped), a gzip's content under the name
/// without `.gz`, plain bytes as one file; unpacking past the limit and unreadable archives are
/// refused.
pub fn unpacker<U: Unpacker>(u: &U) {
    let zip = zip_of(&[("imported_visitors.csv", CSV), ("README.txt", b"not data"), ("imported_pages.csv", CSV)]);
    let files = u.unpack(&zip, "export.zip", 1 << 20).unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["imported_visitors.csv", "imported_pages.csv"], "a zip's CSV entries, in order");
    assert!(files.iter().all(|(_, b)| b == CSV), "unpacked byte for byte");

    assert_eq!(u.unpack(&gzip_of(CSV), "visitors.csv.gz", 1 << 20).unwrap(), [("visitors.csv".into(), CSV.to_vec())]);
    assert_eq!(u.unpack(CSV, "visitors.csv", 1 << 20).unwrap(), [("visitors.csv".into(), CSV.to_vec())]);

    let big = vec![b'x'; 200_000];
    let limited =
        |bytes: &[u8], name| matches!(u.unpack(bytes, name, 100_000), Err(ImportError::Unpacked { limit: 100_000 }));
    assert!(limited(&zip_of(&[("big.csv", &big)]), "big.zip"), "a zip past the limit is refused");
    assert!(limited(&gzip_of(&big), "big.csv.gz"), "a gzip past the limit is refused");

    assert!(matches!(u.unpack(&zip_of(&[("notes.txt", b"x")]), "n.zip", 1 << 20), Err(ImportError::BadFile(_))));
    let mut broken = zip.clone();
    broken.truncate(zip.len() / 2);
    assert!(matches!(u.unpack(&broken, "broken.zip", 1 << 20), Err(ImportError::BadFile(_))), "a torn zip");
}

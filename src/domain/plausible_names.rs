//! Plausible's canonical browser and OS names. The user-agent parser (uap-core) names things its
//! own way ("Mac OS X", "Mobile Safari", "Chrome Mobile"); Plausible shows the names of Matomo's
//! device detector with its own merges on top ("Mac", "Safari", "Chrome"). Clients filter on
//! these names (`visit:os is Mac`), so they are applied at ingest, and migration 6 rewrites rows
//! stored before. The table in docs/plausible-names.md lists the same pairs.

/// Browser renames: uap-core family -> Plausible name. Families not listed keep their name.
pub const BROWSERS: &[(&str, &str)] = &[
    ("Mobile Safari", "Safari"),
    ("Chrome Mobile", "Chrome"),
    ("Chrome Mobile iOS", "Chrome"),
    ("Chrome Frame", "Chrome"),
    ("HeadlessChrome", "Headless Chrome"),
    ("Firefox Mobile", "Firefox"),
    ("Firefox iOS", "Firefox"),
    ("Firefox Beta", "Firefox"),
    ("Firefox Alpha", "Firefox"),
    ("Edge", "Microsoft Edge"),
    ("Edge Mobile", "Microsoft Edge"),
    ("IE", "Internet Explorer"),
    ("IE Mobile", "Internet Explorer"),
    ("IE Large Screen", "Internet Explorer"),
    ("Opera Mobile", "Opera"),
    ("Opera Mini", "Opera"),
    ("Opera Coast", "Opera"),
    ("Opera Neon", "Opera"),
    ("Samsung Internet", "Samsung Browser"),
    ("DuckDuckGo Mobile", "DuckDuckGo Privacy Browser"),
    ("MiuiBrowser", "MIUI Browser"),
    ("HuaweiBrowser", "Huawei Browser"),
    ("Whale", "Whale Browser"),
    ("Amazon Silk", "Mobile Silk"),
    ("QQ Browser Mobile", "QQ Browser"),
    ("QQ Browser Mini", "QQ Browser"),
    ("Baidu Explorer", "Baidu Browser"),
    ("Seznam prohlížeč", "Seznam Browser"),
    ("BlackBerry WebKit", "BlackBerry Browser"),
    ("Yandex Browser Lite", "Yandex Browser"),
];

/// In-app browsers and web views: Plausible groups them as one "Mobile App" (without version).
pub const MOBILE_APPS: &[&str] = &[
    "Chrome Mobile WebView",
    "Mobile Safari UI/WKWebView",
    "Facebook",
    "Facebook Messenger",
    "Instagram",
    "LINE",
    "Twitter",
    "Pinterest",
    "Snapchat",
    "TikTok",
    "WeChat",
    "Kurio App",
    "ESPN",
    "TopBuzz",
];

/// The name Plausible gives every in-app browser.
pub const MOBILE_APP: &str = "Mobile App";

/// OS renames: uap-core family -> Plausible name. Distributions Matomo names itself (Ubuntu,
/// Fedora, Debian...) keep their names, as in Plausible; a plain "Linux" is "GNU/Linux".
pub const OPERATING_SYSTEMS: &[(&str, &str)] = &[
    ("Mac OS X", "Mac"),
    ("Mac OS", "Mac"),
    ("Linux", "GNU/Linux"),
    ("Linux Mint", "Mint"),
    ("WatchOS", "watchOS"),
    ("ATV OS X", "tvOS"),
    ("Symbian^3", "Symbian OS"),
    ("Symbian^3 Anna", "Symbian OS"),
    ("Symbian^3 Belle", "Symbian OS"),
];

/// iPads on iOS 13 and later run iPadOS (Matomo names it so; uap-core says "iOS").
pub const IPADOS: &str = "iPadOS";

/// A browser family in Plausible's name and whether it keeps its version (in-app browsers don't).
pub fn browser(family: &str) -> (&str, bool) {
    if MOBILE_APPS.contains(&family) {
        return (MOBILE_APP, false);
    }
    let name = BROWSERS.iter().find(|(from, _)| *from == family).map_or(family, |(_, to)| to);
    (name, true)
}

/// An OS family in Plausible's name; `tablet` and the major version tell iPadOS from iOS.
pub fn os<'a>(family: &'a str, major: Option<&str>, tablet: bool) -> &'a str {
    if family == "iOS" && tablet && major.and_then(|m| m.parse::<u32>().ok()).is_some_and(|m| m >= 13) {
        return IPADOS;
    }
    OPERATING_SYSTEMS.iter().find(|(from, _)| *from == family).map_or(family, |(_, to)| to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_take_plausible_names() {
        assert_eq!(browser("Mobile Safari"), ("Safari", true));
        assert_eq!(browser("Chrome Mobile iOS"), ("Chrome", true));
        assert_eq!(browser("Samsung Internet"), ("Samsung Browser", true));
        assert_eq!(browser("Edge"), ("Microsoft Edge", true));
        assert_eq!(browser("Chrome Mobile WebView"), ("Mobile App", false));
        assert_eq!(browser("Vivaldi"), ("Vivaldi", true));
    }

    #[test]
    fn systems_take_plausible_names() {
        assert_eq!(os("Mac OS X", Some("10"), false), "Mac");
        assert_eq!(os("Linux", None, false), "GNU/Linux");
        assert_eq!(os("Ubuntu", None, false), "Ubuntu");
        assert_eq!(os("iOS", Some("17"), true), "iPadOS");
        assert_eq!(os("iOS", Some("12"), true), "iOS");
        assert_eq!(os("iOS", Some("17"), false), "iOS");
        assert_eq!(os("Windows", Some("10"), false), "Windows");
    }
}

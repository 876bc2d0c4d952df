//! User agents: browser / OS / device from the uap-core regexes, bots from the
//! crawler-user-agents list (both field data packages compiled into the binary), with a cache.

use std::sync::Arc;

use quick_cache::sync::Cache;
use regex::{Regex, RegexSet};
use serde::Deserialize;

use crate::domain::client::{BotKind, ClientInfo, DeviceClass};
use crate::domain::crawlers::CrawlerIdentity;
use crate::domain::plausible_names;
use crate::ports::useragent::UserAgentClassifier;

static UAP_REGEXES: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/fielddata/node_modules/uap-core/regexes.yaml"));
static CRAWLERS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fielddata/node_modules/crawler-user-agents/crawler-user-agents.json"
));

/// Generic signs of automation that lists miss (new crawlers, scripts, headless browsers).
const GENERIC_BOT: &str = r"(?i)bot\b|bot/|crawl|spider|scrap|headless|phantomjs|slurp|python-|curl/|wget/|go-http-client|java/|okhttp|axios/|node-fetch|libwww|httpclient|lighthouse|pingdom|uptime";

#[derive(Deserialize)]
struct CrawlerEntry {
    pattern: String,
    #[serde(default)]
    tags: Vec<String>,
    description: Option<String>,
    url: Option<String>,
}

/// An AI crawler entry of the list: its own pattern (to find the name in the user agent) and
/// what the entry says about who runs it.
struct AiEntry {
    pattern: Regex,
    description: Option<String>,
    url: Option<String>,
}

/// Parses user agents with uap-core and flags bots; results are cached per user-agent string.
pub struct UapClassifier {
    extractor: ua_parser::Extractor<'static>,
    crawlers: RegexSet,
    /// Per pattern of `crawlers`: the AI crawler entry it belongs to, if it is one.
    ai_crawler: Vec<Option<AiEntry>>,
    generic_bot: Regex,
    cache: Cache<String, Arc<ClientInfo>>,
}

impl UapClassifier {
    /// Compiles the embedded data; takes a moment, do it once at start-up.
    pub fn new(cache_entries: usize) -> anyhow::Result<Self> {
        let regexes: ua_parser::Regexes<'static> = serde_yaml::from_str(UAP_REGEXES)?;
        let extractor = ua_parser::Extractor::try_from(regexes)?;
        let entries: Vec<CrawlerEntry> = serde_json::from_str(CRAWLERS)?;
        // A few list entries use syntax the regex crate lacks (look-around); they are skipped and
        // the generic pattern covers most of them.
        let usable: Vec<&CrawlerEntry> = entries.iter().filter(|e| Regex::new(&e.pattern).is_ok()).collect();
        let crawlers = RegexSet::new(usable.iter().map(|e| e.pattern.as_str()))?;
        let ai_crawler = usable
            .iter()
            .map(|e| {
                e.tags.iter().any(|t| t == "ai-crawler").then(|| AiEntry {
                    pattern: Regex::new(&e.pattern).expect("checked above"),
                    description: e.description.clone(),
                    url: e.url.clone(),
                })
            })
            .collect();
        Ok(Self {
            extractor,
            crawlers,
            ai_crawler,
            generic_bot: Regex::new(GENERIC_BOT)?,
            cache: Cache::new(cache_entries),
        })
    }

    fn bot_kind(&self, ua: &str) -> (Option<BotKind>, Option<CrawlerIdentity>) {
        if ua.trim().len() < 10 {
            return (Some(BotKind::Other), None);
        }
        let matches = self.crawlers.matches(ua);
        if let Some(entry) = matches.iter().find_map(|i| self.ai_crawler[i].as_ref()) {
            let matched = entry.pattern.find(ua).map_or("", |m| m.as_str());
            let identity = CrawlerIdentity::from_match(matched, entry.description.as_deref(), entry.url.as_deref());
            return (Some(BotKind::AiCrawler), Some(identity));
        }
        if matches.matched_any() || self.generic_bot.is_match(ua) {
            return (Some(BotKind::Other), None);
        }
        (None, None)
    }

    fn parse(&self, ua: &str) -> ClientInfo {
        let (bot, crawler) = self.bot_kind(ua);
        let (browser, os, device) = self.extractor.extract(ua);
        let version = |major: Option<&str>, minor: Option<&str>| match (major, minor) {
            (Some(ma), Some(mi)) => Some(format!("{ma}.{mi}")),
            (Some(ma), None) => Some(ma.to_string()),
            _ => None,
        };
        let known = |family: &str| (family != "Other").then(|| family.to_string());
        let os_family = os.as_ref().map(|o| o.os.to_string()).unwrap_or_default();
        let device_family = device.as_ref().map(|d| d.device.to_string()).unwrap_or_default();
        // The device class reads uap-core's own names; what is stored is Plausible's.
        let device = DeviceClass::infer(ua, &os_family, &device_family);
        let (browser_name, keeps_version) =
            browser.as_ref().map_or(("Other", false), |b| plausible_names::browser(&b.family));
        let os_major = os.as_ref().and_then(|o| o.major.as_deref());
        let os_name = plausible_names::os(&os_family, os_major, device == DeviceClass::Tablet);
        ClientInfo {
            browser: known(browser_name),
            browser_version: browser.as_ref().filter(|_| keeps_version).and_then(|b| version(b.major, b.minor)),
            os: known(os_name).filter(|o| !o.is_empty()),
            os_version: os.as_ref().and_then(|o| version(o.major.as_deref(), o.minor.as_deref())),
            device,
            bot,
            crawler,
        }
    }
}

impl UserAgentClassifier for UapClassifier {
    fn classify(&self, user_agent: &str) -> Arc<ClientInfo> {
        if let Some(hit) = self.cache.get(user_agent) {
            return hit;
        }
        let info = Arc::new(self.parse(user_agent));
        self.cache.insert(user_agent.to_string(), info.clone());
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

    #[test]
    fn passes_the_user_agent_classifier_conformance_suite() {
        crate::ports::conformance::user_agent_classifier(&UapClassifier::new(100).unwrap());
    }

    #[test]
    fn parses_browser_versions_and_families() {
        let c = UapClassifier::new(100).unwrap();
        let chrome = c.classify(CHROME_MAC);
        assert_eq!(chrome.browser.as_deref(), Some("Chrome"));
        assert_eq!(chrome.browser_version.as_deref(), Some("131.0"));
        assert_eq!(chrome.os.as_deref(), Some("Mac"));
        assert_eq!(chrome.device, DeviceClass::Desktop);
        assert_eq!(chrome.bot, None);
        let iphone = c.classify(SAFARI_IPHONE);
        assert_eq!(iphone.browser.as_deref(), Some("Safari"));
        assert_eq!(iphone.browser_version.as_deref(), Some("17.5"));
        assert_eq!(iphone.os.as_deref(), Some("iOS"));
        assert_eq!(iphone.device, DeviceClass::Mobile);
        let linux = c.classify("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0");
        assert_eq!((linux.browser.as_deref(), linux.os.as_deref()), (Some("Firefox"), Some("GNU/Linux")));
        let ipad = c.classify("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1");
        assert_eq!((ipad.browser.as_deref(), ipad.os.as_deref()), (Some("Chrome"), Some("iPadOS")));
        let samsung = c.classify("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36");
        assert_eq!(samsung.browser.as_deref(), Some("Samsung Browser"));
        let webview = c.classify("Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP1A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36");
        assert_eq!((webview.browser.as_deref(), webview.browser_version.as_deref()), (Some("Mobile App"), None));
        let claude = c.classify(
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
        );
        let who = claude.crawler.as_ref().expect("an AI crawler");
        assert_eq!((who.name.as_str(), who.operator.as_str()), ("ClaudeBot", "Anthropic"));
        let perplexity = c.classify("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)");
        assert_eq!(perplexity.crawler.as_ref().map(|w| w.name.as_str()), Some("PerplexityBot"));
    }
}

//! Where a visit came from: the referrer's grouped source (`www.google.de` -> Google) and its
//! marketing channel, following Plausible's / GA4's channel definitions.

use super::page::Utm;
use super::site::normalize_host;

/// Marketing channel of a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Channel {
    Direct,
    OrganicSearch,
    PaidSearch,
    OrganicSocial,
    PaidSocial,
    OrganicVideo,
    Email,
    AiAssistants,
    Affiliates,
    Display,
    Referral,
}

impl Channel {
    pub const ALL: [Channel; 11] = [
        Channel::Direct,
        Channel::OrganicSearch,
        Channel::PaidSearch,
        Channel::OrganicSocial,
        Channel::PaidSocial,
        Channel::OrganicVideo,
        Channel::Email,
        Channel::AiAssistants,
        Channel::Affiliates,
        Channel::Display,
        Channel::Referral,
    ];

    /// The channel named by `as_str`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Direct => "Direct",
            Channel::OrganicSearch => "Organic Search",
            Channel::PaidSearch => "Paid Search",
            Channel::OrganicSocial => "Organic Social",
            Channel::PaidSocial => "Paid Social",
            Channel::OrganicVideo => "Organic Video",
            Channel::Email => "Email",
            Channel::AiAssistants => "AI Assistants",
            Channel::Affiliates => "Affiliates",
            Channel::Display => "Display",
            Channel::Referral => "Referral",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Search,
    Social,
    Video,
    Email,
    Ai,
    Other,
}

/// Known sources. A pattern ending in `.*` matches that brand under any public suffix
/// (`google.*` matches `google.de` and `google.co.uk`); others match the host and its subdomains.
const SOURCES: &[(&str, &str, Kind)] = &[
    ("google.*", "Google", Kind::Search),
    ("bing.com", "Bing", Kind::Search),
    ("duckduckgo.com", "DuckDuckGo", Kind::Search),
    ("yahoo.*", "Yahoo!", Kind::Search),
    ("yandex.*", "Yandex", Kind::Search),
    ("ya.ru", "Yandex", Kind::Search),
    ("baidu.com", "Baidu", Kind::Search),
    ("ecosia.org", "Ecosia", Kind::Search),
    ("search.brave.com", "Brave", Kind::Search),
    ("qwant.com", "Qwant", Kind::Search),
    ("startpage.com", "Startpage", Kind::Search),
    ("naver.com", "Naver", Kind::Search),
    ("seznam.cz", "Seznam", Kind::Search),
    ("kagi.com", "Kagi", Kind::Search),
    ("sogou.com", "Sogou", Kind::Search),
    ("so.com", "360 Search", Kind::Search),
    ("yahoo.co.jp", "Yahoo!", Kind::Search),
    ("search.aol.com", "AOL", Kind::Search),
    ("ask.com", "Ask", Kind::Search),
    ("mojeek.com", "Mojeek", Kind::Search),
    ("facebook.com", "Facebook", Kind::Social),
    ("fb.com", "Facebook", Kind::Social),
    ("fb.me", "Facebook", Kind::Social),
    ("instagram.com", "Instagram", Kind::Social),
    ("t.co", "Twitter", Kind::Social),
    ("twitter.com", "Twitter", Kind::Social),
    ("x.com", "Twitter", Kind::Social),
    ("linkedin.com", "LinkedIn", Kind::Social),
    ("lnkd.in", "LinkedIn", Kind::Social),
    ("reddit.com", "Reddit", Kind::Social),
    ("news.ycombinator.com", "Hacker News", Kind::Social),
    ("pinterest.*", "Pinterest", Kind::Social),
    ("tiktok.com", "TikTok", Kind::Social),
    ("threads.net", "Threads", Kind::Social),
    ("bsky.app", "Bluesky", Kind::Social),
    ("mastodon.social", "Mastodon", Kind::Social),
    ("vk.com", "VKontakte", Kind::Social),
    ("weibo.com", "Sina Weibo", Kind::Social),
    ("quora.com", "Quora", Kind::Social),
    ("discord.com", "Discord", Kind::Social),
    ("telegram.org", "Telegram", Kind::Social),
    ("t.me", "Telegram", Kind::Social),
    ("web.whatsapp.com", "WhatsApp", Kind::Social),
    ("slack.com", "Slack", Kind::Social),
    ("producthunt.com", "Product Hunt", Kind::Social),
    ("lobste.rs", "Lobsters", Kind::Social),
    ("medium.com", "Medium", Kind::Social),
    ("dev.to", "DEV Community", Kind::Social),
    ("github.com", "GitHub", Kind::Other),
    ("stackoverflow.com", "Stack Overflow", Kind::Other),
    ("youtube.com", "YouTube", Kind::Video),
    ("youtu.be", "YouTube", Kind::Video),
    ("vimeo.com", "Vimeo", Kind::Video),
    ("twitch.tv", "Twitch", Kind::Video),
    ("dailymotion.com", "Dailymotion", Kind::Video),
    ("mail.google.com", "Gmail", Kind::Email),
    ("outlook.live.com", "Outlook.com", Kind::Email),
    ("mail.yahoo.com", "Yahoo! Mail", Kind::Email),
    ("mail.proton.me", "Proton Mail", Kind::Email),
    ("chatgpt.com", "ChatGPT", Kind::Ai),
    ("chat.openai.com", "ChatGPT", Kind::Ai),
    ("perplexity.ai", "Perplexity", Kind::Ai),
    ("claude.ai", "Claude", Kind::Ai),
    ("gemini.google.com", "Gemini", Kind::Ai),
    ("copilot.microsoft.com", "Microsoft Copilot", Kind::Ai),
    ("chat.deepseek.com", "DeepSeek", Kind::Ai),
    ("you.com", "You.com", Kind::Ai),
    ("phind.com", "Phind", Kind::Ai),
    ("chat.mistral.ai", "Mistral", Kind::Ai),
    ("meta.ai", "Meta AI", Kind::Ai),
    ("grok.com", "Grok", Kind::Ai),
];

/// Public-suffix-like endings accepted after a `brand.*` pattern: one or two short labels.
fn looks_like_public_suffix(rest: &str) -> bool {
    !rest.is_empty()
        && rest.split('.').count() <= 2
        && rest.split('.').all(|l| (2..=3).contains(&l.len()) || l == "com" || l == "info")
}

/// `host` is `domain` or one of its subdomains (`a.b.example.org` under `example.org`).
/// Runs for every known source on every referred hit: no allocation.
fn is_within(host: &str, domain: &str) -> bool {
    host.strip_suffix(domain).is_some_and(|head| head.is_empty() || head.ends_with('.'))
}

/// Some label of `host` is `brand` and what follows it looks like a public suffix (`google.co.uk`).
fn has_brand_label(host: &str, brand: &str) -> bool {
    let mut rest = host;
    loop {
        let (label, after) = rest.split_once('.').unwrap_or((rest, ""));
        if label == brand && looks_like_public_suffix(after) {
            return true;
        }
        if after.is_empty() {
            return false;
        }
        rest = after;
    }
}

fn lookup(host: &str) -> Option<(&'static str, Kind)> {
    let host = host.trim_start_matches("m.").trim_start_matches("l.").trim_start_matches("lm.");
    // The most specific pattern wins: `mail.google.com` before `google.*`.
    let mut best: Option<(usize, &'static str, Kind)> = None;
    for &(pattern, name, kind) in SOURCES {
        let matched = match pattern.strip_suffix(".*") {
            Some(brand) => has_brand_label(host, brand),
            None => is_within(host, pattern),
        };
        if matched && best.is_none_or(|(len, _, _)| pattern.len() > len) {
            best = Some((pattern.len(), name, kind));
        }
    }
    best.map(|(_, name, kind)| (name, kind))
}

/// Maps a `utm_source` value onto a known source name, case-insensitively (`google` -> Google).
fn lookup_name(source: &str) -> Option<(&'static str, Kind)> {
    let lower = source.to_ascii_lowercase();
    SOURCES
        .iter()
        .find(|(pattern, name, _)| name.eq_ignore_ascii_case(&lower) || pattern.trim_end_matches(".*") == lower)
        .map(|&(_, name, kind)| (name, kind))
        .or(match lower.as_str() {
            "fb" | "ig" => Some(("Facebook", Kind::Social)),
            _ => None,
        })
}

/// The traffic source of a visit: where its first pageview came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Referrer as host + path (no query), when it is another site.
    pub referrer: Option<String>,
    /// Grouped source name (Google, Twitter, example.org), `None` for direct traffic.
    pub source: Option<String>,
    pub channel: Channel,
}

/// Classifies a visit's source from its referrer and campaign parameters.
/// Referrers from the site itself count as no referrer.
pub fn classify(referrer: Option<&str>, site_host: &str, utm: &Utm, paid_click: bool) -> Source {
    let referrer_host =
        referrer.and_then(normalize_host).filter(|h| !is_within(h, site_host) && !is_within(site_host, h));
    let referrer_text = referrer_host.as_ref().map(|host| {
        let path = referrer
            .and_then(|r| r.split_once("://").map(|(_, rest)| rest).or(Some(r)))
            .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
            .map(|p| p.split(['?', '#']).next().unwrap_or(""))
            .filter(|p| *p != "/")
            .unwrap_or("");
        format!("{host}{path}")
    });

    let known = match (&utm.source, &referrer_host) {
        (Some(s), _) => lookup_name(s).map(|(n, k)| (n.to_string(), k)).or(Some((s.clone(), Kind::Other))),
        (None, Some(h)) => lookup(h).map(|(n, k)| (n.to_string(), k)).or(Some((h.clone(), Kind::Other))),
        (None, None) => None,
    };
    let medium = utm.medium.as_deref().unwrap_or("").to_ascii_lowercase();
    let paid =
        paid_click || medium.contains("cp") || medium == "ppc" || medium == "retargeting" || medium.starts_with("paid");
    let kind = known.as_ref().map(|(_, k)| *k);
    let channel = match kind {
        _ if medium == "affiliate" => Channel::Affiliates,
        _ if ["display", "banner", "expandable", "interstitial", "cpm"].contains(&medium.as_str()) => Channel::Display,
        Some(Kind::Search) if paid => Channel::PaidSearch,
        Some(Kind::Social) if paid => Channel::PaidSocial,
        None if paid_click => Channel::PaidSearch,
        Some(Kind::Search) => Channel::OrganicSearch,
        Some(Kind::Social) => Channel::OrganicSocial,
        Some(Kind::Video) => Channel::OrganicVideo,
        Some(Kind::Email) => Channel::Email,
        _ if medium.contains("mail") || medium == "newsletter" => Channel::Email,
        Some(Kind::Ai) => Channel::AiAssistants,
        Some(Kind::Other) => Channel::Referral,
        None => Channel::Direct,
    };
    Source { referrer: referrer_text, source: known.map(|(n, _)| n), channel }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utm(source: Option<&str>, medium: Option<&str>) -> Utm {
        Utm { source: source.map(Into::into), medium: medium.map(Into::into), ..Default::default() }
    }

    #[test]
    fn groups_search_engines_across_tlds() {
        for r in ["https://www.google.de/", "https://google.co.uk/search?q=x", "https://www.google.com"] {
            let s = classify(Some(r), "shop.test", &Utm::default(), false);
            assert_eq!(s.source.as_deref(), Some("Google"), "{r}");
            assert_eq!(s.channel, Channel::OrganicSearch);
        }
        assert_eq!(
            classify(Some("https://googleusercontent.example.org/"), "shop.test", &Utm::default(), false).channel,
            Channel::Referral
        );
    }

    #[test]
    fn social_ai_email_video_and_referral() {
        let c = |r: &str| classify(Some(r), "shop.test", &Utm::default(), false);
        assert_eq!(c("https://t.co/abc").source.as_deref(), Some("Twitter"));
        assert_eq!(c("https://t.co/abc").channel, Channel::OrganicSocial);
        assert_eq!(c("https://l.facebook.com/").channel, Channel::OrganicSocial);
        assert_eq!(c("https://chatgpt.com/").channel, Channel::AiAssistants);
        assert_eq!(c("https://mail.google.com/mail/u/0").channel, Channel::Email);
        assert_eq!(c("https://www.youtube.com/watch?v=1").channel, Channel::OrganicVideo);
        let r = c("https://blog.example.org/post/1?x=y");
        assert_eq!(r.source.as_deref(), Some("blog.example.org"));
        assert_eq!(r.referrer.as_deref(), Some("blog.example.org/post/1"));
        assert_eq!(r.channel, Channel::Referral);
    }

    #[test]
    fn direct_and_self_referrals() {
        assert_eq!(classify(None, "shop.test", &Utm::default(), false).channel, Channel::Direct);
        let own = classify(Some("https://www.shop.test/cart"), "shop.test", &Utm::default(), false);
        assert_eq!((own.source, own.channel), (None, Channel::Direct));
        let sub = classify(Some("https://docs.shop.test/"), "shop.test", &Utm::default(), false);
        assert_eq!(sub.channel, Channel::Direct);
    }

    #[test]
    fn campaigns_decide_paid_and_email() {
        assert_eq!(classify(None, "s.test", &utm(Some("google"), Some("cpc")), false).channel, Channel::PaidSearch);
        assert_eq!(
            classify(None, "s.test", &utm(Some("facebook"), Some("paid_social")), false).channel,
            Channel::PaidSocial
        );
        assert_eq!(
            classify(Some("https://www.google.com/"), "s.test", &Utm::default(), true).channel,
            Channel::PaidSearch
        );
        let mail = classify(None, "s.test", &utm(Some("weekly"), Some("email")), false);
        assert_eq!((mail.source.as_deref(), mail.channel), (Some("weekly"), Channel::Email));
        assert_eq!(
            classify(None, "s.test", &utm(Some("partner"), Some("affiliate")), false).channel,
            Channel::Affiliates
        );
        assert_eq!(classify(None, "s.test", &utm(Some("somewhere"), None), false).channel, Channel::Referral);
    }
}

//! The visitor's software and screen, as far as analytics needs them.

/// Device class from the user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DeviceClass {
    Desktop,
    Mobile,
    Tablet,
}

impl DeviceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Desktop => "Desktop",
            DeviceClass::Mobile => "Mobile",
            DeviceClass::Tablet => "Tablet",
        }
    }

    /// Decides the class from the parsed OS and device family and the raw user agent.
    pub fn infer(user_agent: &str, os: &str, device_family: &str) -> Self {
        let ua = user_agent.to_ascii_lowercase();
        let family = device_family.to_ascii_lowercase();
        if family.contains("ipad")
            || family.contains("tablet")
            || family.contains("kindle")
            || ua.contains("tablet")
            || (os == "Android" && !ua.contains("mobile"))
        {
            DeviceClass::Tablet
        } else if matches!(os, "iOS" | "Android" | "Windows Phone" | "KaiOS" | "BlackBerry OS")
            || ua.contains("mobile")
            || family.contains("iphone")
        {
            DeviceClass::Mobile
        } else {
            DeviceClass::Desktop
        }
    }
}

/// What the user agent says about a visitor; `bot` hits are not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    pub device: DeviceClass,
    /// Set for crawlers, monitors, headless and scripted browsers.
    pub bot: Option<BotKind>,
    /// Who an AI crawler is (set with `bot: Some(BotKind::AiCrawler)`).
    pub crawler: Option<super::crawlers::CrawlerIdentity>,
}

/// Why a user agent counts as a bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotKind {
    /// An AI crawler (GPTBot, ClaudeBot, ...).
    AiCrawler,
    /// Any other crawler, monitor or automation tool.
    Other,
}

/// Screen size class from the screen or viewport width in CSS pixels (Plausible's buckets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ScreenClass {
    Mobile,
    Tablet,
    Laptop,
    Desktop,
}

impl ScreenClass {
    pub fn from_width(width: u32) -> Option<Self> {
        match width {
            0 => None,
            1..576 => Some(ScreenClass::Mobile),
            576..992 => Some(ScreenClass::Tablet),
            992..1440 => Some(ScreenClass::Laptop),
            _ => Some(ScreenClass::Desktop),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ScreenClass::Mobile => "Mobile",
            ScreenClass::Tablet => "Tablet",
            ScreenClass::Laptop => "Laptop",
            ScreenClass::Desktop => "Desktop",
        }
    }
}

/// Normalizes a language tag (`en_us` -> `en-US`); `None` when it is not a plausible BCP 47 tag.
pub fn normalize_language(tag: &str) -> Option<String> {
    let tag = tag.trim().replace('_', "-");
    if tag.is_empty() || tag.len() > super::limits::MAX_LANGUAGE_LEN {
        return None;
    }
    let mut parts = tag.split('-');
    let primary = parts.next()?.to_ascii_lowercase();
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let mut out = primary;
    for part in parts {
        if part.is_empty() || part.len() > 8 || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        out.push('-');
        if part.len() == 2 {
            out.push_str(&part.to_ascii_uppercase());
        } else {
            out.push_str(part);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_classes() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
        assert_eq!(DeviceClass::infer(iphone, "iOS", "iPhone"), DeviceClass::Mobile);
        assert_eq!(DeviceClass::infer("Mozilla/5.0 (iPad; CPU OS 17_0)", "iOS", "iPad"), DeviceClass::Tablet);
        assert_eq!(
            DeviceClass::infer("Mozilla/5.0 (Linux; Android 14; SM-X700)", "Android", "Samsung SM-X700"),
            DeviceClass::Tablet
        );
        assert_eq!(
            DeviceClass::infer("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile", "Android", "Pixel 8"),
            DeviceClass::Mobile
        );
        assert_eq!(DeviceClass::infer("Mozilla/5.0 (X11; Linux x86_64)", "Linux", "Other"), DeviceClass::Desktop);
    }

    #[test]
    fn screen_classes_and_languages() {
        assert_eq!(ScreenClass::from_width(375), Some(ScreenClass::Mobile));
        assert_eq!(ScreenClass::from_width(1280), Some(ScreenClass::Laptop));
        assert_eq!(ScreenClass::from_width(1920), Some(ScreenClass::Desktop));
        assert_eq!(ScreenClass::from_width(0), None);
        assert_eq!(normalize_language("en_us").as_deref(), Some("en-US"));
        assert_eq!(normalize_language("zh-Hant-TW").as_deref(), Some("zh-Hant-TW"));
        assert_eq!(normalize_language("<script>"), None);
    }
}

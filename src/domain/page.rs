//! Page URLs: the path recorded, and the campaign parameters found in the query string.

use super::limits::{InvalidHit, MAX_URL_LEN, check_len};

/// The five UTM campaign parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub content: Option<String>,
    pub term: Option<String>,
}

impl Utm {
    /// Fills fields still empty from `other` (explicit payload fields win over the URL's).
    pub fn or(self, other: Utm) -> Utm {
        Utm {
            source: self.source.or(other.source),
            medium: self.medium.or(other.medium),
            campaign: self.campaign.or(other.campaign),
            content: self.content.or(other.content),
            term: self.term.or(other.term),
        }
    }
}

/// A page as recorded: the pathname (with a route-like fragment for hash routing), campaign
/// parameters and click ids from the query string. The query string itself is not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub hostname: Option<String>,
    pub pathname: String,
    pub utm: Utm,
    /// A paid-click id (`gclid`, `msclkid`, ...) was present.
    pub paid_click: bool,
}

impl Page {
    /// Parses a path such as `/pricing?utm_source=x#/tab` or a full URL such as `https://a.com/x`.
    /// `hash_routing` keeps any fragment; otherwise only route-like fragments (`#/...`, `#!/...`) are kept.
    pub fn parse(input: &str, hash_routing: bool) -> Result<Self, InvalidHit> {
        let input = input.trim();
        check_len("path", input, MAX_URL_LEN)?;
        let (hostname, rest) = match input.find("://") {
            Some(i) if input[..i].bytes().all(|b| b.is_ascii_alphabetic()) => {
                let after = &input[i + 3..];
                let end = after.find(['/', '?', '#']).unwrap_or(after.len());
                (super::site::normalize_host(&after[..end]), &after[end..])
            }
            _ => (None, input),
        };
        let (before_hash, fragment) = match rest.split_once('#') {
            Some((a, f)) => (a, Some(f)),
            None => (rest, None),
        };
        let (path, query) = match before_hash.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (before_hash, None),
        };
        let mut pathname = if path.is_empty() { "/".to_string() } else { path.to_string() };
        if !pathname.starts_with('/') {
            return Err(InvalidHit::new("path", "must start with '/' or be an absolute URL"));
        }
        if pathname.chars().any(char::is_control) {
            return Err(InvalidHit::new("path", "contains control characters"));
        }
        if let Some(f) = fragment
            && !f.is_empty()
            && (hash_routing || f.starts_with('/') || f.starts_with("!/"))
        {
            pathname.push('#');
            pathname.push_str(f);
        }
        let mut page = Page { hostname, pathname, utm: Utm::default(), paid_click: false };
        if let Some(q) = query {
            page.read_query(q);
        }
        Ok(page)
    }

    fn read_query(&mut self, query: &str) {
        let mut source_alias = None;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let value = Some(value.chars().take(200).collect::<String>());
            match key.as_ref() {
                "utm_source" => self.utm.source = value,
                "utm_medium" => self.utm.medium = value,
                "utm_campaign" => self.utm.campaign = value,
                "utm_content" => self.utm.content = value,
                "utm_term" => self.utm.term = value,
                "ref" | "source" if source_alias.is_none() => source_alias = value,
                "gclid" | "gbraid" | "wbraid" | "msclkid" | "dclid" => self.paid_click = true,
                _ => {}
            }
        }
        if self.utm.source.is_none() {
            self.utm.source = source_alias;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_query_and_anchor_keeps_routes() {
        let p = Page::parse("/pricing?utm_source=News&utm_medium=email&x=1#top", false).unwrap();
        assert_eq!(p.pathname, "/pricing");
        assert_eq!(p.utm.source.as_deref(), Some("News"));
        assert_eq!(p.utm.medium.as_deref(), Some("email"));
        assert_eq!(Page::parse("/app#/settings", false).unwrap().pathname, "/app#/settings");
        assert_eq!(Page::parse("/app#section", true).unwrap().pathname, "/app#section");
        assert_eq!(Page::parse("", false).unwrap().pathname, "/");
    }

    #[test]
    fn full_urls_give_hostname() {
        let p = Page::parse("https://WWW.Shop.test/a/b?ref=producthunt&gclid=1", false).unwrap();
        assert_eq!(p.hostname.as_deref(), Some("shop.test"));
        assert_eq!(p.pathname, "/a/b");
        assert_eq!(p.utm.source.as_deref(), Some("producthunt"));
        assert!(p.paid_click);
        assert_eq!(Page::parse("https://shop.test", false).unwrap().pathname, "/");
    }

    #[test]
    fn refuses_bad_paths() {
        assert_eq!(Page::parse("pricing", false).unwrap_err().field, "path");
        assert!(Page::parse(&format!("/{}", "a".repeat(3000)), false).is_err());
        assert!(Page::parse("/a\u{0}b", false).is_err());
    }
}

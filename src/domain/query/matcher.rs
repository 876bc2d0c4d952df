//! Matching names (goal display names, country names) against a filter condition in Rust.
//! Patterns are compiled once per condition, with a size limit, instead of once per name.

use regex::{Regex, RegexBuilder};

use super::FilterOp;
use super::limits::REGEX_SIZE_LIMIT;

/// A `*` / `**` wildcard as an anchored regex: `*` stays within a path segment.
pub fn wildcard_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '*' {
            if chars.peek() == Some(&'*') {
                chars.next();
                out.push_str(".*");
            } else {
                out.push_str("[^/]*");
            }
        } else {
            out.push_str(&regex::escape(&c.to_string()));
        }
    }
    out.push('$');
    out
}

/// Compiles a filter's regular expression within [`REGEX_SIZE_LIMIT`]; the error names the
/// pattern and, when it is too large, the limit.
pub fn compile(pattern: &str, case_insensitive: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern).case_insensitive(case_insensitive).size_limit(REGEX_SIZE_LIMIT).build().map_err(|e| {
        match e {
            regex::Error::CompiledTooBig(limit) => format!(
                "Regular expression {pattern:?} in filter is too large when compiled (over {limit} bytes; \
                 limit: regex_size_limit). Use a simpler pattern (e.g. [a-z] instead of \\w, fewer repetitions)."
            ),
            other => format!("Invalid regular expression {pattern:?} in filter: {other}"),
        }
    })
}

/// A condition's operator and values, ready to test many names.
pub struct ValueMatcher {
    op: FilterOp,
    case_sensitive: bool,
    values: Vec<String>,
    /// The values lower-cased, for case-insensitive `contains`.
    lowered: Vec<String>,
    /// Compiled patterns of `matches*` conditions, one per value.
    patterns: Vec<Regex>,
}

impl ValueMatcher {
    /// Compiles the condition's patterns (each once).
    pub fn new(op: FilterOp, values: &[String], case_sensitive: bool) -> Result<Self, String> {
        let patterns = match op {
            FilterOp::Matches | FilterOp::MatchesNot => {
                values.iter().map(|v| compile(v, !case_sensitive)).collect::<Result<_, _>>()?
            }
            FilterOp::MatchesWildcard | FilterOp::MatchesWildcardNot => {
                values.iter().map(|v| compile(&wildcard_regex(v), !case_sensitive)).collect::<Result<_, _>>()?
            }
            _ => Vec::new(),
        };
        let lowered = values.iter().map(|v| v.to_lowercase()).collect();
        Ok(Self { op, case_sensitive, values: values.to_vec(), lowered, patterns })
    }

    /// Whether some value matches `name` (the operator's negation is not applied).
    pub fn hit(&self, name: &str) -> bool {
        match self.op {
            FilterOp::Is | FilterOp::IsNot => {
                self.values.iter().any(|v| if self.case_sensitive { name == v } else { name.eq_ignore_ascii_case(v) })
            }
            FilterOp::Contains | FilterOp::ContainsNot if self.case_sensitive => {
                self.values.iter().any(|v| name.contains(v.as_str()))
            }
            FilterOp::Contains | FilterOp::ContainsNot => {
                let name = name.to_lowercase();
                self.lowered.iter().any(|v| name.contains(v.as_str()))
            }
            _ => self.patterns.iter().any(|r| r.is_match(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_stay_in_segments() {
        let r = Regex::new(&wildcard_regex("/blog/*")).unwrap();
        assert!(r.is_match("/blog/post-1"));
        assert!(!r.is_match("/blog/a/b"));
        let rr = Regex::new(&wildcard_regex("/docs/**")).unwrap();
        assert!(rr.is_match("/docs/a/b/c"));
        assert!(!Regex::new(&wildcard_regex("/a.b")).unwrap().is_match("/aXb"), "dots are literal");
    }

    #[test]
    fn matches_names_like_the_sql_does() {
        let m =
            |op, vals: &[&str], cs| ValueMatcher::new(op, &vals.iter().map(|s| s.to_string()).collect::<Vec<_>>(), cs);
        assert!(m(FilterOp::Is, &["Germany"], false).unwrap().hit("germany"));
        assert!(!m(FilterOp::Is, &["Germany"], true).unwrap().hit("germany"));
        assert!(m(FilterOp::Contains, &["MAN"], false).unwrap().hit("Germany"));
        assert!(m(FilterOp::Matches, &["^Ger"], true).unwrap().hit("Germany"));
        assert!(m(FilterOp::MatchesWildcard, &["Ger*"], true).unwrap().hit("Germany"));
        let e = m(FilterOp::Matches, &[r"\w{40}"], true).err().unwrap();
        assert!(e.contains("regex_size_limit"), "{e}");
        assert!(m(FilterOp::Matches, &["("], true).err().unwrap().contains("Invalid regular expression"));
    }
}

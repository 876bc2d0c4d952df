//! Annotations: dated notes on a site's charts ("launched v2", "newsletter sent").

use chrono::NaiveDate;

/// Longest note, in characters: a chart label, not a changelog.
pub const MAX_NOTE_CHARS: usize = 200;

/// A stored annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub id: u32,
    pub site_id: u32,
    /// The day it marks (the site's time zone).
    pub date: NaiveDate,
    pub note: String,
    /// Who wrote it (an e-mail address, a token's name or `cli`).
    pub author: String,
    /// Unix microseconds.
    pub created_at: i64,
}

/// An annotation to save: a date and a note, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationDraft {
    pub date: NaiveDate,
    pub note: String,
}

/// Why an annotation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidAnnotation(pub String);

impl AnnotationDraft {
    /// Checks a `YYYY-MM-DD` date and a note of 1 to [`MAX_NOTE_CHARS`] characters (trimmed).
    pub fn parse(date: &str, note: &str) -> Result<Self, InvalidAnnotation> {
        let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|_| InvalidAnnotation(format!("date {date:?} is not YYYY-MM-DD")))?;
        let note = note.trim();
        if note.is_empty() {
            return Err(InvalidAnnotation("note must not be empty".into()));
        }
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(InvalidAnnotation(format!("note is longer than {MAX_NOTE_CHARS} characters")));
        }
        if note.chars().any(char::is_control) {
            return Err(InvalidAnnotation("note must be one line without control characters".into()));
        }
        Ok(Self { date, note: note.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_are_checked() {
        let d = AnnotationDraft::parse("2026-11-02", "  Launched v2 ").unwrap();
        assert_eq!((d.date.to_string().as_str(), d.note.as_str()), ("2026-11-02", "Launched v2"));
        assert!(AnnotationDraft::parse("02/11/2026", "x").is_err());
        assert!(AnnotationDraft::parse("2026-11-02", "  ").is_err());
        assert!(AnnotationDraft::parse("2026-11-02", &"x".repeat(MAX_NOTE_CHARS + 1)).is_err());
        assert!(AnnotationDraft::parse("2026-11-02", "a\nb").is_err());
    }
}

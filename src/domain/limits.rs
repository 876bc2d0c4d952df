//! Input limits for hits: anything larger is refused with a message naming the field.

/// Longest accepted path (with query string) or URL.
pub const MAX_URL_LEN: usize = 2048;
/// Longest accepted referrer.
pub const MAX_REFERRER_LEN: usize = 2048;
/// Longest custom event name.
pub const MAX_EVENT_NAME_LEN: usize = 120;
/// Most properties on one event.
pub const MAX_PROPS: usize = 30;
/// Longest property key.
pub const MAX_PROP_KEY_LEN: usize = 300;
/// Longest property value.
pub const MAX_PROP_VALUE_LEN: usize = 2000;
/// Longest user agent considered (longer ones are truncated before parsing).
pub const MAX_USER_AGENT_LEN: usize = 1024;
/// Longest language tag kept.
pub const MAX_LANGUAGE_LEN: usize = 35;

/// A hit that breaks a rule of the protocol; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidHit {
    pub field: &'static str,
    pub message: String,
}

impl InvalidHit {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

/// Refuses `value` when longer than `max` characters.
pub fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), InvalidHit> {
    if value.chars().count() > max {
        return Err(InvalidHit::new(field, format!("longer than {max} characters")));
    }
    Ok(())
}

//! Mail delivery.

/// A composed mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a mail was not sent.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MailError {
    #[error("mail is not configured: {0}")]
    NotConfigured(String),
    #[error("invalid address: {0}")]
    Address(String),
    #[error("SMTP delivery failed: {0}")]
    Delivery(String),
}

/// Sends mail.
pub trait Mailer: Send + Sync {
    fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

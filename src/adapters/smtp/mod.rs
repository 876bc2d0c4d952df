//! Mail delivery over SMTP with lettre (plain SMTP: a local relay or a test sink; no TLS
//! library is compiled in).

use lettre::message::{Mailbox, MultiPart};
use lettre::{Message, SmtpTransport, Transport};

use crate::ports::lifecycle::{Mail, MailError, Mailer};

/// SMTP settings: `smtp://host:port` and the sender address.
#[derive(Debug, Clone)]
pub struct SmtpMailer {
    host: String,
    port: u16,
    from: Mailbox,
}

impl SmtpMailer {
    /// Parses `smtp://host[:port]` (port 25 by default) and the From address.
    pub fn new(url: &str, from: &str) -> Result<Self, MailError> {
        let parsed = url::Url::parse(url).map_err(|e| MailError::NotConfigured(format!("--smtp-url {url:?}: {e}")))?;
        if parsed.scheme() != "smtp" {
            return Err(MailError::NotConfigured(format!(
                "--smtp-url {url:?}: only smtp:// is supported (use a local relay for TLS)"
            )));
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| MailError::NotConfigured(format!("--smtp-url {url:?} has no host")))?
            .to_string();
        let from = from.parse::<Mailbox>().map_err(|e| MailError::Address(format!("--smtp-from {from:?}: {e}")))?;
        Ok(Self { host, port: parsed.port().unwrap_or(25), from })
    }
}

/// Mail is not configured: every send says so.
pub struct NoMailer;

impl Mailer for NoMailer {
    fn send(&self, _mail: &Mail) -> Result<(), MailError> {
        Err(MailError::NotConfigured("start the server with --smtp-url and --smtp-from".into()))
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to = mail.to.parse::<Mailbox>().map_err(|e| MailError::Address(format!("{:?}: {e}", mail.to)))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
            .map_err(|e| MailError::Delivery(e.to_string()))?;
        let transport = SmtpTransport::builder_dangerous(&self.host)
            .port(self.port)
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        transport.send(&message).map(|_| ()).map_err(|e| MailError::Delivery(e.to_string()))
    }
}

// Nothing listens on the discard port: an address refused before delivery never gets there.
crate::conformance_tests!(mailer: || SmtpMailer::new("smtp://127.0.0.1:9", "hk@x.test").unwrap());

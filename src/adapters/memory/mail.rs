//! A mailer that keeps what it is given: the double of the mail port for service tests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::ports::mail::{Mail, MailError, Mailer};

/// Mail kept in a list instead of sent; while `refusing`, every delivery fails.
#[derive(Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Mail>>,
    refusing: AtomicBool,
}

impl MemoryMailer {
    /// The mails delivered so far, in order.
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Makes every following delivery fail (a mail server that is down) or succeed again.
    pub fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }
}

impl Mailer for MemoryMailer {
    fn send(&self, mail: &Mail) -> Result<(), MailError> {
        // The same check an SMTP library makes before it connects.
        if mail.to.split_once('@').is_none_or(|(local, host)| local.is_empty() || host.is_empty()) {
            return Err(MailError::Address(mail.to.clone()));
        }
        if self.refusing.load(Ordering::SeqCst) {
            return Err(MailError::Delivery("the test mail server refused".into()));
        }
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).push(mail.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_the_mailer_conformance_suite() {
        crate::ports::conformance::mailer(MemoryMailer::default);
    }

    #[test]
    fn keeps_what_it_delivers_and_refuses_on_demand() {
        let mailer = MemoryMailer::default();
        let mail = Mail { to: "a@x.test".into(), subject: "s".into(), text: "t".into(), html: "h".into() };
        mailer.send(&mail).unwrap();
        mailer.refuse(true);
        assert!(matches!(mailer.send(&mail), Err(MailError::Delivery(_))));
        assert_eq!(mailer.sent(), [mail]);
    }
}

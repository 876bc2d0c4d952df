//! The data lifecycle ports, one module each: retention (with exports and backups), imports,
//! subscriptions and mail. Re-exported here for code that names them by their old home.

pub use super::imports::ImportStore;
pub use super::mail::{Mail, MailError, Mailer};
pub use super::retention::{BackupOutcome, DataLifecycle, ExportFormat, RetentionOutcome};
pub use super::subscriptions::{Subscription, SubscriptionStore};

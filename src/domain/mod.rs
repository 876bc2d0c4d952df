//! The analytics domain: validated types and pure rules. No framework, no I/O.

pub mod accounts;
pub mod auth;
pub mod channel;
pub mod client;
pub mod cooldown;
pub mod countries;
pub mod email_report;
pub mod email_report_text;
pub mod event;
pub mod hash_gate;
pub mod imports;
pub mod ingest;
pub mod language;
pub mod lifecycle;
pub mod limits;
pub mod login_limiter;
pub mod page;
pub mod plausible_names;
pub mod query;
pub mod recorder;
pub mod reports;
pub mod revenue;
pub mod site;
pub mod spreadsheet;
pub mod visit;
pub mod visitor;

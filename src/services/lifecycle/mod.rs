//! The data lifecycle, one service per job: retention, exports, backups and imports. E-mail
//! reports are [`crate::domain::email_report::EmailReports`]. The HTTP handlers, the command
//! line and the background jobs all call these, so each rule exists once.

pub mod backups;
pub mod exports;
pub mod imports;
pub mod retention;

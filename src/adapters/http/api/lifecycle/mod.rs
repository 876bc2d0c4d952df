//! Data lifecycle endpoints: raw exports, imports from other tools, e-mail report
//! subscriptions, and the admin calls for backups and retention: one module each.

mod admin;
mod email;
mod transfer;

pub use admin::AdminApi;
pub use email::EmailApi;
pub use transfer::TransferApi;

use std::sync::Arc;

use poem::Body;
use poem_openapi::param::{Path, Query as QueryParam};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{Object, OpenApi, ResponseContent};

use super::{ApiErrorBody, ApiTags, body};
use crate::adapters::http::AppState;
use crate::adapters::http::auth::Auth;
use crate::adapters::http::guard::{ErrorAnswers, site_for, who};
use crate::domain::accounts::{Need, instance_admin};
use crate::domain::email_report::EmailReportError;
use crate::domain::imports::{ImportBatch, ImportError, ImportSource};
use crate::domain::lifecycle::{Frequency, parse_email};
use crate::ports::mail::MailError;
use crate::ports::retention::ExportFormat;
use crate::services::blocking;
use crate::services::lifecycle::backups::BackupError;
use crate::services::lifecycle::exports::ExportService;
use crate::services::lifecycle::imports::ImportServiceError;

/// Lifecycle endpoints.
pub struct LifecycleApi {
    pub state: Arc<AppState>,
}

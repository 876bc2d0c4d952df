//! Data lifecycle endpoints: raw exports, imports from other tools, e-mail report
//! subscriptions, and the admin calls for backups and retention.

use std::sync::Arc;

use poem::Body;
use poem_openapi::param::{Path, Query as QueryParam};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi, ResponseContent};

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

/// The streamed file, typed by format.
#[derive(ResponseContent)]
pub enum ExportBody {
    #[oai(content_type = "text/csv; charset=utf-8")]
    Csv(Binary<Body>),
    #[oai(content_type = "application/vnd.apache.parquet")]
    Parquet(Binary<Body>),
    #[oai(content_type = "application/x-ndjson")]
    Ndjson(Binary<Body>),
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "export_bad_request")]
pub enum ExportResult {
    /// The site's raw events in the range, one row per pageview or custom event.
    #[oai(status = 200)]
    Ok(ExportBody, #[oai(header = "content-disposition")] String),
    /// Invalid range or format; `message` names it.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Not signed in, or unknown credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// The role or token scope does not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ApiErrorBody>),
    /// No such site.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn export_bad_request(err: poem::Error) -> ExportResult {
    ExportResult::refused(err, |e| ExportResult::BadRequest(body("invalid_request", e.to_string())))
}

/// Additive totals of an import.
#[derive(Object)]
pub struct ImportTotals {
    pub visitors: u64,
    pub visits: u64,
    pub pageviews: u64,
    pub bounces: u64,
    /// Total seconds of all visits.
    pub visit_duration: u64,
}

/// What an import read (and, unless a dry run, stored).
#[derive(Object)]
pub struct ImportReport {
    /// Nothing was stored.
    pub dry_run: bool,
    pub source: String,
    /// The stored import's id (not for dry runs).
    #[oai(skip_serializing_if_is_none)]
    pub import_id: Option<u32>,
    pub rows_read: u64,
    /// Rows left out on purpose (bots).
    pub rows_skipped: u64,
    pub days: u64,
    #[oai(skip_serializing_if_is_none)]
    pub first_date: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub last_date: Option<String>,
    pub totals: ImportTotals,
}

/// A refused row.
#[derive(Object)]
pub struct BadRowView {
    pub file: String,
    /// 1-based line number (the header is line 1).
    pub line: u64,
    pub reason: String,
}

/// An import refused as a whole: nothing was stored.
#[derive(Object)]
pub struct ImportErrorBody {
    pub error: String,
    pub message: String,
    /// The rows that could not be read (at most 50).
    pub bad_rows: Vec<BadRowView>,
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "import_bad_request")]
pub enum ImportResult {
    /// Dry run: what would be imported.
    #[oai(status = 200)]
    Checked(Json<ImportReport>),
    /// Imported.
    #[oai(status = 201)]
    Imported(Json<ImportReport>),
    /// Invalid parameters.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Not signed in, or unknown credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// The role or token scope does not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ApiErrorBody>),
    /// No such site.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// The upload, or what a zip or gzip unpacks to, is larger than the limit.
    #[oai(status = 413)]
    TooLarge(Json<ApiErrorBody>),
    /// The file is not a valid export, or some rows are bad; nothing was stored.
    #[oai(status = 422)]
    Unprocessable(Json<ImportErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
    /// Another import is running (one at a time); try again after `Retry-After` seconds.
    #[oai(status = 503)]
    Busy(Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
}

fn import_bad_request(err: poem::Error) -> ImportResult {
    ImportResult::refused(err, |e| ImportResult::BadRequest(body("invalid_request", e.to_string())))
}

/// An e-mail report subscription.
#[derive(Object)]
pub struct SubscriptionView {
    pub email: String,
    /// `week` (Mondays 08:00) or `month` (the 1st, 08:00), in the site's time zone.
    pub frequency: String,
    /// The last period sent, e.g. `2026-W47` or `2026-11`.
    #[oai(skip_serializing_if_is_none)]
    pub last_period: Option<String>,
}

/// Subscribe or unsubscribe an address.
#[derive(Object)]
pub struct SubscriptionRequest {
    pub email: String,
    /// `week` or `month`.
    pub frequency: String,
}

/// Send a report now.
#[derive(Object)]
pub struct SendReportRequest {
    pub email: String,
    /// `week` (the last complete week) or `month` (the last complete month).
    pub period: String,
}

/// A sent report.
#[derive(Object)]
pub struct SentReport {
    pub to: String,
    pub subject: String,
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "subs_bad_request")]
pub enum SubscriptionsResult {
    /// The site's subscriptions.
    #[oai(status = 200)]
    List(Json<Vec<SubscriptionView>>),
    /// Subscribed (or already subscribed).
    #[oai(status = 201)]
    Created(Json<SubscriptionView>),
    /// Unsubscribed.
    #[oai(status = 204)]
    Deleted,
    /// Invalid address or frequency.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Not signed in, or unknown credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// The role or token scope does not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ApiErrorBody>),
    /// No such site or subscription.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn subs_bad_request(err: poem::Error) -> SubscriptionsResult {
    SubscriptionsResult::refused(err, |e| SubscriptionsResult::BadRequest(body("invalid_request", e.to_string())))
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "send_bad_request")]
pub enum SendResult {
    /// Sent.
    #[oai(status = 200)]
    Sent(Json<SentReport>),
    /// Invalid address or period.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Not signed in, or unknown credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// The role or token scope does not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ApiErrorBody>),
    /// No such site.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage or report failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
    /// A report of this site was sent less than a minute ago; try again after `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
    /// The SMTP server refused or could not be reached.
    #[oai(status = 502)]
    BadGateway(Json<ApiErrorBody>),
    /// Mail is not configured (`--smtp-url`, `--smtp-from`).
    #[oai(status = 503)]
    Unavailable(Json<ApiErrorBody>),
}

fn send_bad_request(err: poem::Error) -> SendResult {
    SendResult::refused(err, |e| SendResult::BadRequest(body("invalid_request", e.to_string())))
}

/// Where to write a backup.
#[derive(Object)]
pub struct BackupRequest {
    /// A new directory under the server's backup directory (`--backup-dir`, default
    /// `<data-dir>/backups`): a name, or an absolute path inside it.
    pub to: String,
}

/// A finished backup.
#[derive(Object)]
pub struct BackupView {
    /// The snapshot's database file (restore with `hitkeep restore --from <dir>`).
    pub file: String,
    pub bytes: u64,
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "admin_bad_request")]
pub enum BackupResult {
    /// Written.
    #[oai(status = 201)]
    Created(Json<BackupView>),
    /// Invalid target.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Not signed in, or unknown credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// The role or token scope does not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ApiErrorBody>),
    /// Unused (admin calls name no site).
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// The target already holds a backup.
    #[oai(status = 409)]
    Conflict(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn admin_bad_request(err: poem::Error) -> BackupResult {
    BackupResult::refused(err, |e| BackupResult::BadRequest(body("invalid_request", e.to_string())))
}

/// One site's retention run.
#[derive(Object)]
pub struct RetentionView {
    pub site: String,
    pub retention_days: u32,
    /// Events before this instant were deleted (RFC 3339).
    pub cutoff: String,
    pub deleted_events: u64,
    pub deleted_vitals: u64,
    /// Parquet files written or extended.
    pub archives: Vec<String>,
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "retention_bad_request")]
pub enum RetentionResult {
    /// Sites with a retention period and what was deleted.
    #[oai(status = 200)]
    Ok(Json<Vec<RetentionView>>),
    /// Invalid time.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Not signed in, or unknown credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// The role or token scope does not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ApiErrorBody>),
    /// Unused.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn retention_bad_request(err: poem::Error) -> RetentionResult {
    RetentionResult::refused(err, |e| RetentionResult::BadRequest(body("invalid_request", e.to_string())))
}

crate::error_answers!(ExportResult, ImportResult, SubscriptionsResult, SendResult, BackupResult, RetentionResult);

/// Instance-wide calls (backups, retention): instance administrators and the operator token.
async fn admin<R: ErrorAnswers>(state: &AppState, auth: &Auth) -> Result<(), R> {
    let caller = who::<R>(state, auth).await?;
    instance_admin(&caller.principal).map_err(|d| R::denied(d, ""))
}

/// One import at a time per instance: each may hold its upload and what it unpacks to in memory.
static IMPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
/// What a refused concurrent import is told to wait.
const IMPORT_RETRY_AFTER_SECS: u64 = 10;

/// Lifecycle endpoints.
pub struct LifecycleApi {
    pub state: Arc<AppState>,
}

fn report_of(source: ImportSource, batch: &ImportBatch, dry_run: bool, import_id: Option<u32>) -> ImportReport {
    let t = batch.totals();
    ImportReport {
        dry_run,
        source: source.as_str().into(),
        import_id,
        rows_read: batch.rows_read,
        rows_skipped: batch.rows_skipped,
        days: batch.days.len() as u64,
        first_date: batch.first_date().map(|d| d.to_string()),
        last_date: batch.last_date().map(|d| d.to_string()),
        totals: ImportTotals {
            visitors: t.visitors,
            visits: t.visits,
            pageviews: t.pageviews,
            bounces: t.bounces,
            visit_duration: t.visit_duration,
        },
    }
}

fn import_refused(e: ImportError) -> ImportResult {
    let (code, bad_rows) = match &e {
        ImportError::Unpacked { .. } => {
            return ImportResult::TooLarge(body("too_large", format!("{e} (--max-import-unpacked-bytes)")));
        }
        ImportError::BadFile(_) => ("invalid_file", vec![]),
        ImportError::BadRows(rows) => (
            "bad_rows",
            rows.iter().map(|r| BadRowView { file: r.file.clone(), line: r.line, reason: r.reason.clone() }).collect(),
        ),
    };
    ImportResult::Unprocessable(Json(ImportErrorBody { error: code.into(), message: e.to_string(), bad_rows }))
}

fn subscription_args(email: &str, frequency: &str) -> Result<(String, Frequency), String> {
    let email = parse_email(email).map_err(|e| e.0)?;
    let frequency =
        Frequency::parse(frequency).ok_or_else(|| format!("frequency must be week or month, got {frequency:?}"))?;
    Ok((email, frequency))
}

#[OpenApi(tag = "ApiTags::Lifecycle")]
impl LifecycleApi {
    /// Export a site's raw events for a date range (site time zone) as CSV, Parquet or NDJSON, streamed.
    /// Members and tokens that read the site may export; share links (public dashboards) may not.
    #[oai(path = "/sites/:site/export", method = "get", operation_id = "exportEvents")]
    async fn export(
        &self,
        auth: Auth,
        site: Path<String>,
        /// First day, `YYYY-MM-DD`.
        from: QueryParam<String>,
        /// Last day (inclusive), `YYYY-MM-DD`.
        to: QueryParam<String>,
        /// `csv`, `parquet` or `ndjson` (default).
        format: QueryParam<Option<String>>,
    ) -> ExportResult {
        let site = match site_for::<ExportResult>(&self.state, &auth, &site.0, Need::Read).await {
            Ok((_, caller)) if matches!(caller.principal, crate::domain::accounts::Principal::Share { .. }) => {
                return ExportResult::forbidden(
                    "a share link shows the dashboard; raw events need an account or token".into(),
                );
            }
            Ok((s, _)) => s,
            Err(denied) => return denied,
        };
        let format = match ExportService::format(format.0.as_deref()) {
            Ok(f) => f,
            Err(e) => return ExportResult::BadRequest(body("invalid_format", e.to_string())),
        };
        let span = match ExportService::span(&site, &from.0, &to.0) {
            Ok(s) => s,
            Err(e) => return ExportResult::BadRequest(body("invalid_date_range", e.to_string())),
        };
        let (exports, s) = (self.state.exports.clone(), site.clone());
        let file = match blocking(move || exports.stage(&s, &span, format)).await {
            Ok(f) => f,
            Err(e) => return ExportResult::internal(e.to_string()),
        };
        // Open, then unlink: the stream reads the file and the disk space goes with the handle.
        let handle = match tokio::fs::File::open(&file).await {
            Ok(h) => h,
            Err(e) => return ExportResult::internal(e.to_string()),
        };
        let _ = tokio::fs::remove_file(&file).await;
        let stream = Binary(Body::from_async_read(handle));
        let name =
            format!("attachment; filename=\"{}-events-{}-{}.{}\"", site.domain, span.from, span.to, format.extension());
        let content = match format {
            ExportFormat::Csv => ExportBody::Csv(stream),
            ExportFormat::Parquet => ExportBody::Parquet(stream),
            ExportFormat::Ndjson => ExportBody::Ndjson(stream),
        };
        ExportResult::Ok(content, name)
    }

    /// Import history exported from Plausible (CSV export zip), Umami (website_event CSV) or
    /// GoatCounter (CSV export, optionally gzipped). The body is the file. With `dry_run=true`
    /// nothing is stored; bad rows are listed with line numbers either way.
    #[oai(path = "/sites/:site/imports", method = "post", operation_id = "importHistory")]
    async fn import(
        &self,
        auth: Auth,
        site: Path<String>,
        /// `plausible`, `umami` or `goatcounter`.
        source: QueryParam<String>,
        /// Check the file and report what would be imported, without storing anything.
        dry_run: QueryParam<Option<bool>>,
        file: Binary<Body>,
    ) -> ImportResult {
        let site = match site_for::<ImportResult>(&self.state, &auth, &site.0, Need::Manage).await.map(|(s, _)| s) {
            Ok(s) => s,
            Err(denied) => return denied,
        };
        let Some(source) = ImportSource::parse(&source.0) else {
            return ImportResult::BadRequest(body(
                "invalid_source",
                format!("source must be plausible, umami or goatcounter, got {:?}", source.0),
            ));
        };
        // Taken before the body is read, so only one upload at a time is held in memory.
        let Ok(one_at_a_time) = IMPORTS.try_acquire() else {
            return ImportResult::Busy(
                body("import_running", "another import is running; one runs at a time, try again shortly"),
                IMPORT_RETRY_AFTER_SECS,
            );
        };
        let max = self.state.lifecycle_config.max_import_bytes;
        let bytes = match file.0.into_bytes_limit(max).await {
            Ok(b) => b,
            Err(poem::error::ReadBodyError::PayloadTooLarge) => {
                return ImportResult::TooLarge(body(
                    "too_large",
                    format!("the upload is larger than {max} bytes (--max-import-bytes)"),
                ));
            }
            Err(e) => return ImportResult::BadRequest(body("invalid_body", e.to_string())),
        };
        let dry_run = dry_run.0.unwrap_or(false);
        let imports = self.state.import_service.clone();
        let max_unpacked = self.state.lifecycle_config.max_import_unpacked_bytes;
        let result = blocking(move || {
            // Held until the work ends, even when the client goes away meanwhile.
            let _one_at_a_time = one_at_a_time;
            imports.import(&site, source, &bytes, max_unpacked, dry_run)
        })
        .await;
        match result {
            Ok((batch, None)) => ImportResult::Checked(Json(report_of(source, &batch, true, None))),
            Ok((batch, id)) => ImportResult::Imported(Json(report_of(source, &batch, false, id))),
            Err(ImportServiceError::Refused(e)) => import_refused(e),
            Err(e) => ImportResult::internal(e.to_string()),
        }
    }

    /// The site's e-mail report subscriptions.
    #[oai(path = "/sites/:site/email-reports", method = "get", operation_id = "listEmailReports")]
    async fn list_subscriptions(&self, auth: Auth, site: Path<String>) -> SubscriptionsResult {
        let site =
            match site_for::<SubscriptionsResult>(&self.state, &auth, &site.0, Need::Manage).await.map(|(s, _)| s) {
                Ok(s) => s,
                Err(denied) => return denied,
            };
        let subs = self.state.email.subscriptions.clone();
        match blocking(move || subs.subscriptions(Some(site.id.0))).await {
            Ok(list) => SubscriptionsResult::List(Json(
                list.into_iter()
                    .map(|s| SubscriptionView {
                        email: s.email,
                        frequency: s.frequency.as_str().into(),
                        last_period: s.last_period,
                    })
                    .collect(),
            )),
            Err(e) => SubscriptionsResult::internal(e.to_string()),
        }
    }

    /// Subscribe an address to the site's weekly or monthly report.
    #[oai(path = "/sites/:site/email-reports", method = "post", operation_id = "subscribeEmailReport")]
    async fn subscribe(&self, auth: Auth, site: Path<String>, req: Json<SubscriptionRequest>) -> SubscriptionsResult {
        let site =
            match site_for::<SubscriptionsResult>(&self.state, &auth, &site.0, Need::Manage).await.map(|(s, _)| s) {
                Ok(s) => s,
                Err(denied) => return denied,
            };
        let (email, frequency) = match subscription_args(&req.email, &req.frequency) {
            Ok(a) => a,
            Err(m) => return SubscriptionsResult::BadRequest(body("invalid_subscription", m)),
        };
        let email_reports = self.state.email.clone();
        let stored = email.clone();
        let subscribed = blocking(move || {
            email_reports.subscribe(&site, &stored, frequency)?;
            let subs = email_reports.subscriptions.subscriptions(Some(site.id.0))?;
            Ok::<_, crate::ports::store::StoreError>(
                subs.into_iter().find(|s| s.email == stored && s.frequency == frequency).and_then(|s| s.last_period),
            )
        })
        .await;
        match subscribed {
            Ok(last_period) => SubscriptionsResult::Created(Json(SubscriptionView {
                email,
                frequency: frequency.as_str().into(),
                last_period,
            })),
            Err(e) => SubscriptionsResult::internal(e.to_string()),
        }
    }

    /// Unsubscribe an address.
    #[oai(path = "/sites/:site/email-reports", method = "delete", operation_id = "unsubscribeEmailReport")]
    async fn unsubscribe(
        &self,
        auth: Auth,
        site: Path<String>,
        email: QueryParam<String>,
        /// `week` or `month`.
        frequency: QueryParam<String>,
    ) -> SubscriptionsResult {
        let site =
            match site_for::<SubscriptionsResult>(&self.state, &auth, &site.0, Need::Manage).await.map(|(s, _)| s) {
                Ok(s) => s,
                Err(denied) => return denied,
            };
        let (email, frequency) = match subscription_args(&email.0, &frequency.0) {
            Ok(a) => a,
            Err(m) => return SubscriptionsResult::BadRequest(body("invalid_subscription", m)),
        };
        let subs = self.state.email.subscriptions.clone();
        match blocking(move || subs.unsubscribe(site.id.0, &email, frequency)).await {
            Ok(true) => SubscriptionsResult::Deleted,
            Ok(false) => SubscriptionsResult::not_found("no such subscription".into()),
            Err(e) => SubscriptionsResult::internal(e.to_string()),
        }
    }

    /// Send the report of the last complete week or month to an address now.
    #[oai(path = "/sites/:site/email-reports/send", method = "post", operation_id = "sendEmailReport")]
    async fn send(&self, auth: Auth, site: Path<String>, req: Json<SendReportRequest>) -> SendResult {
        let site = match site_for::<SendResult>(&self.state, &auth, &site.0, Need::Manage).await.map(|(s, _)| s) {
            Ok(s) => s,
            Err(denied) => return denied,
        };
        let (email, frequency) = match subscription_args(&req.email, &req.period) {
            Ok(a) => a,
            Err(m) => return SendResult::BadRequest(body("invalid_request", m.replace("frequency", "period"))),
        };
        let email_reports = self.state.email.clone();
        match blocking(move || email_reports.send_now(&site, &email, frequency)).await {
            Ok(mail) => SendResult::Sent(Json(SentReport { to: mail.to, subject: mail.subject })),
            Err(EmailReportError::Mail(e @ MailError::NotConfigured(_))) => {
                SendResult::Unavailable(body("mail_not_configured", e.to_string()))
            }
            Err(EmailReportError::Mail(e)) => SendResult::BadGateway(body("mail_failed", e.to_string())),
            Err(e @ EmailReportError::TooSoon { retry_after, .. }) => {
                SendResult::TooManyRequests(body("rate_limited", e.to_string()), retry_after)
            }
            Err(e) => SendResult::internal(e.to_string()),
        }
    }

    /// Write a consistent snapshot of the whole database to a directory on the server, while it
    /// keeps recording (admin).
    #[oai(path = "/admin/backup", method = "post", operation_id = "backup")]
    async fn backup(&self, auth: Auth, req: Json<BackupRequest>) -> BackupResult {
        if let Err(denied) = admin::<BackupResult>(&self.state, &auth).await {
            return denied;
        }
        let backups = self.state.backups.clone();
        let dir = match backups.target(&req.0.to) {
            Ok(d) => d,
            Err(e @ BackupError::Exists(_)) => return BackupResult::Conflict(body("backup_exists", e.to_string())),
            Err(e) => return BackupResult::BadRequest(body("invalid_target", e.to_string())),
        };
        match blocking(move || backups.backup_to(&dir)).await {
            Ok(b) => BackupResult::Created(Json(BackupView { file: b.file.display().to_string(), bytes: b.bytes })),
            Err(e) => BackupResult::internal(e.to_string()),
        }
    }

    /// Apply every site's retention period now (the daily job does this on its own) (admin).
    #[oai(path = "/admin/retention", method = "post", operation_id = "applyRetention")]
    async fn retention(&self, auth: Auth) -> RetentionResult {
        if let Err(denied) = admin::<RetentionResult>(&self.state, &auth).await {
            return denied;
        }
        let retention = self.state.retention.clone();
        let result = blocking(move || retention.apply_now()).await;
        match result {
            Ok(runs) => RetentionResult::Ok(Json(
                runs.into_iter()
                    .map(|r| RetentionView {
                        site: r.site.domain.to_string(),
                        retention_days: r.site.retention_days,
                        cutoff: chrono::DateTime::from_timestamp_micros(r.cutoff).unwrap_or_default().to_rfc3339(),
                        deleted_events: r.outcome.deleted_events,
                        deleted_vitals: r.outcome.deleted_vitals,
                        archives: r.outcome.archives.iter().map(|p| p.display().to_string()).collect(),
                    })
                    .collect(),
            )),
            Err(e) => RetentionResult::internal(e.to_string()),
        }
    }
}

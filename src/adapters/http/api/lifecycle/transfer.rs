//! Raw exports of a site's events, and imports of other tools' history.

#![allow(unused_imports)]

use super::*;

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

crate::api_answers! {
    pub enum ExportResult {
        /// The site's raw events in the range, one row per pageview or custom event.
        Ok(200, ExportBody, #[oai(header = "content-disposition")] String),
        /// Invalid range or format; `message` names it.
        BadRequest,
        Unauthorized, Forbidden,
        /// No such site.
        NotFound,
        Internal,
    }
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
#[oai(skip_serializing_if_is_none)]
pub struct ImportReport {
    /// Nothing was stored.
    pub dry_run: bool,
    pub source: String,
    /// The stored import's id (not for dry runs).
    pub import_id: Option<u32>,
    pub rows_read: u64,
    /// Rows left out on purpose (bots).
    pub rows_skipped: u64,
    pub days: u64,
    pub first_date: Option<String>,
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

crate::api_answers! {
    pub enum ImportResult {
        /// Dry run: what would be imported.
        Checked(200, Json<ImportReport>),
        /// Imported.
        Imported(201, Json<ImportReport>),
        /// Invalid parameters.
        BadRequest,
        Unauthorized, Forbidden,
        /// No such site.
        NotFound,
        /// The upload, or what a zip or gzip unpacks to, is larger than the limit.
        TooLarge(413, Json<ApiErrorBody>),
        /// The file is not a valid export, or some rows are bad; nothing was stored.
        Unprocessable(422, Json<ImportErrorBody>),
        Internal,
        /// Another import is running (one at a time); try again after `Retry-After` seconds.
        Busy(503, Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
    }
}

/// One import at a time per instance: each may hold its upload and what it unpacks to in memory.
static IMPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
/// What a refused concurrent import is told to wait.
const IMPORT_RETRY_AFTER_SECS: u64 = 10;

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

crate::api_part!(
    /// Exports and imports.
    TransferApi, LifecycleApi
);

#[OpenApi(tag = "ApiTags::Lifecycle")]
impl TransferApi {
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
        let (site, _) = crate::or_return!(site_for::<ImportResult>(&self.state, &auth, &site.0, Need::Manage).await);
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
}

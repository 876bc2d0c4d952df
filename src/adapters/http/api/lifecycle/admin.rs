//! Instance-wide calls: backups and retention (instance administrators).

#![allow(unused_imports)]

use super::*;

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

crate::api_answers! {
    pub enum BackupResult {
        /// Written.
        Created(201, Json<BackupView>),
        /// Invalid target.
        BadRequest,
        Unauthorized, Forbidden,
        /// Unused (admin calls name no site).
        NotFound,
        /// The target already holds a backup.
        Conflict,
        Internal,
    }
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
    /// AI crawler tally rows (crawler, page, day) of the days before the cutoff.
    pub deleted_crawler_rows: u64,
    /// Parquet files written or extended.
    pub archives: Vec<String>,
}

crate::api_answers! {
    pub enum RetentionResult {
        /// Sites with a retention period and what was deleted.
        Ok(200, Json<Vec<RetentionView>>),
        /// Invalid time.
        BadRequest,
        Unauthorized, Forbidden,
        /// Unused.
        NotFound,
        Internal,
    }
}

/// Instance-wide calls (backups, retention): instance administrators and the operator token.
async fn admin<R: ErrorAnswers>(state: &AppState, auth: &Auth) -> Result<(), R> {
    let caller = who::<R>(state, auth).await?;
    instance_admin(&caller.principal).map_err(|d| R::denied(d, ""))
}

crate::api_part!(
    /// Backups and retention.
    AdminApi, LifecycleApi
);

#[OpenApi(tag = "ApiTags::Lifecycle")]
impl AdminApi {
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
                        deleted_crawler_rows: r.outcome.deleted_crawler_rows,
                        archives: r.outcome.archives.iter().map(|p| p.display().to_string()).collect(),
                    })
                    .collect(),
            )),
            Err(e) => RetentionResult::internal(e.to_string()),
        }
    }
}

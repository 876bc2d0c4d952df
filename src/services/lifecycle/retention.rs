//! Retention: deleting (and optionally archiving) events older than each site keeps, and
//! pruning the audit log. The daily job, `POST /api/admin/retention` and `hitkeep retention`
//! all run [`RetentionService::apply`].

use std::path::PathBuf;
use std::sync::Arc;

use crate::domain::lifecycle::retention_cutoff;
use crate::domain::site::Site;
use crate::ports::clock::Clock;
use crate::ports::retention::{DataLifecycle, RetentionOutcome};
use crate::ports::sites::{SiteRepoError, SiteRepository};
use crate::ports::store::StoreError;
use crate::services::accounts::AccountService;

/// Why retention did not run.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error(transparent)]
    Sites(#[from] SiteRepoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One site's retention run.
#[derive(Debug, Clone)]
pub struct RetentionRun {
    pub site: Site,
    pub cutoff: i64,
    pub outcome: RetentionOutcome,
}

/// See the module documentation.
pub struct RetentionService {
    sites: Arc<dyn SiteRepository>,
    store: Arc<dyn DataLifecycle>,
    /// Where deleted events are archived first; `None`: archiving is off.
    archive_dir: Option<PathBuf>,
    clock: Arc<dyn Clock>,
}

impl RetentionService {
    pub fn new(
        sites: Arc<dyn SiteRepository>,
        store: Arc<dyn DataLifecycle>,
        archive_dir: Option<PathBuf>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { sites, store, archive_dir, clock }
    }

    /// Applies every site's retention period now.
    pub fn apply_now(&self) -> Result<Vec<RetentionRun>, RetentionError> {
        self.apply(self.clock.now_micros())
    }

    /// Applies every site's retention period at `now` (sites keeping data forever are skipped).
    pub fn apply(&self, now_micros: i64) -> Result<Vec<RetentionRun>, RetentionError> {
        let mut runs = Vec::new();
        for site in self.sites.list()? {
            let Some(cutoff) = retention_cutoff(&site, now_micros) else { continue };
            let outcome = self.store.apply_retention(&site, cutoff, self.archive_dir.as_deref())?;
            runs.push(RetentionRun { site, cutoff, outcome });
        }
        Ok(runs)
    }

    /// The daily run: prunes the audit log to `audit_days` (0: forever), applies retention and
    /// logs what went.
    pub fn daily(&self, accounts: &AccountService, audit_days: u32) {
        match accounts.prune_audit(audit_days) {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "pruned the audit log"),
            Err(e) => tracing::error!(error = %e, "audit log pruning failed"),
        }
        match self.apply_now() {
            Ok(runs) => {
                let deleted = |o: &crate::ports::retention::RetentionOutcome| {
                    o.deleted_events + o.deleted_vitals + o.deleted_crawler_rows
                };
                for r in runs.iter().filter(|r| deleted(&r.outcome) > 0) {
                    tracing::info!(site = %r.site.domain, events = r.outcome.deleted_events,
                        vitals = r.outcome.deleted_vitals, crawler_rows = r.outcome.deleted_crawler_rows,
                        archives = r.outcome.archives.len(),
                        "retention deleted old data");
                }
            }
            Err(RetentionError::Sites(e)) => tracing::error!(error = %e, "retention: cannot list sites"),
            Err(e) => tracing::error!(error = %e, "retention failed"),
        }
    }
}

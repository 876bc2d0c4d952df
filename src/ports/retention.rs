//! Retention with archiving, raw exports and backups of the event store.

use std::path::{Path, PathBuf};

use crate::domain::lifecycle::DateSpan;
use crate::domain::site::Site;
use crate::ports::store::StoreResult;

/// What one retention run did for a site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionOutcome {
    pub deleted_events: u64,
    pub deleted_vitals: u64,
    /// AI crawler tallies (crawler, page and day rows) of days before the cutoff's local day.
    pub deleted_crawler_rows: u64,
    /// Parquet files written or extended.
    pub archives: Vec<PathBuf>,
}

/// Raw export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Parquet,
    Ndjson,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "parquet" => Some(Self::Parquet),
            "ndjson" | "jsonl" | "json" => Some(Self::Ndjson),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Parquet => "parquet",
            Self::Ndjson => "ndjson",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Parquet => "application/vnd.apache.parquet",
            Self::Ndjson => "application/x-ndjson",
        }
    }
}

/// A finished backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupOutcome {
    /// The snapshot's database file.
    pub file: PathBuf,
    pub bytes: u64,
}

/// Retention, exports and backups on the event store.
pub trait DataLifecycle: Send + Sync {
    /// Deletes the site's events and vitals before `cutoff_micros`, archiving them first to
    /// `archive_dir/<domain>/<YYYY-MM>.parquet` when given.
    fn apply_retention(
        &self,
        site: &Site,
        cutoff_micros: i64,
        archive_dir: Option<&Path>,
    ) -> StoreResult<RetentionOutcome>;
    /// Writes the site's raw events in `span` to `file`; returns the row count.
    fn export(&self, site_id: u32, span: &DateSpan, format: ExportFormat, file: &Path) -> StoreResult<u64>;
    /// Events of the site in `span` (for progress and empty-export answers).
    fn count_events(&self, site_id: u32, span: &DateSpan) -> StoreResult<u64>;
    /// A consistent snapshot of the whole database into `dir` (created; must not hold one).
    fn backup(&self, dir: &Path) -> StoreResult<BackupOutcome>;
}

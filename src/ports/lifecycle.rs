//! Data lifecycle capabilities: retention with archiving, exports, backups, imported history,
//! report subscriptions and mail delivery.

use std::path::{Path, PathBuf};

use crate::domain::imports::merge::{ImportGrouping, TotalsRow};
use crate::domain::imports::{ImportBatch, ImportSource};
use crate::domain::lifecycle::{DateSpan, Frequency};
use crate::domain::query::Period;
use crate::domain::site::Site;
use crate::ports::store::StoreError;

/// What one retention run did for a site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionOutcome {
    pub deleted_events: u64,
    pub deleted_vitals: u64,
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
    ) -> Result<RetentionOutcome, StoreError>;
    /// Writes the site's raw events in `span` to `file`; returns the row count.
    fn export(&self, site_id: u32, span: &DateSpan, format: ExportFormat, file: &Path) -> Result<u64, StoreError>;
    /// Events of the site in `span` (for progress and empty-export answers).
    fn count_events(&self, site_id: u32, span: &DateSpan) -> Result<u64, StoreError>;
    /// A consistent snapshot of the whole database into `dir` (created; must not hold one).
    fn backup(&self, dir: &Path) -> Result<BackupOutcome, StoreError>;
}

/// Imported history, apart from native events.
pub trait ImportStore: Send + Sync {
    /// Stores a parsed import in one transaction, replacing imported data of the days from its
    /// first to its last date; returns its id.
    fn save_import(&self, site_id: u32, source: ImportSource, batch: &ImportBatch) -> Result<u32, StoreError>;
    /// Imported totals per group over `period`, on days without native events only.
    fn imported_totals(
        &self,
        site_id: u32,
        grouping: ImportGrouping,
        period: &Period,
    ) -> Result<Vec<TotalsRow>, StoreError>;
}

/// One e-mail report subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub site_id: u32,
    pub email: String,
    pub frequency: Frequency,
    /// The last period sent (`2026-W47`, `2026-11`).
    pub last_period: Option<String>,
}

/// Who gets which report.
pub trait SubscriptionStore: Send + Sync {
    fn subscriptions(&self, site_id: Option<u32>) -> Result<Vec<Subscription>, StoreError>;
    /// `false` when it already existed.
    fn subscribe(&self, site_id: u32, email: &str, frequency: Frequency) -> Result<bool, StoreError>;
    /// `false` when there was none.
    fn unsubscribe(&self, site_id: u32, email: &str, frequency: Frequency) -> Result<bool, StoreError>;
    fn mark_sent(&self, site_id: u32, email: &str, frequency: Frequency, period: &str) -> Result<(), StoreError>;
}

/// A composed mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a mail was not sent.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MailError {
    #[error("mail is not configured: {0}")]
    NotConfigured(String),
    #[error("invalid address: {0}")]
    Address(String),
    #[error("SMTP delivery failed: {0}")]
    Delivery(String),
}

/// Sends mail.
pub trait Mailer: Send + Sync {
    fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

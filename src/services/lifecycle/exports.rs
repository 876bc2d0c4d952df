//! Raw exports of a site's events for a date range in the site's time zone.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::domain::lifecycle::{DateSpan, date_span, site_tz};
use crate::domain::site::Site;
use crate::ports::retention::{DataLifecycle, ExportFormat};
use crate::ports::store::StoreError;

/// Why an export was not written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("format must be csv, parquet or ndjson")]
    InvalidFormat,
    #[error("{0}")]
    InvalidRange(String),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// All of time, for exports without a range.
pub const ALL_TIME: DateSpan = DateSpan {
    from: chrono::NaiveDate::MIN,
    to: chrono::NaiveDate::MAX,
    start_micros: -4_000_000_000_000_000_000,
    end_micros: 4_000_000_000_000_000_000,
};

/// See the module documentation.
pub struct ExportService {
    store: Arc<dyn DataLifecycle>,
    /// Where files are staged before they are streamed.
    tmp_dir: PathBuf,
}

impl ExportService {
    pub fn new(store: Arc<dyn DataLifecycle>, tmp_dir: PathBuf) -> Self {
        Self { store, tmp_dir }
    }

    /// The format a caller names (`None`: NDJSON).
    pub fn format(name: Option<&str>) -> Result<ExportFormat, ExportError> {
        name.map_or(Some(ExportFormat::Ndjson), ExportFormat::parse).ok_or(ExportError::InvalidFormat)
    }

    /// The days `from`..=`to` in the site's time zone.
    pub fn span(site: &Site, from: &str, to: &str) -> Result<DateSpan, ExportError> {
        date_span(site_tz(site), from, to).map_err(|e| ExportError::InvalidRange(e.0))
    }

    /// Events of the site in `span`.
    pub fn count(&self, site: &Site, span: &DateSpan) -> Result<u64, ExportError> {
        Ok(self.store.count_events(site.id.0, span)?)
    }

    /// Writes the export to `file`; returns the row count.
    pub fn write(&self, site: &Site, span: &DateSpan, format: ExportFormat, file: &Path) -> Result<u64, ExportError> {
        Ok(self.store.export(site.id.0, span, format, file)?)
    }

    /// Writes the export to a new file in the staging directory; the caller streams and removes
    /// it (a failed export leaves no file behind).
    pub fn stage(&self, site: &Site, span: &DateSpan, format: ExportFormat) -> Result<PathBuf, ExportError> {
        std::fs::create_dir_all(&self.tmp_dir).map_err(|e| ExportError::Io(e.to_string()))?;
        let file = self.tmp_dir.join(format!("export-{}.{}", rand::random::<u64>(), format.extension()));
        match self.write(site, span, format, &file) {
            Ok(_) => Ok(file),
            Err(e) => {
                let _ = std::fs::remove_file(&file);
                Err(e)
            }
        }
    }
}

//! Imports of history exported from other analytics tools.

use std::sync::Arc;

use crate::domain::imports::{ImportBatch, ImportError, ImportSource, parse_files};
use crate::domain::lifecycle::site_tz;
use crate::domain::site::Site;
use crate::ports::imports::{ImportStore, Unpacker};
use crate::ports::store::{StoreError, StoreResult};

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportServiceError {
    /// The file could not be read, or rows are bad.
    #[error(transparent)]
    Refused(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// See the module documentation.
pub struct ImportService {
    store: Arc<dyn ImportStore>,
    unpacker: Arc<dyn Unpacker>,
}

impl ImportService {
    pub fn new(store: Arc<dyn ImportStore>, unpacker: Arc<dyn Unpacker>) -> Self {
        Self { store, unpacker }
    }

    /// Parses an upload named `name` (a zip, gzip or CSV) for `site`, unpacking at most
    /// `max_unpacked` bytes.
    pub fn parse(
        &self,
        site: &Site,
        source: ImportSource,
        bytes: &[u8],
        name: &str,
        max_unpacked: u64,
        progress: impl FnOnce(usize),
    ) -> Result<ImportBatch, ImportError> {
        let files = self.unpacker.unpack(bytes, name, max_unpacked)?;
        progress(files.len());
        parse_files(source, &files, site_tz(site))
    }

    /// Stores a parsed import; returns its id.
    pub fn save(&self, site: &Site, source: ImportSource, batch: &ImportBatch) -> StoreResult<u32> {
        self.store.save_import(site.id.0, source, batch)
    }

    /// Parses and, unless `dry_run`, stores an upload; the id is `None` for a dry run.
    pub fn import(
        &self,
        site: &Site,
        source: ImportSource,
        bytes: &[u8],
        max_unpacked: u64,
        dry_run: bool,
    ) -> Result<(ImportBatch, Option<u32>), ImportServiceError> {
        let batch = self.parse(site, source, bytes, "upload.csv", max_unpacked, |_| {})?;
        if dry_run {
            return Ok((batch, None));
        }
        let id = self.save(site, source, &batch)?;
        Ok((batch, Some(id)))
    }
}

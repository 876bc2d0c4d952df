//! Imported history (from Plausible, Umami, GoatCounter), kept apart from native events.

use crate::domain::imports::merge::{ImportGrouping, TotalsRow};
use crate::domain::imports::{ImportBatch, ImportError, ImportSource};
use crate::domain::query::Period;
use crate::ports::store::StoreResult;

/// Imported history, apart from native events.
pub trait ImportStore: Send + Sync {
    /// Stores a parsed import in one transaction, replacing imported data of the days from its
    /// first to its last date; returns its id.
    fn save_import(&self, site_id: u32, source: ImportSource, batch: &ImportBatch) -> StoreResult<u32>;
    /// Imported totals per group over `period`, on days without native events only.
    fn imported_totals(&self, site_id: u32, grouping: ImportGrouping, period: &Period) -> StoreResult<Vec<TotalsRow>>;
}

/// Opens an uploaded export (a zip, a gzip or plain CSV) into its files, unpacking at most
/// `max_unpacked` bytes.
pub trait Unpacker: Send + Sync {
    fn unpack(&self, bytes: &[u8], name: &str, max_unpacked: u64) -> Result<Vec<(String, Vec<u8>)>, ImportError>;
}

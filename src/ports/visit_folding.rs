//! Folding closed visits into one compact row each, which reports read instead of grouping the
//! visits' raw events (exit pages), and closed days into one row of totals each, which reports
//! add up instead of scanning a long period's events (KPIs). Run by a background job, never by
//! the writer.

use super::store::StoreError;

/// What one fold folded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FoldOutcome {
    pub visits: u64,
    pub events: u64,
    /// Site-days summed up.
    pub days: u64,
}

/// A store keeping one row per closed visit.
pub trait VisitFolding: Send + Sync {
    /// Folds every visit closed at `now_micros` that is not folded yet, and sums up every closed
    /// day that has no totals yet.
    fn fold_closed_visits(&self, now_micros: i64) -> Result<FoldOutcome, StoreError>;
}

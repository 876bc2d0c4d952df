//! Alert settings, raised alerts, and the traffic figures alerts and goal batches read.

use crate::domain::alerts::{Alert, AlertKind, AlertSettings};
use crate::domain::query::Goal;
use crate::ports::store::StoreResult;

/// A raised alert as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RaisedAlert {
    pub alert: Alert,
    pub raised_at: i64,
}

/// Per-site alert settings and the alerts raised.
pub trait AlertStore: Send + Sync {
    /// A site's settings; `None` when never saved (the defaults apply).
    fn settings(&self, site_id: u32) -> StoreResult<Option<AlertSettings>>;
    fn save_settings(&self, site_id: u32, settings: &AlertSettings) -> StoreResult<()>;
    fn record_alert(&self, alert: &Alert, raised_at: i64) -> StoreResult<()>;
    /// When an alert of `kind` was last raised for the site.
    fn last_raised(&self, site_id: u32, kind: AlertKind) -> StoreResult<Option<i64>>;
    /// The newest alerts of a site, newest first.
    fn alerts(&self, site_id: u32, limit: usize) -> StoreResult<Vec<RaisedAlert>>;
}

/// Recent traffic of a site, for alerts and goal batches.
pub trait TrafficSignals: Send + Sync {
    /// Pageviews in each `[from, to)` window (microseconds), in order.
    fn pageviews(&self, site_id: u32, windows: &[(i64, i64)]) -> StoreResult<Vec<u64>>;
    /// Conversions per goal in `[from, to)`: (goal id, count), goals without any left out.
    fn conversions(&self, site_id: u32, goals: &[Goal], from: i64, to: i64) -> StoreResult<Vec<(u32, u64)>>;
    /// The site's first stored event at or after `since` (microseconds); bounded so the scan
    /// prunes to recent data.
    fn first_event(&self, site_id: u32, since: i64) -> StoreResult<Option<i64>>;
}

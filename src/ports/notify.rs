//! Telling interested parties that new data landed.

/// Called by the writer after each stored batch, with the sites it touched.
pub trait BatchObserver: Send + Sync {
    fn stored(&self, site_ids: &[u32]);
}

/// Nobody listens.
pub struct NoObserver;

impl BatchObserver for NoObserver {
    fn stored(&self, _: &[u32]) {}
}

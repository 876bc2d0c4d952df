//! Telling interested parties that new data landed.

/// Called by the writer after each stored batch, with the sites it touched.
pub trait BatchObserver: Send + Sync {
    fn stored(&self, site_ids: &[u32]);
}

/// Two listeners, told in order.
pub struct BothObservers(pub std::sync::Arc<dyn BatchObserver>, pub std::sync::Arc<dyn BatchObserver>);

impl BatchObserver for BothObservers {
    fn stored(&self, site_ids: &[u32]) {
        self.0.stored(site_ids);
        self.1.stored(site_ids);
    }
}

/// Nobody listens.
pub struct NoObserver;

impl BatchObserver for NoObserver {
    fn stored(&self, _: &[u32]) {}
}

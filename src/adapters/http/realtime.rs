//! Fan-out of "new data for site N" from the writer thread to server-sent-event subscribers.

use tokio::sync::broadcast;

use crate::ports::notify::BatchObserver;

/// A broadcast channel of site ids; lagging subscribers just miss some wake-ups.
pub struct Broadcaster {
    tx: broadcast::Sender<u32>,
}

impl Default for Broadcaster {
    fn default() -> Self {
        Self { tx: broadcast::channel(1024).0 }
    }
}

impl Broadcaster {
    pub fn subscribe(&self) -> broadcast::Receiver<u32> {
        self.tx.subscribe()
    }
}

impl BatchObserver for Broadcaster {
    fn stored(&self, site_ids: &[u32]) {
        for id in site_ids {
            // No receivers is fine.
            let _ = self.tx.send(*id);
        }
    }
}

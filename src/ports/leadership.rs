//! Who writes: exactly one node owns the database file.

/// The current leader as seen from this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderInfo {
    pub node_id: u64,
    /// Base URL other nodes forward to.
    pub url: Option<String>,
    /// Raft term, the fencing token for writes.
    pub term: u64,
}

/// Leadership of the cluster (a single node is always its own leader).
pub trait Leadership: Send + Sync {
    fn node_id(&self) -> u64;
    fn is_leader(&self) -> bool;
    fn leader(&self) -> Option<LeaderInfo>;
}

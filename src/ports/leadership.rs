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
    /// The latest term this node knows.
    fn term(&self) -> u64 {
        self.leader().map_or(0, |l| l.term)
    }
    /// `leader`, `follower`, `candidate`, ...
    fn role(&self) -> &'static str {
        if self.is_leader() { "leader" } else { "follower" }
    }
}

/// Asked by the writer before each batch commit: a node deposed since the writer started
/// (a newer term, or no longer leader) must not write.
pub trait WriteFence: Send + Sync {
    fn may_write(&self) -> bool;
}

/// The fence of a node that is always the leader.
pub struct NoFence;

impl WriteFence for NoFence {
    fn may_write(&self) -> bool {
        true
    }
}

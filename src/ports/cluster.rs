//! What the cluster looks like, for the status API and operators.

/// One node as the answering node sees it; nodes exchange it as JSON over `/_cluster/status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeStatus {
    pub node_id: u64,
    /// Base URL the node advertises (none for a single node).
    pub url: Option<String>,
    /// `leader`, `follower`, `candidate`, `learner`, `shutdown` or `unreachable`.
    pub role: String,
    pub term: u64,
    /// The leader this node knows of.
    pub leader_id: Option<u64>,
    /// The node holds the database file open (only the leader does).
    pub database_open: bool,
    /// Hits this node acknowledged and still has to hand to the leader.
    pub forward_queue_depth: u64,
    /// Records waiting for this node's writer (leader only).
    pub ingest_queue_depth: u64,
}

/// The cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterStatus {
    /// `single` (no cluster flags) or `raft`.
    pub mode: String,
    /// The node answering.
    pub node_id: u64,
    pub leader_id: Option<u64>,
    pub term: u64,
    pub nodes: Vec<NodeStatus>,
}

/// Collects the cluster status (may ask the other nodes).
#[async_trait::async_trait]
pub trait ClusterStatusSource: Send + Sync {
    async fn status(&self) -> ClusterStatus;
}

/// Why an inbound consensus message was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConsensusError {
    #[error("no such consensus message: {0}")]
    Unknown(String),
    #[error("malformed consensus message: {0}")]
    Malformed(String),
}

/// Consensus messages from other nodes, arriving over the HTTP edge as JSON.
#[async_trait::async_trait]
pub trait ConsensusInbox: Send + Sync {
    /// Handles message `kind` (`append`, `vote`, `snapshot`) and returns the JSON answer.
    async fn handle(&self, kind: &str, body: &[u8]) -> Result<Vec<u8>, ConsensusError>;
}

/// Header carrying the shared cluster secret on every internal route (`/_cluster/*`).
pub const CLUSTER_SECRET_HEADER: &str = "x-hitkeep-cluster-secret";

/// Header on `/api` calls a follower passes to the leader: the client's address as the follower
/// determined it (believed only together with the cluster secret).
pub const CLIENT_IP_HEADER: &str = "x-hitkeep-client-ip";

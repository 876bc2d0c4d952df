//! `GET /api/cluster`: the nodes, the leader, the term and the queue depths.

use std::sync::Arc;

use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use crate::adapters::http::AppState;
use crate::adapters::http::auth::Auth;
use crate::adapters::http::guard::{ErrorAnswers, who};
use crate::domain::accounts::instance_admin;
use crate::ports::cluster::NodeStatus;

/// One node of the cluster.
#[derive(Object)]
pub struct ClusterNode {
    pub node_id: u64,
    /// The base URL the node advertises (none for a single node).
    #[oai(nullable)]
    pub url: Option<String>,
    /// `leader`, `follower`, `candidate`, `learner`, `shutdown` or `unreachable`.
    pub role: String,
    /// The latest Raft term the node knows.
    pub term: u64,
    /// The leader the node knows of.
    #[oai(nullable)]
    pub leader_id: Option<u64>,
    /// The node holds the database open (only the leader does).
    pub database_open: bool,
    /// Hits the node acknowledged and still has to hand to the leader.
    pub forward_queue_depth: u64,
    /// Records waiting for the node's writer (leader only).
    pub ingest_queue_depth: u64,
}

/// The cluster as the leader sees it.
#[derive(Object)]
pub struct ClusterState {
    /// `single` (one node, no cluster flags) or `raft`.
    pub mode: String,
    /// The node that answered (the leader: followers pass `/api` calls to it).
    pub node_id: u64,
    #[oai(nullable)]
    pub leader_id: Option<u64>,
    pub term: u64,
    pub nodes: Vec<ClusterNode>,
}

impl From<NodeStatus> for ClusterNode {
    fn from(n: NodeStatus) -> Self {
        Self {
            node_id: n.node_id,
            url: n.url,
            role: n.role,
            term: n.term,
            leader_id: n.leader_id,
            database_open: n.database_open,
            forward_queue_depth: n.forward_queue_depth,
            ingest_queue_depth: n.ingest_queue_depth,
        }
    }
}

/// The cluster, for instance administrators and the operator token.
pub type ClusterResponse = crate::adapters::http::answers::Read<ClusterState>;

/// Cluster endpoints.
pub struct ClusterApi {
    pub state: Arc<AppState>,
}

#[OpenApi(tag = "ApiTags::Cluster")]
impl ClusterApi {
    /// The nodes serving this installation, which one leads (holds the database), the Raft term
    /// and each node's queue depths.
    #[oai(path = "/cluster", method = "get", operation_id = "getCluster")]
    async fn cluster(&self, auth: Auth) -> ClusterResponse {
        // The one access check of this operation: instance administration.
        let caller = crate::or_return!(who::<ClusterResponse>(&self.state, &auth).await);
        if let Err(d) = instance_admin(&caller.principal) {
            return ClusterResponse::denied(d, "not found");
        }
        let mut status = self.state.cluster.status().await;
        // The answering node knows its own writer queue exactly.
        let depth = self.state.ingest.queue_depth() as u64;
        for node in status.nodes.iter_mut().filter(|n| n.node_id == status.node_id) {
            node.ingest_queue_depth = depth;
        }
        ClusterResponse::Ok(Json(ClusterState {
            mode: status.mode,
            node_id: status.node_id,
            leader_id: status.leader_id,
            term: status.term,
            nodes: status.nodes.into_iter().map(ClusterNode::from).collect(),
        }))
    }
}

//! Leadership adapters. Without cluster flags the node is its own leader.

use crate::ports::cluster::{ClusterStatus, ClusterStatusSource, NodeStatus};
use crate::ports::leadership::{LeaderInfo, Leadership};

/// A lone node: always the leader, term 1.
pub struct SingleNode;

impl Leadership for SingleNode {
    fn node_id(&self) -> u64 {
        1
    }

    fn is_leader(&self) -> bool {
        true
    }

    fn leader(&self) -> Option<LeaderInfo> {
        Some(LeaderInfo { node_id: 1, url: None, term: 1 })
    }
}

pub mod raft;

/// The status of a lone node: itself, leader of term 1, database open.
pub struct SingleNodeStatus;

#[async_trait::async_trait]
impl ClusterStatusSource for SingleNodeStatus {
    async fn status(&self) -> ClusterStatus {
        ClusterStatus {
            mode: "single".into(),
            node_id: 1,
            leader_id: Some(1),
            term: 1,
            nodes: vec![NodeStatus {
                node_id: 1,
                url: None,
                role: "leader".into(),
                term: 1,
                leader_id: Some(1),
                database_open: true,
                forward_queue_depth: 0,
                ingest_queue_depth: 0,
            }],
        }
    }
}

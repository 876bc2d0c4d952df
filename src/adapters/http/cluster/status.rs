//! The cluster's status: this node's view, and the whole cluster's as the answering node
//! collects it from the others over `/_cluster/status`.

use std::sync::Weak;
use std::time::Duration;

use super::ClusterGate;
use crate::ports::cluster::{CLUSTER_SECRET_HEADER, ClusterStatus, ClusterStatusSource, NodeStatus};

/// How long to wait for a peer's status before calling it unreachable.
const PEER_TIMEOUT: Duration = Duration::from_millis(800);

/// This node as it sees itself.
pub fn local(gate: &ClusterGate) -> NodeStatus {
    NodeStatus {
        node_id: gate.node_id,
        url: gate.members.get(&gate.node_id).cloned(),
        role: gate.leadership.role().into(),
        term: gate.leadership.term(),
        leader_id: gate.leadership.leader().map(|l| l.node_id),
        database_open: gate.engine().is_some(),
        forward_queue_depth: gate.forward.len() as u64,
        ingest_queue_depth: gate.ingest_queue_depth() as u64,
    }
}

/// Collects every member's status; a member that does not answer is listed as unreachable.
pub struct ClusterView {
    /// Weak: the gate owns the engine whose API holds this view.
    pub gate: Weak<ClusterGate>,
}

#[async_trait::async_trait]
impl ClusterStatusSource for ClusterView {
    async fn status(&self) -> ClusterStatus {
        let Some(gate) = self.gate.upgrade() else {
            return ClusterStatus { mode: "raft".into(), node_id: 0, leader_id: None, term: 0, nodes: vec![] };
        };
        let peers = gate.members.iter().filter(|(id, _)| **id != gate.node_id).map(|(id, url)| {
            let (gate, id, url) = (gate.clone(), *id, url.clone());
            async move {
                let fetched = async {
                    let resp = gate
                        .client
                        .get(format!("{}/_cluster/status", url.trim_end_matches('/')))
                        .header(CLUSTER_SECRET_HEADER, &*gate.secret_text)
                        .timeout(PEER_TIMEOUT)
                        .send()
                        .await
                        .ok()?;
                    resp.json::<NodeStatus>().await.ok()
                }
                .await;
                fetched.unwrap_or(NodeStatus {
                    node_id: id,
                    url: Some(url),
                    role: "unreachable".into(),
                    term: 0,
                    leader_id: None,
                    database_open: false,
                    forward_queue_depth: 0,
                    ingest_queue_depth: 0,
                })
            }
        });
        let mut nodes = futures_util::future::join_all(peers).await;
        nodes.push(local(&gate));
        nodes.sort_by_key(|n| n.node_id);
        ClusterStatus {
            mode: "raft".into(),
            node_id: gate.node_id,
            leader_id: gate.leadership.leader().map(|l| l.node_id),
            term: gate.leadership.term(),
            nodes,
        }
    }
}

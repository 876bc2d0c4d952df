//! Leadership on openraft 0.9: the Raft log carries no application data, only membership and the
//! blank entries of new leaders. The node that Raft elects owns the database; its term fences
//! the writes of a node that was deposed.

mod network;
mod store;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{InitializeError, RaftError};
use openraft::{BasicNode, Config, Raft, RaftMetrics, ServerState};
use tokio::sync::watch;

use network::HttpNetwork;
use store::{FileLogStore, MembershipMachine};

use crate::ports::cluster::{ConsensusError, ConsensusInbox};
use crate::ports::leadership::{LeaderInfo, Leadership, WriteFence};

openraft::declare_raft_types!(
    /// Leadership only: entries carry no data and apply to nothing.
    pub TypeConfig:
        D = (),
        R = (),
);

/// How this node joins the cluster.
#[derive(Debug, Clone)]
pub struct RaftSettings {
    pub node_id: u64,
    /// Every member's base URL by node id, this node included.
    pub peers: BTreeMap<u64, String>,
    pub secret: String,
    /// Where this node keeps its vote and log, e.g. `DATA/raft/node-1`.
    pub dir: PathBuf,
    pub heartbeat: Duration,
    pub election_min: Duration,
    pub election_max: Duration,
}

/// Why the Raft node could not start.
#[derive(Debug, thiserror::Error)]
pub enum RaftStartError {
    #[error("raft configuration: {0}")]
    Config(String),
    #[error("raft storage in {dir}: {cause}")]
    Storage { dir: String, cause: String },
    #[error("raft: {0}")]
    Raft(String),
}

/// A running Raft member answering "am I the leader? who is?".
pub struct RaftLeadership {
    id: u64,
    raft: Raft<TypeConfig>,
    peers: Arc<BTreeMap<u64, String>>,
    metrics: watch::Receiver<RaftMetrics<u64, BasicNode>>,
}

/// Wakes the caller whenever role, leader or term may have changed.
pub struct RoleChanges(watch::Receiver<RaftMetrics<u64, BasicNode>>);

impl RoleChanges {
    /// Waits for the next change; false once the Raft node has stopped.
    pub async fn changed(&mut self) -> bool {
        self.0.changed().await.is_ok()
    }
}

impl RaftLeadership {
    /// Starts the Raft node; the member with the lowest id initializes a brand-new cluster
    /// (a repeat after a restart is refused by openraft and ignored), the others wait for it.
    pub async fn start(settings: RaftSettings, client: reqwest::Client) -> Result<Self, RaftStartError> {
        let config = Config {
            cluster_name: "hitkeep".into(),
            heartbeat_interval: settings.heartbeat.as_millis() as u64,
            election_timeout_min: settings.election_min.as_millis() as u64,
            election_timeout_max: settings.election_max.as_millis() as u64,
            ..Default::default()
        }
        .validate()
        .map_err(|e| RaftStartError::Config(e.to_string()))?;
        let log = FileLogStore::open(&settings.dir)
            .map_err(|e| RaftStartError::Storage { dir: settings.dir.display().to_string(), cause: e.to_string() })?;
        let peers = Arc::new(settings.peers.clone());
        let network = HttpNetwork { client, peers: peers.clone(), secret: settings.secret.clone().into() };
        let raft = Raft::new(settings.node_id, Arc::new(config), network, log, MembershipMachine::default())
            .await
            .map_err(|e| RaftStartError::Raft(e.to_string()))?;
        if settings.peers.keys().next() == Some(&settings.node_id) {
            let members: BTreeMap<u64, BasicNode> =
                settings.peers.iter().map(|(id, url)| (*id, BasicNode { addr: url.clone() })).collect();
            match raft.initialize(members).await {
                Ok(()) => tracing::info!(node = settings.node_id, "initialized a new cluster"),
                Err(RaftError::APIError(InitializeError::NotAllowed(_))) => {
                    tracing::debug!("cluster already initialized")
                }
                Err(e) => return Err(RaftStartError::Raft(e.to_string())),
            }
        }
        let metrics = raft.metrics();
        Ok(Self { id: settings.node_id, raft, peers, metrics })
    }

    /// Role changes, for the controller that opens and closes the database.
    pub fn changes(&self) -> RoleChanges {
        RoleChanges(self.raft.metrics())
    }

    /// Every member's id and URL.
    pub fn members(&self) -> Arc<BTreeMap<u64, String>> {
        self.peers.clone()
    }

    /// Confirms with a quorum that this node still leads (before opening the database).
    pub async fn confirm_leadership(&self) -> bool {
        self.raft.ensure_linearizable().await.is_ok()
    }

    /// A fence for a writer started now: valid while this node leads in the current term.
    pub fn fence(&self) -> RaftFence {
        RaftFence { term: Leadership::term(self), metrics: self.metrics.clone() }
    }

    /// Leaves the cluster's elections (on shutdown, after the database is closed).
    pub async fn shutdown(&self) {
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!(error = %e, "raft shutdown");
        }
    }
}

#[async_trait::async_trait]
impl ConsensusInbox for RaftLeadership {
    /// Answers an inbound Raft RPC (`append`, `vote` or `snapshot`) given as JSON.
    async fn handle(&self, rpc: &str, body: &[u8]) -> Result<Vec<u8>, ConsensusError> {
        let bad = |e: serde_json::Error| ConsensusError::Malformed(e.to_string());
        let out = match rpc {
            "append" => serde_json::to_vec(&self.raft.append_entries(serde_json::from_slice(body).map_err(bad)?).await),
            "vote" => serde_json::to_vec(&self.raft.vote(serde_json::from_slice(body).map_err(bad)?).await),
            "snapshot" => {
                serde_json::to_vec(&self.raft.install_snapshot(serde_json::from_slice(body).map_err(bad)?).await)
            }
            other => return Err(ConsensusError::Unknown(other.to_string())),
        };
        out.map_err(|e| ConsensusError::Malformed(e.to_string()))
    }
}

impl Leadership for RaftLeadership {
    fn node_id(&self) -> u64 {
        self.id
    }

    fn is_leader(&self) -> bool {
        let m = self.metrics.borrow();
        m.state == ServerState::Leader && m.current_leader == Some(self.id)
    }

    fn leader(&self) -> Option<LeaderInfo> {
        let m = self.metrics.borrow();
        let id = m.current_leader?;
        Some(LeaderInfo { node_id: id, url: self.peers.get(&id).cloned(), term: m.current_term })
    }

    fn term(&self) -> u64 {
        self.metrics.borrow().current_term
    }

    fn role(&self) -> &'static str {
        match self.metrics.borrow().state {
            ServerState::Leader => "leader",
            ServerState::Follower => "follower",
            ServerState::Candidate => "candidate",
            ServerState::Learner => "learner",
            ServerState::Shutdown => "shutdown",
        }
    }
}

/// The term a writer was started in; writes stop when this node leaves it.
pub struct RaftFence {
    pub term: u64,
    metrics: watch::Receiver<RaftMetrics<u64, BasicNode>>,
}

impl WriteFence for RaftFence {
    fn may_write(&self) -> bool {
        let m = self.metrics.borrow();
        m.state == ServerState::Leader && m.current_term == self.term
    }
}

//! Leadership adapters. Without cluster flags the node is its own leader.

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

//! Raft storage for a leadership-only cluster: the vote and the (tiny) log live in one JSON file
//! per node, rewritten atomically and fsynced on every change, and a trivial state machine that
//! only remembers the last applied entry and the membership.
//!
//! The log holds only membership changes and the blank entry each new leader appends, so it stays
//! a few entries long and rewriting it whole is cheaper and simpler than an append-only format.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io::{Cursor, Write};
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::{LogFlushed, RaftLogStorage, RaftStateMachine, Snapshot};
use openraft::{
    BasicNode, Entry, EntryPayload, LogId, LogState, RaftLogReader, RaftSnapshotBuilder, SnapshotMeta, StorageError,
    StorageIOError, StoredMembership, Vote,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::TypeConfig;

type NodeId = u64;

/// What is on disk.
#[derive(Serialize, Deserialize, Default)]
struct Persisted {
    vote: Option<Vote<NodeId>>,
    committed: Option<LogId<NodeId>>,
    last_purged: Option<LogId<NodeId>>,
    entries: Vec<Entry<TypeConfig>>,
}

struct LogInner {
    path: PathBuf,
    vote: Option<Vote<NodeId>>,
    committed: Option<LogId<NodeId>>,
    last_purged: Option<LogId<NodeId>>,
    log: BTreeMap<u64, Entry<TypeConfig>>,
}

/// The vote and log of one node, durable before openraft is told they are.
#[derive(Clone)]
pub struct FileLogStore {
    inner: Arc<Mutex<LogInner>>,
}

impl FileLogStore {
    /// Opens (or starts) the store in `dir`, e.g. `DATA/raft/node-1`.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("raft-state.json");
        let persisted: Persisted = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Persisted::default(),
            Err(e) => return Err(e),
        };
        let log = persisted.entries.into_iter().map(|e| (e.log_id.index, e)).collect();
        let inner = LogInner {
            path,
            vote: persisted.vote,
            committed: persisted.committed,
            last_purged: persisted.last_purged,
            log,
        };
        Ok(Self { inner: Arc::new(Mutex::new(inner)) })
    }
}

impl LogInner {
    /// Writes a temporary file, fsyncs it, renames it over the old one and fsyncs the folder:
    /// after a crash either the old or the new state is there, never half of one.
    fn save(&self) -> Result<(), std::io::Error> {
        let persisted = PersistedRef {
            vote: &self.vote,
            committed: &self.committed,
            last_purged: &self.last_purged,
            entries: self.log.values().collect(),
        };
        let bytes = serde_json::to_vec(&persisted).map_err(std::io::Error::other)?;
        let tmp = self.path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct PersistedRef<'a> {
    vote: &'a Option<Vote<NodeId>>,
    committed: &'a Option<LogId<NodeId>>,
    last_purged: &'a Option<LogId<NodeId>>,
    entries: Vec<&'a Entry<TypeConfig>>,
}

fn write_err(e: std::io::Error) -> StorageError<NodeId> {
    StorageIOError::write_logs(&e).into()
}

impl RaftLogReader<TypeConfig> for FileLogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        let inner = self.inner.lock().await;
        Ok(inner.log.range(range).map(|(_, e)| e.clone()).collect())
    }
}

impl RaftLogStorage<TypeConfig> for FileLogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let inner = self.inner.lock().await;
        let last = inner.log.values().next_back().map(|e| e.log_id).or(inner.last_purged);
        Ok(LogState { last_purged_log_id: inner.last_purged, last_log_id: last })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        let mut inner = self.inner.lock().await;
        inner.vote = Some(*vote);
        inner.save().map_err(|e| StorageIOError::write_vote(&e).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        Ok(self.inner.lock().await.vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId<NodeId>>) -> Result<(), StorageError<NodeId>> {
        let mut inner = self.inner.lock().await;
        inner.committed = committed;
        inner.save().map_err(write_err)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        Ok(self.inner.lock().await.committed)
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut inner = self.inner.lock().await;
        for entry in entries {
            inner.log.insert(entry.log_id.index, entry);
        }
        // Reported only after fsync: a node that forgot what it accepted could vote twice in a term.
        match inner.save() {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                callback.log_io_completed(Err(std::io::Error::new(e.kind(), e.to_string())));
                Err(write_err(e))
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let mut inner = self.inner.lock().await;
        inner.log.retain(|index, _| *index < log_id.index);
        inner.save().map_err(write_err)
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let mut inner = self.inner.lock().await;
        inner.last_purged = Some(log_id);
        inner.log.retain(|index, _| *index > log_id.index);
        inner.save().map_err(write_err)
    }
}

#[derive(Default)]
struct MachineInner {
    last_applied: Option<LogId<NodeId>>,
    membership: StoredMembership<NodeId, BasicNode>,
    snapshots: u64,
}

/// The state machine of a log without application data: it tracks what was applied and the
/// membership, which is all a snapshot has to carry. Rebuilt from the log after a restart.
#[derive(Clone, Default)]
pub struct MembershipMachine {
    inner: Arc<Mutex<MachineInner>>,
}

impl MembershipMachine {
    async fn snapshot(&self) -> Snapshot<TypeConfig> {
        let mut inner = self.inner.lock().await;
        inner.snapshots += 1;
        let snapshot_id = match inner.last_applied {
            Some(last) => format!("{}-{}-{}", last.leader_id, last.index, inner.snapshots),
            None => format!("--{}", inner.snapshots),
        };
        let meta =
            SnapshotMeta { last_log_id: inner.last_applied, last_membership: inner.membership.clone(), snapshot_id };
        Snapshot { meta, snapshot: Box::new(Cursor::new(Vec::new())) }
    }
}

impl RaftSnapshotBuilder<TypeConfig> for MembershipMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        Ok(self.snapshot().await)
    }
}

impl RaftStateMachine<TypeConfig> for MembershipMachine {
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<NodeId>>, StoredMembership<NodeId, BasicNode>), StorageError<NodeId>> {
        let inner = self.inner.lock().await;
        Ok((inner.last_applied, inner.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<()>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut inner = self.inner.lock().await;
        let mut out = Vec::new();
        for entry in entries {
            inner.last_applied = Some(entry.log_id);
            if let EntryPayload::Membership(m) = entry.payload {
                inner.membership = StoredMembership::new(Some(entry.log_id), m);
            }
            out.push(());
        }
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError<NodeId>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        _snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<NodeId>> {
        let mut inner = self.inner.lock().await;
        inner.last_applied = meta.last_log_id;
        inner.membership = meta.last_membership.clone();
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError<NodeId>> {
        if self.inner.lock().await.last_applied.is_none() {
            return Ok(None);
        }
        Ok(Some(self.snapshot().await))
    }
}

#[cfg(test)]
mod tests {
    use openraft::storage::RaftLogStorage;

    use super::*;

    #[tokio::test]
    async fn the_vote_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileLogStore::open(dir.path()).unwrap();
        assert_eq!(store.read_vote().await.unwrap(), None);
        store.save_vote(&Vote::new(7, 2)).await.unwrap();
        drop(store);
        let mut reopened = FileLogStore::open(dir.path()).unwrap();
        assert_eq!(
            reopened.read_vote().await.unwrap(),
            Some(Vote::new(7, 2)),
            "a restarted node must not vote twice in term 7"
        );
        let state = reopened.get_log_state().await.unwrap();
        assert_eq!(state.last_log_id, None);
    }
}

//! Backups: a consistent snapshot of the whole database, on demand (API, command line) or on a
//! schedule that keeps the newest few.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::ports::retention::{BackupOutcome, DataLifecycle};
use crate::ports::store::StoreError;

/// Why a backup was not written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The API's target is not a new, plainly named directory under the backup root.
    #[error(
        "backups are written to a new directory under {root} (--backup-dir), named with letters, digits, '.', '_' and '-'; got {given:?}"
    )]
    InvalidTarget { root: String, given: String },
    #[error("{0} already holds a backup")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// See the module documentation.
pub struct BackupService {
    store: Arc<dyn DataLifecycle>,
    /// The only place the API writes backups to (absolute).
    root: PathBuf,
}

impl BackupService {
    pub fn new(store: Arc<dyn DataLifecycle>, root: PathBuf) -> Self {
        Self { store, root }
    }

    /// Writes a backup to `dir` as given by the operator on the command line.
    pub fn backup_to(&self, dir: &Path) -> Result<BackupOutcome, BackupError> {
        Ok(self.store.backup(dir)?)
    }

    /// The directory an API caller's `to` names: under the root, plainly named, not the root.
    pub fn target(&self, given: &str) -> Result<PathBuf, BackupError> {
        let root = &self.root;
        let trimmed = PathBuf::from(given.trim());
        let dir = if trimmed.is_absolute() { trimmed } else { root.join(&trimmed) };
        // The API never writes outside the backup root (it is reachable with a token, not a shell).
        let escapes = dir.components().any(|c| !matches!(c, Component::Normal(_) | Component::RootDir));
        // Plain names below the root: letters, digits, '.', '_', '-' (no control characters or
        // look-alikes in file names an operator has to handle later).
        let plain = dir.strip_prefix(root).is_ok_and(|rel| {
            rel.components().all(|c| {
                c.as_os_str().to_str().is_some_and(|n| {
                    !n.is_empty()
                        && n.len() <= 100
                        && n.chars().all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch))
                })
            })
        });
        if given.trim().is_empty() || escapes || !plain || dir == *root {
            return Err(BackupError::InvalidTarget { root: root.display().to_string(), given: given.to_string() });
        }
        if dir.join("hitkeep.db").exists() {
            return Err(BackupError::Exists(dir.display().to_string()));
        }
        Ok(dir)
    }

    /// Writes `dir/hitkeep-<UTC time>/` and keeps the newest `keep` of them.
    pub fn scheduled(&self, dir: &Path, keep: usize) {
        let name = format!("hitkeep-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"));
        match self.store.backup(&dir.join(&name)) {
            Ok(b) => tracing::info!(file = %b.file.display(), bytes = b.bytes, "scheduled backup written"),
            Err(e) => return tracing::error!(error = %e, "scheduled backup failed"),
        }
        for old in backups_to_prune(dir, keep) {
            if let Err(e) = std::fs::remove_dir_all(&old) {
                tracing::warn!(dir = %old.display(), error = %e, "cannot remove an old backup");
            }
        }
    }
}

/// Complete scheduled backups beyond the newest `keep` (names sort by time).
pub fn backups_to_prune(dir: &Path, keep: usize) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("hitkeep-"))
                        && p.join("hitkeep.db").exists()
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    let excess = found.len().saturating_sub(keep);
    found.into_iter().take(excess).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_complete_backups() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["hitkeep-20261101T000000Z", "hitkeep-20261102T000000Z", "hitkeep-20261103T000000Z"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
            std::fs::write(dir.path().join(name).join("hitkeep.db"), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("hitkeep-20261104T000000Z")).unwrap(); // unfinished
        std::fs::create_dir(dir.path().join("other")).unwrap();
        let prune = backups_to_prune(dir.path(), 2);
        assert_eq!(prune, vec![dir.path().join("hitkeep-20261101T000000Z")]);
        assert!(backups_to_prune(dir.path(), 5).is_empty());
    }
}

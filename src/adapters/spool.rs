//! The spool: acknowledged hits a node could not hand to a writer when it stopped (no leader,
//! the store failing, the shutdown timeout reached), kept as NDJSON in its own data directory
//! and delivered after its next start.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::event::Record;
use crate::ports::queue::RecordHandover;

/// One spool file.
#[derive(Debug, Clone)]
pub struct Spool {
    path: PathBuf,
}

impl Spool {
    /// `DATA/spool/<name>.ndjson`: each cluster node names its own, so shared data directories work.
    pub fn new(data_dir: &Path, name: &str) -> Self {
        Self { path: data_dir.join("spool").join(format!("{name}.ndjson")) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `items` and syncs them to disk before returning.
    pub fn write<T: Serialize>(&self, items: &[T]) -> std::io::Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        let mut buf = Vec::with_capacity(items.len() * 256);
        for item in items {
            serde_json::to_writer(&mut buf, item)?;
            buf.push(b'\n');
        }
        file.write_all(&buf)?;
        file.sync_all()
    }

    /// What is being delivered: kept until the writer stored it, so a crash meanwhile loses
    /// nothing (the next start delivers it again).
    fn delivering(&self) -> PathBuf {
        self.path.with_extension("delivering.ndjson")
    }

    /// Reads everything spooled (and anything a crashed run was still delivering), keeping it
    /// on disk until `delivered`; a torn last line (a crash while writing) is skipped.
    pub fn take<T: Serialize + DeserializeOwned>(&self) -> std::io::Result<Vec<T>> {
        let mut items: Vec<T> = read_lines(&self.delivering())?;
        let fresh: Vec<T> = read_lines(&self.path)?;
        if fresh.is_empty() {
            return Ok(items);
        }
        items.extend(fresh);
        // One file in delivery: written whole and synced before the spool it came from goes.
        let tmp = self.path.with_extension("tmp");
        let _ = std::fs::remove_file(&tmp);
        Spool { path: tmp.clone() }.write(&items)?;
        std::fs::rename(&tmp, self.delivering())?;
        std::fs::remove_file(&self.path)?;
        Ok(items)
    }

    /// What `take` returned is stored (or spooled again): forget it.
    pub fn delivered(&self) -> std::io::Result<()> {
        match std::fs::remove_file(self.delivering()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

fn read_lines<T: DeserializeOwned>(path: &Path) -> std::io::Result<Vec<T>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut items = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        match serde_json::from_str(&line?) {
            Ok(item) => items.push(item),
            Err(e) => tracing::warn!(error = %e, spool = %path.display(), "skipping an unreadable spool line"),
        }
    }
    Ok(items)
}

/// A single node's writer, giving up at shutdown on a failing store, hands its records here.
pub struct SpoolHandover(pub Spool);

impl RecordHandover for SpoolHandover {
    fn hand_over(&self, records: Vec<Record>) -> usize {
        match self.0.write(&records) {
            Ok(()) => {
                tracing::warn!(records = records.len(), spool = %self.0.path().display(), "spooled acknowledged hits for the next start");
                0
            }
            Err(e) => {
                tracing::error!(error = %e, records = records.len(), "could not write the spool");
                records.len()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spooled_items_come_back_once() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path(), "node-1");
        spool.write(&["a".to_string(), "b".to_string()]).unwrap();
        spool.write(&["c".to_string()]).unwrap();
        assert_eq!(spool.take::<String>().unwrap(), ["a", "b", "c"]);
        // A crash before the writer stored them: the next start gets them again, and more.
        spool.write(&["d".to_string()]).unwrap();
        assert_eq!(spool.take::<String>().unwrap(), ["a", "b", "c", "d"]);
        spool.delivered().unwrap();
        assert!(spool.take::<String>().unwrap().is_empty(), "delivered means gone");
    }
}

//! Leader-only background jobs: the daily retention run, scheduled backups and e-mail reports.
//! Each tick asks the leadership port first, so in a cluster only the writer node acts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::adapters::http::AppState;
use crate::adapters::system::SystemClock;
use crate::domain::lifecycle::run_retention;
use crate::ports::clock::Clock;

/// How often the retention job runs, and the delay before its first run after start-up.
const RETENTION_EVERY: Duration = Duration::from_secs(24 * 3600);
const FIRST_RETENTION_AFTER: Duration = Duration::from_secs(60);
/// How often due e-mail reports are looked for.
const EMAIL_TICK: Duration = Duration::from_secs(60);

/// Starts the jobs; abort the handles on shutdown.
pub fn spawn(state: Arc<AppState>, backups: Option<(Duration, PathBuf, usize)>) -> Vec<JoinHandle<()>> {
    let mut jobs = Vec::new();
    let s = state.clone();
    jobs.push(tokio::spawn(async move {
        tokio::time::sleep(FIRST_RETENTION_AFTER).await;
        let mut tick = tokio::time::interval(RETENTION_EVERY);
        loop {
            tick.tick().await;
            if s.leadership.is_leader() {
                let s = s.clone();
                let _ = tokio::task::spawn_blocking(move || retention_once(&s)).await;
            }
        }
    }));
    let s = state.clone();
    jobs.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(EMAIL_TICK);
        loop {
            tick.tick().await;
            if s.leadership.is_leader() {
                let s = s.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    let sites = s
                        .ingest
                        .sites()
                        .sites()
                        .iter()
                        .map(|x| crate::domain::site::Site::clone(x))
                        .collect::<Vec<_>>();
                    match s.email.send_due(&sites) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(sent = n, "sent e-mail reports"),
                        Err(e) => tracing::error!(error = %e, "e-mail reports failed"),
                    }
                })
                .await;
            }
        }
    }));
    if let Some((every, dir, keep)) = backups {
        let s = state;
        jobs.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if s.leadership.is_leader() {
                    let (s, dir) = (s.clone(), dir.clone());
                    let _ = tokio::task::spawn_blocking(move || scheduled_backup(&s, &dir, keep)).await;
                }
            }
        }));
    }
    jobs
}

fn retention_once(state: &AppState) {
    match state.accounts.prune_audit(state.lifecycle_config.audit_retention_days) {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "pruned the audit log"),
        Err(e) => tracing::error!(error = %e, "audit log pruning failed"),
    }
    let sites = match state.sites.list() {
        Ok(s) => s,
        Err(e) => return tracing::error!(error = %e, "retention: cannot list sites"),
    };
    let archive = state.lifecycle_config.archive_dir.as_deref();
    match run_retention(&sites, state.lifecycle.as_ref(), SystemClock.now_micros(), archive) {
        Ok(runs) => {
            for r in runs.iter().filter(|r| r.outcome.deleted_events + r.outcome.deleted_vitals > 0) {
                tracing::info!(site = %r.site.domain, events = r.outcome.deleted_events, vitals = r.outcome.deleted_vitals,
                    archives = r.outcome.archives.len(), "retention deleted old data");
            }
        }
        Err(e) => tracing::error!(error = %e, "retention failed"),
    }
}

/// Writes `dir/hitkeep-<UTC time>/` and keeps the newest `keep` of them.
fn scheduled_backup(state: &AppState, dir: &Path, keep: usize) {
    let name = format!("hitkeep-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"));
    match state.lifecycle.backup(&dir.join(&name)) {
        Ok(b) => tracing::info!(file = %b.file.display(), bytes = b.bytes, "scheduled backup written"),
        Err(e) => return tracing::error!(error = %e, "scheduled backup failed"),
    }
    for old in backups_to_prune(dir, keep) {
        if let Err(e) = std::fs::remove_dir_all(&old) {
            tracing::warn!(dir = %old.display(), error = %e, "cannot remove an old backup");
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

//! Leader-only background jobs: the daily retention run, scheduled backups, e-mail reports, and
//! the signals job (traffic alerts, goal batches and due reports for webhooks, webhook delivery).
//! Each tick asks the leadership port first, so in a cluster only the writer node acts. The
//! jobs call the same services as the API and the command line.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::adapters::system::SystemClock;
use crate::domain::email_report::EmailReports;
use crate::domain::site::Site;
use crate::ports::clock::Clock;
use crate::ports::leadership::Leadership;
use crate::ports::visit_folding::VisitFolding;
use crate::services::accounts::AccountService;
use crate::services::alerts::AlertService;
use crate::services::lifecycle::backups::BackupService;
use crate::services::lifecycle::retention::RetentionService;
use crate::services::sites::SiteService;
use crate::services::webhooks::WebhookService;

/// How often the retention job runs, and the delay before its first run after start-up.
const RETENTION_EVERY: Duration = Duration::from_secs(24 * 3600);
const FIRST_RETENTION_AFTER: Duration = Duration::from_secs(60);
/// How often due e-mail reports are looked for.
const EMAIL_TICK: Duration = Duration::from_secs(60);
/// How often closed visits are folded for the reports (each run folds only what closed since).
const FOLD_EVERY: Duration = Duration::from_secs(60);

/// What the jobs need.
#[derive(Clone)]
pub struct Jobs {
    pub leadership: Arc<dyn Leadership>,
    pub sites: Arc<SiteService>,
    pub accounts: Arc<AccountService>,
    pub retention: Arc<RetentionService>,
    pub backups: Arc<BackupService>,
    pub email: Arc<EmailReports>,
    pub webhooks: Arc<WebhookService>,
    pub alerts: Arc<AlertService>,
    /// How often the signals job runs (`--signals-interval-ms`).
    pub signals_every: Duration,
    /// Days the audit log keeps entries (0: forever).
    pub audit_retention_days: u32,
    /// Folds closed visits into the rows exit pages are counted on.
    pub folding: Arc<dyn VisitFolding>,
}

/// Scheduled backups: every `every` into `dir`, keeping the newest `keep`.
pub struct BackupSchedule {
    pub every: Duration,
    pub dir: PathBuf,
    pub keep: usize,
}

/// Runs `work` on a blocking thread every `every` while this node leads.
fn every(
    leadership: Arc<dyn Leadership>,
    first_after: Option<Duration>,
    every: Duration,
    skip_first_tick: bool,
    work: impl Fn() + Send + Sync + 'static,
) -> JoinHandle<()> {
    let work = Arc::new(work);
    tokio::spawn(async move {
        if let Some(d) = first_after {
            tokio::time::sleep(d).await;
        }
        let mut tick = tokio::time::interval(every);
        if skip_first_tick {
            tick.tick().await;
        }
        loop {
            tick.tick().await;
            if leadership.is_leader() {
                let work = work.clone();
                let _ = tokio::task::spawn_blocking(move || work()).await;
            }
        }
    })
}

/// Starts the jobs; abort the handles on shutdown.
pub fn spawn(jobs: Jobs, backups: Option<BackupSchedule>) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    let j = jobs.clone();
    handles.push(every(jobs.leadership.clone(), Some(FIRST_RETENTION_AFTER), RETENTION_EVERY, false, move || {
        j.retention.daily(&j.accounts, j.audit_retention_days)
    }));
    let j = jobs.clone();
    handles.push(every(jobs.leadership.clone(), None, EMAIL_TICK, false, move || {
        let sites = j.sites.directory().sites().iter().map(|x| Site::clone(x)).collect::<Vec<_>>();
        match j.email.send_due(&sites) {
            Ok(0) => {}
            Ok(n) => tracing::info!(sent = n, "sent e-mail reports"),
            Err(e) => tracing::error!(error = %e, "e-mail reports failed"),
        }
    }));
    handles.push(signals(jobs.clone()));
    let folding = jobs.folding.clone();
    handles.push(every(jobs.leadership.clone(), None, FOLD_EVERY, false, move || fold_visits(folding.as_ref())));
    if let Some(BackupSchedule { every: period, dir, keep }) = backups {
        let service = jobs.backups.clone();
        handles.push(every(jobs.leadership.clone(), None, period, true, move || service.scheduled(&dir, keep)));
    }
    handles
}

/// Folds the visits and sums up the days closed since the last run; logs what it cost.
fn fold_visits(folding: &dyn VisitFolding) {
    let started = std::time::Instant::now();
    match folding.fold_closed_visits(SystemClock.now_micros()) {
        Ok(f) if f.visits == 0 && f.days == 0 => {}
        Ok(f) => tracing::debug!(
            visits = f.visits,
            events = f.events,
            days = f.days,
            ms = started.elapsed().as_millis() as u64,
            "folded visits"
        ),
        Err(e) => tracing::error!(error = %e, "folding closed visits failed"),
    }
}

/// Every `signals_every` while leading: checks alerts and fills the webhook outbox (blocking,
/// DuckDB), then attempts the due deliveries (async HTTP). The outbox is a table, so what a
/// failover interrupts is delivered by the next leader.
fn signals(j: Jobs) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(j.signals_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !j.leadership.is_leader() {
                continue;
            }
            let sites = j.sites.directory().sites().iter().map(|x| Site::clone(x)).collect::<Vec<_>>();
            let (list, alerts, webhooks) = (sites.clone(), j.alerts.clone(), j.webhooks.clone());
            let collected = tokio::task::spawn_blocking(move || {
                if let Err(e) = alerts.check(&list) {
                    tracing::error!(error = %e, "checking traffic alerts failed");
                }
                webhooks.collect(&list)
            })
            .await;
            if let Ok(Err(e)) = collected {
                tracing::error!(error = %e, "queueing webhook deliveries failed");
            }
            match j.webhooks.deliver_due(sites).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(delivered = n, "delivered webhooks"),
                Err(e) => tracing::error!(error = %e, "delivering webhooks failed"),
            }
        }
    })
}

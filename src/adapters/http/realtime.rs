//! Fan-out of "new data for site N" from the writer thread to server-sent-event subscribers, and
//! the bounds on those streams: how many one caller and the whole server may hold open, and how
//! often an open stream re-checks that its credentials still read the site.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use poem_openapi::auth::{ApiKey, Bearer};
use tokio::sync::broadcast;

use super::AppState;
use super::api::report_bodies::RealtimeUpdate;
use super::auth::{Auth, BearerAuth, SessionAuth};
use super::guard::{Refused, site_for};
use crate::domain::accounts::{Need, Principal};
use crate::domain::site::Site;
use crate::ports::notify::BatchObserver;
use crate::services::reports::ReportService;

/// Bounds on realtime streams (`--max-realtime-streams`, `--max-realtime-streams-per-caller`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Open streams per caller (a user, an API token, a share link from one address).
    pub per_caller: usize,
    /// Open streams on this server.
    pub total: usize,
    /// How often an open stream re-checks its credentials (it also does on every update).
    pub recheck: Duration,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self { per_caller: 4, total: 1000, recheck: Duration::from_secs(30) }
    }
}

/// Why a stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamRefused {
    #[error("this caller already has {0} realtime streams open (limit: --max-realtime-streams-per-caller)")]
    PerCaller(usize),
    #[error("the server already has {0} realtime streams open (limit: --max-realtime-streams)")]
    Total(usize),
}

/// Open streams by caller key.
#[derive(Default)]
struct Open {
    by_caller: HashMap<String, usize>,
    total: usize,
}

/// Counts open streams; a [`StreamSlot`] gives its place back when dropped.
struct StreamRegistry {
    limits: StreamLimits,
    open: Mutex<Open>,
}

/// One open stream's place; dropping it (the client went away, or the stream ended) frees it.
pub struct StreamSlot {
    registry: Arc<StreamRegistry>,
    key: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.registry.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_caller.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.by_caller.remove(&self.key);
            }
        }
    }
}

/// A broadcast channel of site ids; lagging subscribers just miss some wake-ups.
pub struct Broadcaster {
    tx: broadcast::Sender<u32>,
    streams: Arc<StreamRegistry>,
}

impl Default for Broadcaster {
    fn default() -> Self {
        Self::new(StreamLimits::default())
    }
}

impl Broadcaster {
    pub fn new(limits: StreamLimits) -> Self {
        Self {
            tx: broadcast::channel(1024).0,
            streams: Arc::new(StreamRegistry { limits, open: Mutex::new(Open::default()) }),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<u32> {
        self.tx.subscribe()
    }

    pub fn limits(&self) -> StreamLimits {
        self.streams.limits
    }

    /// Takes a place for a stream of `caller`, or says which limit is reached.
    pub fn open_stream(&self, caller: String) -> Result<StreamSlot, StreamRefused> {
        let limits = self.streams.limits;
        let mut open = self.streams.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.total >= limits.total {
            return Err(StreamRefused::Total(open.total));
        }
        let mine = open.by_caller.get(&caller).copied().unwrap_or(0);
        if mine >= limits.per_caller {
            return Err(StreamRefused::PerCaller(mine));
        }
        open.total += 1;
        *open.by_caller.entry(caller.clone()).or_insert(0) += 1;
        Ok(StreamSlot { registry: self.streams.clone(), key: caller })
    }
}

impl BatchObserver for Broadcaster {
    fn stored(&self, site_ids: &[u32]) {
        for id in site_ids {
            // No receivers is fine.
            let _ = self.tx.send(*id);
        }
    }
}

// ---- The stream an SSE subscriber reads ----

/// What a stream counts against: the user (all their sessions), the API token, the share link
/// from one client address (a public link has many viewers, each with their own address), or
/// the operator token.
pub fn stream_key(principal: &Principal, ip: IpAddr) -> String {
    match principal {
        Principal::User { id, .. } => format!("user:{}", id.0),
        Principal::Token { id, .. } => format!("token:{id}"),
        Principal::Share { link, .. } => format!("share:{link}:{ip}"),
        Principal::Operator => "operator".into(),
    }
}

/// The credential a request came with, kept to re-check it while a stream is open.
#[derive(Clone)]
pub enum Credential {
    Bearer(String),
    Session(String),
}

pub fn credential(auth: &Auth) -> Credential {
    match auth {
        Auth::Bearer(b) => Credential::Bearer(b.0.token.clone()),
        Auth::Session(s) => Credential::Session(s.0.key.clone()),
        Auth::HostSession(s) => Credential::Session(s.0.key.clone()),
    }
}

impl Credential {
    fn auth(&self) -> Auth {
        match self {
            Credential::Bearer(token) => Auth::Bearer(BearerAuth(Bearer { token: token.clone() })),
            Credential::Session(key) => Auth::Session(SessionAuth(ApiKey { key: key.clone() })),
        }
    }
}

pub async fn count_visitors(reports: Arc<ReportService>, site: Site) -> Option<RealtimeUpdate> {
    let domain = site.domain.to_string();
    reports.current_visitors(site).await.ok().map(|visitors| RealtimeUpdate { site: domain, visitors })
}

/// What woke a stream up.
enum Tick {
    /// New data for the site (or the first update).
    Update,
    /// Time to re-check the credentials.
    Recheck,
    /// The broadcaster is gone (shutdown, or this node's engine was replaced).
    Closed,
}

/// What a stream does after a tick.
enum Step {
    Send(RealtimeUpdate),
    Quiet,
    End,
}

/// Updates for `site`: one at once, then one after each write for the site (at most one a
/// second). Ends when the credentials stop reading the site (a revoked share link, token or
/// session, a lost role, a deleted site) or the broadcaster goes; `slot` is given back when the
/// stream is dropped. The state is held weakly, so that an open stream does not keep a replaced
/// engine (and its broadcaster) alive.
pub fn realtime_stream(
    state: &Arc<AppState>,
    credential: Credential,
    site: Site,
    slot: StreamSlot,
) -> futures_util::stream::BoxStream<'static, RealtimeUpdate> {
    let recheck = state.broadcaster.limits().recheck;
    let rx = state.broadcaster.subscribe();
    let state = Arc::downgrade(state);
    let site_id = site.id.0;
    let wakeups = tokio_stream::wrappers::BroadcastStream::new(rx)
        .filter(move |r| std::future::ready(matches!(r, Ok(id) if *id == site_id) || r.is_err()))
        .map(|_| ());
    let updates = futures_util::stream::once(async {})
        .chain(throttle(wakeups, Duration::from_secs(1)))
        .map(|_| Tick::Update)
        .chain(futures_util::stream::once(async { Tick::Closed }));
    let start = tokio::time::Instant::now() + recheck;
    let rechecks =
        tokio_stream::wrappers::IntervalStream::new(tokio::time::interval_at(start, recheck)).map(|_| Tick::Recheck);
    let domain = site.domain.to_string();
    futures_util::stream::select(updates, rechecks)
        .then(move |tick| {
            let (state, credential, site, domain) = (state.upgrade(), credential.clone(), site.clone(), domain.clone());
            async move {
                let Some(state) = state.filter(|_| !matches!(tick, Tick::Closed)) else { return Step::End };
                let allowed = site_for::<Refused>(&state, &credential.auth(), &domain, Need::Read)
                    .await
                    .is_ok_and(|(now, _)| now.id == site.id);
                match tick {
                    _ if !allowed => Step::End,
                    Tick::Update => count_visitors(state.reports.clone(), site).await.map_or(Step::Quiet, Step::Send),
                    Tick::Recheck | Tick::Closed => Step::Quiet,
                }
            }
        })
        .take_while(|step| std::future::ready(!matches!(step, Step::End)))
        .filter_map(move |step| {
            // The slot lives as long as the stream.
            let _held = &slot;
            std::future::ready(match step {
                Step::Send(u) => Some(u),
                _ => None,
            })
        })
        .boxed()
}

/// Passes at most one item per `every`, the first at once, the last of a burst after the pause.
fn throttle(
    s: impl futures_util::Stream<Item = ()> + Send + 'static,
    every: Duration,
) -> impl futures_util::Stream<Item = ()> + Send + 'static {
    async_stream(s, every)
}

fn async_stream(
    s: impl futures_util::Stream<Item = ()> + Send + 'static,
    every: Duration,
) -> impl futures_util::Stream<Item = ()> + Send + 'static {
    let s = Box::pin(s);
    futures_util::stream::unfold((s, None::<tokio::time::Instant>), move |(mut s, last)| async move {
        s.next().await?;
        if let Some(last) = last {
            tokio::time::sleep_until(last + every).await;
        }
        // Coalesce whatever queued up meanwhile.
        while let Some(Some(())) = futures_util::FutureExt::now_or_never(s.next()) {}
        Some(((), (s, Some(tokio::time::Instant::now()))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_capped_per_caller_and_in_total() {
        let b = Broadcaster::new(StreamLimits { per_caller: 2, total: 3, recheck: Duration::from_secs(1) });
        let a1 = b.open_stream("a".into()).unwrap();
        let _a2 = b.open_stream("a".into()).unwrap();
        assert_eq!(b.open_stream("a".into()).err(), Some(StreamRefused::PerCaller(2)));
        let _b1 = b.open_stream("b".into()).unwrap();
        assert_eq!(b.open_stream("c".into()).err(), Some(StreamRefused::Total(3)));
        drop(a1);
        assert!(b.open_stream("a".into()).is_ok(), "a closed stream frees its place");
    }
}

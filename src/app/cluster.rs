//! A cluster node: Raft elects the leader, which alone opens the database and runs the writer;
//! every node serves every route. The database session ("engine") starts when this node becomes
//! the leader and stops when it loses leadership or shuts down, while HTTP keeps running.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::watch;

use super::{Enrichment, Node, NodeRole, ServeConfig, build, spawn_leader_jobs};
use crate::adapters::duckdb::{Database, DuckSites};
use crate::adapters::http::cluster::status::ClusterView;
use crate::adapters::http::cluster::{ClusterGate, forward};
use crate::adapters::leadership::raft::{RaftLeadership, RaftSettings};
use crate::ports::leadership::Leadership;
use crate::ports::store::StoreError;
use crate::services::reports::ReportService;

/// Cluster membership and tuning, validated.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub node_id: u64,
    /// Base URLs by node id, this node included.
    pub peers: BTreeMap<u64, String>,
    pub secret: String,
    pub forward_capacity: usize,
    /// This node's Raft vote and log.
    pub raft_dir: PathBuf,
    pub heartbeat: Duration,
    pub election: (Duration, Duration),
}

/// Runs a cluster node until `shutdown` resolves: stops taking requests, hands its acknowledged
/// hits over, closes the database if it holds it, and only then leaves Raft, so a leader's
/// successor is elected after the file is free.
pub async fn serve(config: ServeConfig, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let cluster = config.cluster.clone().context("cluster configuration")?;
    let client = crate::adapters::http_client::builder()
        .connect_timeout(Duration::from_secs(1))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()?;
    let listener = poem::listener::TcpListener::bind(config.http.clone());
    let acceptor = poem::listener::Listener::into_acceptor(listener)
        .await
        .with_context(|| format!("cannot listen on {}", config.http))?;
    let acceptor = crate::adapters::http::conn_limits::LimitedAcceptor::new(acceptor, config.conn_limits);
    let raft = Arc::new(
        RaftLeadership::start(
            RaftSettings {
                node_id: cluster.node_id,
                peers: cluster.peers.clone(),
                secret: cluster.secret.clone(),
                dir: cluster.raft_dir.clone(),
                heartbeat: cluster.heartbeat,
                election_min: cluster.election.0,
                election_max: cluster.election.1,
            },
            client.clone(),
        )
        .await?,
    );
    let gate = Arc::new(
        ClusterGate::new(
            cluster.node_id,
            raft.clone(),
            raft.clone(),
            raft.members(),
            config.http_config.clone(),
            &cluster.secret,
            client,
            cluster.forward_capacity,
        )
        .with_relay(config.queue.relay()),
    );
    let enrichment = Enrichment::new(&config)?;
    let local = poem::listener::Acceptor::local_addr(&acceptor)
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(address = %local, node = cluster.node_id, peers = ?cluster.peers, "listening as a cluster node");
    println!("hitkeep listening on http://{local}");

    let spool = crate::adapters::spool::Spool::new(&config.lifecycle.data_dir, &format!("node-{}", cluster.node_id));
    redeliver_spooled(&spool, &gate)?;
    let forwarder = tokio::spawn(forward::run_forwarder(gate.clone()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let controller = tokio::spawn(control(gate.clone(), raft.clone(), config.clone(), enrichment, stop_rx));

    let draining = gate.clone();
    let drain = move || draining.draining.store(true, Ordering::SeqCst);
    let routes = crate::adapters::http::cluster::routes(gate.clone());
    super::serve_until(acceptor, routes, shutdown, drain, config.shutdown_timeout).await?;

    // Hits this node acknowledged go to the leader (or to its own engine) before it leaves.
    hand_over_or_spool(forwarder, &gate, &spool, config.shutdown_timeout).await;
    let _ = stop_tx.send(true);
    controller.await.context("controller")?;
    raft.shutdown().await;
    tracing::info!(forwarded = gate.counters.forwarded.load(Ordering::Relaxed), "stopped cleanly");
    Ok(())
}

/// Hits spooled at the last stop lead the forward queue; the spool is removed once they are
/// forwarded (the leader has them).
fn redeliver_spooled(spool: &crate::adapters::spool::Spool, gate: &Arc<ClusterGate>) -> anyhow::Result<()> {
    let spooled: Vec<forward::ForwardItem> = spool.take().context("cannot read the spool")?;
    if spooled.is_empty() {
        return Ok(());
    }
    tracing::info!(hits = spooled.len(), "delivering hits spooled at the last stop");
    let (n, gate, spool) = (spooled.len() as u64, gate.clone(), spool.clone());
    gate.forward.push_items(spooled);
    tokio::spawn(async move {
        while gate.counters.forwarded.load(Ordering::SeqCst) < n {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if let Err(e) = spool.delivered() {
            tracing::error!(error = %e, "cannot remove the delivered spool");
        }
    });
    Ok(())
}

/// Waits up to `timeout` for the forwarder to hand every acknowledged hit over; with no leader
/// to take them (the whole cluster is stopping) what is left is spooled for the next start.
async fn hand_over_or_spool(
    mut forwarder: tokio::task::JoinHandle<()>,
    gate: &ClusterGate,
    spool: &crate::adapters::spool::Spool,
    timeout: Duration,
) {
    if tokio::time::timeout(timeout, &mut forwarder).await.is_ok() {
        if let Err(e) = spool.delivered() {
            tracing::error!(error = %e, "cannot remove the delivered spool");
        }
        return;
    }
    forwarder.abort();
    let _ = forwarder.await;
    let left = gate.forward.take_all();
    // What is left includes what the spool was still delivering: spooled again, so done.
    match spool.write(&left).and_then(|()| spool.delivered()) {
        Ok(()) => {
            tracing::warn!(hits = left.len(), spool = %spool.path().display(), "no leader took the acknowledged hits before shutdown: spooled for the next start")
        }
        Err(e) => {
            tracing::error!(error = %e, lost = left.len(), "could not hand acknowledged hits to a leader nor spool them")
        }
    }
}

/// An open database session on the leader.
struct Session {
    node: Node,
    term: u64,
    rotation: tokio::task::JoinHandle<()>,
    /// Retention, scheduled backups and e-mail reports: leader-only, end with the session.
    jobs: Vec<tokio::task::JoinHandle<()>>,
}

/// What must be gone before this process may open the database file again.
/// Two DuckDB instances on one file in one process would not see each other's lock.
#[derive(Default)]
struct Leftovers {
    reports: Vec<Weak<ReportService>>,
    states: Vec<Weak<crate::adapters::http::AppState>>,
    sites: Vec<Weak<DuckSites>>,
}

impl Leftovers {
    fn clear(&mut self) -> bool {
        self.reports.retain(|w| w.strong_count() > 0);
        self.states.retain(|w| w.strong_count() > 0);
        self.sites.retain(|w| w.strong_count() > 0);
        self.reports.is_empty() && self.states.is_empty() && self.sites.is_empty()
    }
}

/// Opens the database when this node leads and closes it when it does not, until `stop`.
async fn control(
    gate: Arc<ClusterGate>,
    raft: Arc<RaftLeadership>,
    config: ServeConfig,
    enrichment: Enrichment,
    mut stop: watch::Receiver<bool>,
) {
    let mut changes = raft.changes();
    let mut session: Option<Session> = None;
    let mut leftovers = Leftovers::default();
    loop {
        if *stop.borrow() {
            break;
        }
        let leading = raft.is_leader();
        let term = Leadership::term(raft.as_ref());
        let writer_done = session.as_ref().is_some_and(|s| s.node.writer.is_finished());
        let must_stop = session.as_ref().map(|s| !leading || s.term != term || writer_done);
        match must_stop {
            Some(true) => {
                let why = if writer_done { "the writer stopped" } else { "leadership lost" };
                stop_session(&gate, session.take().expect("session"), why, &mut leftovers).await;
            }
            None if leading && leftovers.clear() => {
                session = open_session(&gate, &raft, &config, &enrichment, &stop).await;
            }
            _ => {}
        }
        tokio::select! {
            _ = changes.changed() => {}
            _ = stop.changed() => {}
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    if let Some(s) = session {
        stop_session(&gate, s, "shutdown", &mut leftovers).await;
    }
}

/// Confirms leadership, opens the database (waiting while a departing leader still holds the
/// file) and installs the engine. `None` when leadership moved on meanwhile.
async fn open_session(
    gate: &Arc<ClusterGate>,
    raft: &Arc<RaftLeadership>,
    config: &ServeConfig,
    enrichment: &Enrichment,
    stop: &watch::Receiver<bool>,
) -> Option<Session> {
    let started = Instant::now();
    // Bounded: without a quorum the confirmation would wait for one.
    if !matches!(tokio::time::timeout(Duration::from_secs(3), raft.confirm_leadership()).await, Ok(true)) {
        return None;
    }
    let fence = raft.fence();
    let term = fence.term;
    let still_leading = || raft.is_leader() && Leadership::term(raft.as_ref()) == term && !*stop.borrow();
    let mut waited_for_lock = false;
    let db = loop {
        if !still_leading() {
            return None;
        }
        let (path, settings) = (config.database.clone(), config.duck.clone());
        match tokio::task::spawn_blocking(move || Database::open(&path, &settings)).await {
            Ok(Ok(db)) => break db,
            Ok(Err(StoreError::Locked { .. })) => {
                if !waited_for_lock {
                    tracing::info!("the previous leader still holds the database; waiting for it to close");
                    waited_for_lock = true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot open the database; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "database open panicked; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let role = NodeRole {
        leadership: raft.clone(),
        fence: Arc::new(fence),
        cluster: Arc::new(ClusterView { gate: Arc::downgrade(gate) }),
        handover: Arc::new(crate::adapters::http::cluster::forward::ForwardHandover(Arc::downgrade(gate))),
    };
    let built = {
        let (config, enrichment) = (config.clone(), enrichment.clone());
        tokio::task::spawn_blocking(move || build(db, &config, role, &enrichment)).await
    };
    let node = match built {
        Ok(Ok(node)) => node,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot start the database session");
            return None;
        }
        Err(e) => {
            tracing::error!(error = %e, "database session start panicked");
            return None;
        }
    };
    let rotation = spawn_leader_jobs(&node.state, node.sites.clone());
    let mut jobs = crate::jobs::spawn(super::jobs_of(&node.state), super::backup_schedule(config));
    if let Some(relay) = gate.relay.clone() {
        // Hits the other nodes relayed through the durable queue: ingested here while leading.
        jobs.push(tokio::spawn(forward::run_relay(relay, node.state.clone(), gate.clone())));
    }
    gate.install(node.state.clone());
    tracing::info!(term, took_ms = started.elapsed().as_millis() as u64, "leader: database open, writer running");
    Some(Session { node, term, rotation, jobs })
}

/// Stops taking requests into the engine, lets the writer drain its queue (it writes only while
/// the fence holds), checkpoints and closes the database.
async fn stop_session(gate: &ClusterGate, session: Session, why: &str, leftovers: &mut Leftovers) {
    let started = Instant::now();
    tracing::info!(why, term = session.term, "closing the database session");
    let engine = gate.begin_stop();
    session.rotation.abort();
    for job in &session.jobs {
        job.abort();
    }
    let Node { state, publisher, writer, sites, db } = session.node;
    publisher.close();
    match tokio::task::spawn_blocking(move || writer.join()).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(StoreError::Fenced))) => tracing::warn!(
            fenced = state.writer.fenced_records.load(Ordering::Relaxed),
            handed_over = state.writer.handed_over_records.load(Ordering::Relaxed),
            "deposed before the queue was written: records handed to the next leader"
        ),
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "writer failed"),
        _ => tracing::error!("writer thread panicked"),
    }
    drop(engine);
    leftovers.reports.push(Arc::downgrade(&state.reports));
    leftovers.states.push(Arc::downgrade(&state));
    leftovers.sites.push(Arc::downgrade(&sites));
    drop(state);
    drop(sites);
    // Requests still running on the old engine finish (realtime streams end when the
    // broadcaster goes); the file is closed once the last connection is dropped.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !leftovers.clear() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if let Err(e) = tokio::task::spawn_blocking(move || db.checkpoint()).await.unwrap_or(Ok(())) {
        tracing::error!(error = %e, "checkpoint on close failed");
    }
    gate.finish_stop();
    tracing::info!(took_ms = started.elapsed().as_millis() as u64, "database closed");
}

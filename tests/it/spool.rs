//! The memory queue's spool: a cluster stopped all at once (Kubernetes deleting a StatefulSet)
//! has no leader left to take the followers' acknowledged hits; each node spools them in its
//! data directory and delivers them after the next start.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use crate::harness::{heavy, signal};
use crate::nats::{Ledger, assert_exactly_once, load, stored_paths};

#[tokio::test]
async fn queue_spool_three_memory_nodes_stopped_at_once_store_every_acknowledged_hit_after_restart() {
    let _turn = heavy().await;
    let extra = ["--shutdown-timeout-secs", "2", "--trusted-proxies", "127.0.0.1"];
    let mut c = Cluster::stopped(&["shop.test"], &extra);
    for i in 0..3 {
        c.start_node(i);
    }
    c.wait_leader(None, Duration::from_secs(30)).await;
    c.wait_all_ready().await;
    let ledger = Arc::new(Ledger::default());
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> =
        (0..3).map(|i| tokio::spawn(load(c.url(i, ""), format!("n{i}"), 3, stop.clone(), ledger.clone()))).collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // SIGTERM to every node at the same moment.
    let mut servers: Vec<_> = (0..3).map(|i| c.take(i)).collect();
    for s in &servers {
        signal(&s.child, "TERM");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for s in &mut servers {
        loop {
            if let Some(status) = s.child.try_wait().unwrap() {
                assert!(status.success(), "a node exits cleanly: {status}");
                break;
            }
            assert!(Instant::now() < deadline, "nodes did not stop");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    drop(servers);
    stop.store(true, Ordering::SeqCst);
    for l in load {
        l.await.unwrap();
    }
    let acked = ledger.acked.lock().unwrap().clone();
    assert!(acked.len() > 100, "the load got through: {}", acked.len());
    let spooled = std::fs::read_dir(c.data.dir.path().join("spool")).map_or(0, |d| d.count());
    for i in 0..3 {
        c.start_node(i);
    }
    let leader = c.wait_leader(None, Duration::from_secs(30)).await;
    c.wait_all_ready().await;
    // The spools are read at start; their hits go to the leader like any forwarded hit.
    tokio::time::sleep(Duration::from_secs(3)).await;
    c.stop_all(leader).await;
    let left: Vec<_> = std::fs::read_dir(c.data.dir.path().join("spool"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "a delivered spool is removed (kept until delivered): {left:?}");
    let stored = stored_paths(&c.data);
    let twice = stored.values().filter(|n| **n > 1).count();
    let lost = acked.iter().filter(|p| !stored.contains_key(*p)).count();
    eprintln!(
        "stopped at once: acknowledged {}, stored {}, lost {lost}, duplicated {twice}, spool files {spooled}",
        acked.len(),
        stored.len()
    );
    assert_exactly_once(&acked, &stored);
}

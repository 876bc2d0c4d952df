//! Internal routes between nodes (`/_cluster/*`): Raft messages, forwarded hit batches and node
//! status. Every call must carry the shared cluster secret, compared in constant time.

use std::sync::Arc;

use poem::http::{HeaderMap, StatusCode};
use poem::web::{Data, Json, Path};
use poem::{Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler, post};

use super::forward::{ForwardAck, ForwardBatch, record_batch};
use super::{ClusterGate, unavailable};
use crate::adapters::http::errors::json_error;
use crate::ports::cluster::{CLUSTER_SECRET_HEADER, ConsensusError};

/// Largest internal request body (a batch of 500 hits of up to 16 KiB is far below).
const MAX_INTERNAL_BODY: usize = 64 * 1024 * 1024;

pub fn routes() -> impl Endpoint<Output = Response> + 'static {
    Route::new().at("/raft/:rpc", post(raft)).at("/ingest", post(ingest)).at("/status", get(status)).around(
        |ep, req: Request| async move {
            if let Some(refused) = refuse_without_secret(&req) {
                return Ok(refused);
            }
            Ok(ep.call(req).await?.into_response())
        },
    )
}

/// 401 without the secret, 403 with a wrong one.
fn refuse_without_secret(req: &Request) -> Option<Response> {
    let gate = req.data::<Arc<ClusterGate>>()?;
    check_secret(gate, req.headers())
}

fn check_secret(gate: &ClusterGate, headers: &HeaderMap) -> Option<Response> {
    match headers.get(CLUSTER_SECRET_HEADER).and_then(|v| v.to_str().ok()) {
        None => Some(json_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            &format!("internal cluster route: the {CLUSTER_SECRET_HEADER} header is required"),
            None,
        )),
        Some(s) if !gate.secret.matches(s) => {
            Some(json_error(StatusCode::FORBIDDEN, "forbidden", "wrong cluster secret", None))
        }
        Some(_) => None,
    }
}

async fn read(body: Body) -> Result<Vec<u8>, Response> {
    body.into_bytes_limit(MAX_INTERNAL_BODY)
        .await
        .map(|b| b.to_vec())
        .map_err(|e| json_error(StatusCode::BAD_REQUEST, "unreadable_body", &e.to_string(), None))
}

/// Raft RPCs: append, vote, snapshot.
#[handler]
async fn raft(gate: Data<&Arc<ClusterGate>>, Path(rpc): Path<String>, body: Body) -> Response {
    let bytes = crate::or_return!(read(body).await);
    match gate.consensus.handle(&rpc, &bytes).await {
        Ok(answer) => Response::builder().content_type("application/json").body(answer),
        Err(ConsensusError::Unknown(m)) => json_error(StatusCode::NOT_FOUND, "not_found", &m, None),
        Err(ConsensusError::Malformed(m)) => json_error(StatusCode::BAD_REQUEST, "malformed", &m, None),
    }
}

/// A follower's batch of acknowledged hits: recorded and committed here before the answer.
#[handler]
async fn ingest(gate: Data<&Arc<ClusterGate>>, body: Body) -> Response {
    let bytes = crate::or_return!(read(body).await);
    let batch: ForwardBatch = match serde_json::from_slice(&bytes) {
        Ok(b) => b,
        Err(e) => return json_error(StatusCode::BAD_REQUEST, "malformed_batch", &e.to_string(), None),
    };
    let Some(engine) = gate.engine() else {
        return unavailable("not_leader", "this node does not hold the database (now); send to the leader");
    };
    match record_batch(&engine.state, &batch.hits).await {
        Ok(accepted) => Json(ForwardAck { accepted }).into_response(),
        Err(reason) => unavailable("not_committed", reason),
    }
}

/// This node's own view: role, leader, term, queues.
#[handler]
fn status(gate: Data<&Arc<ClusterGate>>) -> Json<crate::ports::cluster::NodeStatus> {
    Json(super::status::local(&gate))
}

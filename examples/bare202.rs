//! The ceiling for ingest benchmarks: a bare poem handler that reads the body and answers 202.
//! `cargo run --release --example bare202 -- 127.0.0.1:8181`

use poem::http::StatusCode;
use poem::listener::TcpListener;
use poem::{Body, IntoResponse, Route, Server, handler, post};

#[handler]
async fn accept(body: Body) -> impl IntoResponse {
    let _ = body.into_bytes_limit(16 * 1024).await;
    StatusCode::ACCEPTED
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8181".into());
    println!("bare202 listening on http://{addr}");
    Server::new(TcpListener::bind(addr)).run(Route::new().at("/ingest", post(accept))).await
}

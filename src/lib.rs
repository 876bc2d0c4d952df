//! HitKeep: privacy-first web analytics in one binary.
//!
//! Data flows `adapters::http` (ingest) -> `domain::ingest` (validate, enrich, identify) ->
//! `ports::queue` (flume) -> `domain::recorder` (micro-batches, visits) -> `ports::store` (DuckDB).

pub mod accounts_cli;
pub mod adapters;
pub mod app;
pub mod cli;
pub mod domain;
pub mod jobs;
pub mod lifecycle_cli;
pub mod ports;
pub mod seed;
pub mod services;

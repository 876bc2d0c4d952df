//! Adapters: each implements ports with one technology.

pub mod crypto;
pub mod duckdb;
pub mod flume;
pub mod geo;
pub mod http;
pub mod leadership;
pub mod system;
pub mod uap;

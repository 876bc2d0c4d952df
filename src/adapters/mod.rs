//! Adapters: each implements ports with one technology.

pub mod crypto;
pub mod duckdb;
pub mod flume;
pub mod geo;
pub mod http;
pub mod http_client;
pub mod leadership;
pub mod memory;
pub mod nats;
pub mod oidc;
pub mod otp;
pub mod sealing;
pub mod smtp;
pub mod spool;
pub mod system;
pub mod uap;
pub mod webauthn;
pub mod webhook;
pub mod zipfile;

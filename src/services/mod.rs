//! Application services: one per area, between the edges (HTTP handlers, CLI commands,
//! background jobs) and the ports. Each owns its rules and its error enum; the edges parse,
//! call a service and map its answer. Storage ports are synchronous, so async callers hop
//! through [`blocking`] once, here, instead of each handler spawning its own thread.

pub mod access_logs;
pub mod accounts;
pub mod alerts;
pub mod annotations;
pub mod crawlers;
pub mod goals;
pub mod lifecycle;
pub mod reports;
pub mod segments;
pub mod sites;
pub mod sso;
pub mod webhooks;

#[cfg(test)]
mod email_reports_tests;

use crate::ports::store::StoreError;

/// Runs blocking storage work off the async threads; a panicked or cancelled task becomes a
/// storage error of the caller's error type.
pub async fn blocking<T, E>(f: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(StoreError::Internal(e.to_string()).into()))
}

//! In-memory adapters: cheap doubles of ports for service tests, held to the same conformance
//! suites as the real adapters.

pub mod annotations;
pub mod crawlers;
pub mod goals;
pub mod mail;
pub mod passkeys;
pub mod report_cache;
pub mod segments;
pub mod sites;
pub mod table;
pub mod webhooks;

//! Integration tests: the real `hitkeep` binary over real HTTP on 127.0.0.1 with a real DuckDB file.
//! One test binary so DuckDB is linked once.

mod accounts;
mod accounts_hardening;
mod ai_visibility;
mod annotations;
mod api;
mod cluster;
mod crawler_lifecycle;
mod edge_hardening;
mod engine_props;
mod fuzz_smoke;
mod harness;
mod ingest;
mod lifecycle;
mod lifecycle_data;
mod lifecycle_hardening;
mod nats;
mod passkeys;
mod plausible_ingest;
mod plausible_query;
mod query_hardening;
mod queue;
mod report_conformance;
mod report_language;
mod reports;
mod revenue_goals;
mod segments;
mod sites_hardening;
mod spool;
mod sso;
mod sso_tls;
mod two_factor;
mod webhooks;
mod webhooks_tls;

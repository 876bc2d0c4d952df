//! Ports: the capabilities the domain needs from the outside world, one trait each.

pub mod accounts;
pub mod alerts;
pub mod annotations;
pub mod clock;

pub mod cluster;
#[cfg(test)]
pub mod conformance;
pub mod crawlers;
pub mod geo;
pub mod imports;
pub mod leadership;
pub mod lifecycle;
pub mod mail;
pub mod notify;
pub mod passkeys;
pub mod queue;
pub mod reports;
pub mod retention;
pub mod second_factors;
pub mod segments;
pub mod sites;
pub mod sso;
pub mod store;
pub mod subscriptions;
pub mod useragent;
pub mod visit_folding;
pub mod webhooks;

//! The analytics domain: validated types and pure rules. No framework, no I/O.

pub mod channel;
pub mod client;
pub mod event;
pub mod ingest;
pub mod limits;
pub mod page;
pub mod recorder;
pub mod site;
pub mod visit;
pub mod visitor;

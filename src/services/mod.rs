//! Use cases between the edges (HTTP, CLI, jobs) and the ports: each service owns its rules'
//! orchestration, its hop off the async runtime and its error enum.

pub mod reports;

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

/// Declares an adapter's `conformance` test module: one test per named suite of `conformance`, each
/// run on the adapters the given constructor makes, e.g.
/// `crate::conformance_tests!(goal_repository: MemoryGoals::default);`, or with one constructor for
/// several suites, `crate::conformance_tests!(in_memory => user_store, token_store);` (the adapter
/// module's names are in scope).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr => $($suite:ident),+ $(,)?) => {
        $crate::conformance_tests!($($suite: $make),+);
    };
    ($($suite:ident: $make:expr),+ $(,)?) => {
        #[cfg(test)]
        mod conformance {
            #[allow(unused_imports)]
            use super::*;

            $(
                #[test]
                fn $suite() {
                    $crate::ports::conformance::$suite($make);
                }
            )+
        }
    };
}

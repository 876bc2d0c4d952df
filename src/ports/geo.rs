//! Client IP -> location.

use std::net::IpAddr;

use crate::domain::event::Location;

/// Looks up where an IP address is; unknown parts stay `None`.
pub trait GeoLookup: Send + Sync {
    fn locate(&self, ip: IpAddr) -> Location;
}

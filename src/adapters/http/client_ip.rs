//! The client's IP: the socket peer, unless the peer is a configured trusted proxy, in which
//! case the forwarding headers name the client. Default: no proxy is trusted (headers ignored).

use std::net::IpAddr;

use ipnet::IpNet;
use poem::http::HeaderMap;

/// The client of an `/api` call that a follower passed on, as the follower saw it; set on the
/// request by the cluster edge only for calls carrying the cluster secret.
#[derive(Debug, Clone, Copy)]
pub struct ForwardedClient(pub IpAddr);

/// Proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    /// Parses `10.0.0.0/8,192.168.1.1` style lists.
    pub fn parse(list: &[String]) -> Result<Self, String> {
        list.iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("invalid trusted proxy {s:?}: use an IP or CIDR"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client address for a request from `peer`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        // X-Forwarded-For: walk from the right, skipping our own proxies; the first untrusted hop is the client.
        let mut hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| parse_ip(s.trim()))
            .collect();
        if hops.is_empty() {
            hops = headers
                .get_all("forwarded")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|elem| {
                    elem.split(';').find_map(|pair| {
                        let (k, v) = pair.trim().split_once('=')?;
                        k.eq_ignore_ascii_case("for").then(|| parse_ip(v.trim().trim_matches('"'))).flatten()
                    })
                })
                .collect();
        }
        if let Some(ip) = hops.iter().rev().find(|ip| !self.trusts(**ip)) {
            return *ip;
        }
        if let Some(first) = hops.first() {
            return *first;
        }
        headers.get("x-real-ip").and_then(|v| v.to_str().ok()).and_then(|s| parse_ip(s.trim())).unwrap_or(peer)
    }
}

/// Accepts `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `::1`.
fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Ok(sock) = s.parse::<std::net::SocketAddr>() {
        return Some(sock.ip());
    }
    s.strip_prefix('[').and_then(|r| r.split(']').next()).and_then(|r| r.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn untrusted_peers_cannot_spoof() {
        let none = TrustedProxies::default();
        let peer: IpAddr = "198.51.100.1".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-real-ip", "2.2.2.2")]);
        assert_eq!(none.client_ip(peer, &h), peer);
    }

    #[test]
    fn trusted_proxy_chain_yields_first_untrusted_hop() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8".into(), "192.168.1.1".into()]).unwrap();
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.7")]);
        assert_eq!(
            trusted.client_ip(peer, &h),
            "203.0.113.9".parse::<IpAddr>().unwrap(),
            "a client-supplied first entry is not believed"
        );
        let f = headers(&[("forwarded", "for=\"[2001:db8::1]:4711\";proto=https")]);
        assert_eq!(trusted.client_ip(peer, &f), "2001:db8::1".parse::<IpAddr>().unwrap());
        let r = headers(&[("x-real-ip", "203.0.113.10")]);
        assert_eq!(trusted.client_ip(peer, &r), "203.0.113.10".parse::<IpAddr>().unwrap());
        assert_eq!(trusted.client_ip(peer, &HeaderMap::new()), peer);
        assert!(TrustedProxies::parse(&["nonsense".into()]).is_err());
    }
}

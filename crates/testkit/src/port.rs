//! Picking free loopback ports.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};

use crate::{Error, Result};

/// A port the kernel considers free on 127.0.0.1 right now.
pub(crate) fn free_port(what: &'static str) -> Result<u16> {
    for _ in 0..20 {
        if let Ok(listener) = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
            && let Ok(addr) = listener.local_addr()
        {
            return Ok(addr.port());
        }
    }
    Err(Error::NoFreePort(what))
}

/// A free port `p` at or below 55535 whose cluster bus port `p + 10000` is
/// free too (Redis refuses cluster mode when the bus port would overflow).
pub(crate) fn free_cluster_port(taken: &[u16]) -> Result<u16> {
    const LOW: u16 = 20_000;
    const HIGH: u16 = 55_535;
    for _ in 0..500 {
        let port = LOW + (random_u64() % u64::from(HIGH - LOW)) as u16;
        if taken
            .iter()
            .any(|&t| t == port || t + 10_000 == port || port + 10_000 == t)
        {
            continue;
        }
        if bindable(port) && bindable(port + 10_000) {
            return Ok(port);
        }
    }
    Err(Error::NoFreePort(
        "a Redis Cluster node (port and port + 10000)",
    ))
}

fn bindable(port: u16) -> bool {
    TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).is_ok()
}

fn random_u64() -> u64 {
    // RandomState is seeded per process and per instance: good enough to
    // spread concurrent harnesses over the port range.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}

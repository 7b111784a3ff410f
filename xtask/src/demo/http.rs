//! A minimal HTTP/1.0 GET for the demo's own checks (readiness, `/stats`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// `GET path` on `addr`; returns the status and the body.
pub(crate) fn get(addr: &str, path: &str) -> Result<(u16, String)> {
    request(addr, "GET", path)
}

/// `method path` (no body) on `addr`; returns the status and the body.
pub(crate) fn request(addr: &str, method: &str, path: &str) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        bail!("{method} {path}: no HTTP response");
    };
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status")?;
    Ok((status, body.to_string()))
}

/// `GET path` as JSON, which must answer 200.
pub(crate) fn get_json(addr: &str, path: &str) -> Result<serde_json::Value> {
    let (status, body) = get(addr, path)?;
    if status != 200 {
        bail!("GET {path} answered {status}");
    }
    serde_json::from_str(&body).with_context(|| format!("GET {path}: not JSON"))
}

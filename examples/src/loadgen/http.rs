//! One keep-alive HTTP/1.1 connection per worker, over hyper's client
//! connection API (no pool in the way of the measurement).

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Where the requests go.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    addr: String,
    host: String,
}

impl Target {
    /// `http://host:port` (a trailing path is ignored).
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let Some(rest) = url.strip_prefix("http://") else {
            bail!("--url must start with http:// (got {url})")
        };
        let authority = rest.split('/').next().unwrap_or(rest);
        if authority.is_empty() {
            bail!("--url has no host: {url}");
        }
        let addr = if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        Ok(Self {
            addr,
            host: authority.to_string(),
        })
    }
}

async fn connect(target: &Target) -> Result<SendRequest<Empty<Bytes>>> {
    let stream = TcpStream::connect(&target.addr)
        .await
        .with_context(|| format!("connecting to {}", target.addr))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// `GET path`, reading the whole body; returns the status. Opens the
/// connection when there is none.
pub(crate) async fn get(
    target: &Target,
    connection: &mut Option<SendRequest<Empty<Bytes>>>,
    path: &str,
) -> Result<u16> {
    let sender = match connection {
        Some(sender) => sender,
        None => connection.insert(connect(target).await?),
    };
    sender.ready().await?;
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, &target.host)
        .body(Empty::new())?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    response.into_body().collect().await?;
    Ok(status)
}

//! A TCP proxy in front of the test server that holds each new connection
//! until the test lets it through: connecting then takes exactly as long
//! as the test decides (with tokio's clock paused, to the nanosecond).

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

pub struct GatedProxy {
    port: u16,
    arrived: Arc<Semaphore>,
    gate: Arc<Semaphore>,
    config: tokio_postgres::Config,
    task: tokio::task::JoinHandle<()>,
}

impl GatedProxy {
    /// A proxy to the server of `DATABASE_URL` (which must be on TCP).
    pub async fn start() -> Self {
        let config: tokio_postgres::Config = super::url().parse().unwrap();
        let upstream = match (&config.get_hosts()[0], config.get_ports().first()) {
            (tokio_postgres::config::Host::Tcp(host), port) => {
                format!("{host}:{}", port.copied().unwrap_or(5432))
            }
            #[allow(unreachable_patterns)]
            _ => panic!("the gated proxy needs a TCP DATABASE_URL"),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let arrived = Arc::new(Semaphore::new(0));
        let gate = Arc::new(Semaphore::new(0));
        let task = tokio::spawn({
            let (arrived, gate) = (Arc::clone(&arrived), Arc::clone(&gate));
            async move {
                loop {
                    let Ok((client, _)) = listener.accept().await else {
                        return;
                    };
                    let (arrived, gate, upstream) =
                        (Arc::clone(&arrived), Arc::clone(&gate), upstream.clone());
                    tokio::spawn(async move {
                        arrived.add_permits(1);
                        gate.acquire().await.unwrap().forget();
                        pipe(client, &upstream).await;
                    });
                }
            }
        });
        Self {
            port,
            arrived,
            gate,
            config,
            task,
        }
    }

    /// A key=value connection string to the server through the proxy.
    pub fn url(&self) -> String {
        let c = &self.config;
        let mut url = format!("host=127.0.0.1 port={}", self.port);
        if let Some(user) = c.get_user() {
            url.push_str(&format!(" user='{user}'"));
        }
        if let Some(db) = c.get_dbname() {
            url.push_str(&format!(" dbname='{db}'"));
        }
        if let Some(password) = c.get_password() {
            let password = String::from_utf8_lossy(password)
                .replace('\\', "\\\\")
                .replace('\'', "\\'");
            url.push_str(&format!(" password='{password}'"));
        }
        url
    }

    /// Returns once a connection has arrived and waits at the gate.
    pub async fn wait_for_connection(&self) {
        self.arrived.acquire().await.unwrap().forget();
    }

    /// Lets `n` waiting (or future) connections through.
    pub fn let_through(&self, n: usize) {
        self.gate.add_permits(n);
    }
}

impl Drop for GatedProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pipe(mut client: TcpStream, upstream: &str) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

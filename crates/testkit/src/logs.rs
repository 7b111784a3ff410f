//! Captured logs: what a `tracing` fmt subscriber writes, kept in memory so
//! a test can assert on it (a message was logged; a secret was not).

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// A shared buffer a fmt subscriber writes into.
#[derive(Debug, Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// A fmt subscriber (no colours) writing events up to `level` here.
    pub fn subscriber(
        &self,
        level: tracing::Level,
    ) -> impl tracing::Subscriber + Send + Sync + 'static {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(level)
            .finish()
    }

    /// Makes [`subscriber`](Self::subscriber) at every level the default
    /// for this thread until the guard drops.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(self.subscriber(tracing::Level::TRACE))
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_subscriber_writes_is_read_back() {
        let captured = Captured::default();
        {
            let _guard = captured.install();
            tracing::info!(answer = 42, "logged");
        }
        tracing::info!("after the guard: not captured");
        let text = captured.text();
        assert!(
            text.contains("logged") && text.contains("answer=42"),
            "{text}"
        );
        assert!(!text.contains("after the guard"), "{text}");
    }
}

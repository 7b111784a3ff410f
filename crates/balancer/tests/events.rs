//! `tracing` events on ejection and re-admission.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use perfect21_balancer::{ManualClock, RoundRobin};
use support::{builder, call, ms, secs};

/// Collects what the fmt subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn ejection_probation_and_readmission_are_traced() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let captured = captured.clone();
            move || captured.clone()
        })
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let clock = ManualClock::new();
        let balancer = builder(RoundRobin::new(), &["a"], &clock)
            .consecutive_failures(1)
            .panic_threshold_percent(0)
            .build()
            .unwrap();
        call(&balancer, &clock, ms(1), |_| true);
        clock.advance(secs(30));
        call(&balancer, &clock, ms(1), |_| false);
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].contains("WARN") && lines[0].contains("endpoint ejected"),
        "{text}"
    );
    assert!(
        lines[0].contains("endpoint=\"a\"") && lines[0].contains("30s"),
        "{text}"
    );
    assert!(lines[1].contains("on probation"), "{text}");
    assert!(lines[2].contains("re-admitted"), "{text}");
    assert!(
        lines.iter().all(|l| l.contains("perfect21_balancer")),
        "{text}"
    );
}

//! `tracing` events on ejection and re-admission.

mod support;

use perfect21_testkit::logs::Captured;

use perfect21_balancer::{ManualClock, RoundRobin};
use support::{builder, call, ms, secs};

#[test]
fn ejection_probation_and_readmission_are_traced() {
    let captured = Captured::default();
    let subscriber = captured.subscriber(tracing::Level::INFO);
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
    let text = captured.text();
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

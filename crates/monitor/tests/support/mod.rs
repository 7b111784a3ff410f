//! What the integration tests share.
#![allow(dead_code, unreachable_pub)]

use perfect21_monitor::{AlertEvent, AlertState, SeriesKey, Severity};

/// A firing critical CPU alert, as a sink receives one.
pub fn event() -> AlertEvent {
    AlertEvent {
        rule: "high_cpu".into(),
        series: SeriesKey::plain("cpu_usage_percent"),
        state: AlertState::Firing,
        severity: Severity::Critical,
        value: 97.5,
        threshold: 96.0,
        direction: perfect21_monitor::Direction::Above,
        active_seconds: 60.0,
        timestamp: 1_800_000_000.0,
        absent: false,
    }
}

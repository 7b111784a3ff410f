//! The optional active health check.

/// Probes an ejected endpoint (the library does not pick a client: you do
/// the HTTP `GET /health`, the `SELECT 1`, …). Called by
/// [`Balancer::run_health_checks`](crate::Balancer::run_health_checks),
/// which you run from your own timer.
///
/// Any `Fn(&E) -> bool + Send + Sync` closure is a health check.
pub trait HealthCheck<E>: Send + Sync + 'static {
    /// Whether `endpoint` looks healthy. A panic counts as unhealthy.
    fn check(&self, endpoint: &E) -> bool;
}

impl<E, F> HealthCheck<E> for F
where
    F: Fn(&E) -> bool + Send + Sync + 'static,
{
    fn check(&self, endpoint: &E) -> bool {
        self(endpoint)
    }
}

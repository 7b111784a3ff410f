//! Invalid configuration is refused at build(), naming the option; misuse
//! of the set is an error, not a panic.

use std::time::Duration;

use perfect21_balancer::{Balancer, Error, RoundRobin};

fn field(result: Result<Balancer<&'static str>, Error>) -> &'static str {
    match result {
        Err(Error::InvalidConfig { field, .. }) => field,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn each_out_of_range_option_is_named() {
    let b = || Balancer::<&'static str>::builder().endpoint("a");
    assert_eq!(
        field(b().consecutive_failures(0).build()),
        "consecutive_failures"
    );
    assert_eq!(
        field(b().base_ejection_time(Duration::ZERO).build()),
        "base_ejection_time"
    );
    assert_eq!(
        field(
            b().base_ejection_time(Duration::from_secs(60))
                .max_ejection_time(Duration::from_secs(59))
                .build()
        ),
        "max_ejection_time"
    );
    assert_eq!(
        field(b().max_ejection_percent(101).build()),
        "max_ejection_percent"
    );
    assert_eq!(
        field(b().panic_threshold_percent(101).build()),
        "panic_threshold_percent"
    );
    assert_eq!(
        field(b().default_rtt(Duration::ZERO).build()),
        "default_rtt"
    );
    assert_eq!(field(b().ewma_decay(Duration::ZERO).build()), "ewma_decay");
    assert_eq!(
        field(b().weighted_endpoint("b", 0).build()),
        "weighted_endpoint"
    );
    let message = b()
        .max_ejection_percent(101)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("max_ejection_percent") && message.contains("0 to 100"),
        "{message}"
    );
}

#[test]
fn duplicate_endpoints_are_refused() {
    let result = Balancer::builder().endpoints(["a", "a"]).build();
    assert_eq!(result.unwrap_err(), Error::DuplicateEndpoint);
    let balancer = Balancer::builder().endpoint("a").build().unwrap();
    assert_eq!(balancer.add("a").unwrap_err(), Error::DuplicateEndpoint);
}

#[test]
fn an_empty_set_is_an_error_not_a_panic() {
    let balancer = Balancer::<&'static str>::builder()
        .strategy(RoundRobin::new())
        .build()
        .unwrap();
    assert!(balancer.is_empty());
    assert_eq!(balancer.pick().unwrap_err(), Error::NoEndpoints);
    assert_eq!(balancer.pick_with_key(&1).unwrap_err(), Error::NoEndpoints);
    balancer.add("a").unwrap();
    assert_eq!(*balancer.pick().unwrap(), "a");
    balancer.remove(&"a").unwrap();
    assert_eq!(balancer.pick().unwrap_err(), Error::NoEndpoints);
}

#[test]
fn unknown_endpoints_and_zero_weights_are_errors() {
    let balancer = Balancer::builder().endpoint("a").build().unwrap();
    assert_eq!(balancer.remove(&"b").unwrap_err(), Error::UnknownEndpoint);
    assert_eq!(
        balancer.set_weight(&"b", 2).unwrap_err(),
        Error::UnknownEndpoint
    );
    assert_eq!(
        balancer.set_weight(&"a", 0).unwrap_err(),
        Error::InvalidWeight
    );
    assert_eq!(
        balancer.add_weighted("c", 0).unwrap_err(),
        Error::InvalidWeight
    );
    balancer.set_weight(&"a", 7).unwrap();
    assert_eq!(balancer.stats().endpoints[0].weight, 7);
}

#[derive(Debug)]
struct OutOfRange;

impl perfect21_balancer::Strategy for OutOfRange {
    fn pick(&self, ctx: &perfect21_balancer::PickContext<'_>) -> Option<usize> {
        Some(ctx.len() + 5)
    }
}

#[test]
fn a_strategy_returning_a_bad_index_gets_an_error_not_a_panic() {
    let balancer = Balancer::builder()
        .strategy(OutOfRange)
        .endpoints(["a", "b"])
        .build()
        .unwrap();
    assert_eq!(balancer.pick().unwrap_err(), Error::NoAvailableEndpoint);
}

//! Invalid options are refused at `build()`, naming the option and its
//! allowed range; the edges of every range are accepted.

use std::time::Duration;

use perfect21_batch::{Batcher, ConfigError};

fn builder() -> perfect21_batch::BatcherBuilder<u8, u8, ()> {
    Batcher::builder(|items: Vec<u8>| async move { Ok(items) })
}

fn refused(result: Result<Batcher<u8, u8, ()>, ConfigError>) -> (&'static str, String) {
    match result {
        Err(ConfigError::OutOfRange { field, allowed, .. }) => (field, allowed.to_string()),
        other => panic!("expected OutOfRange, got {other:?}"),
    }
}

#[tokio::test]
async fn every_option_out_of_range_is_refused_by_name() {
    let cases = [
        (
            refused(builder().max_batch_size(0).build()),
            "max_batch_size",
        ),
        (
            refused(builder().max_batch_size((1 << 20) + 1).build()),
            "max_batch_size",
        ),
        (
            refused(builder().max_concurrent_batches(0).build()),
            "max_concurrent_batches",
        ),
        (
            refused(builder().max_concurrent_batches(65_537).build()),
            "max_concurrent_batches",
        ),
        (
            refused(builder().queue_capacity(0).build()),
            "queue_capacity",
        ),
        (
            refused(builder().queue_capacity((1 << 30) + 1).build()),
            "queue_capacity",
        ),
        (
            refused(builder().max_wait(Duration::from_secs(3601)).build()),
            "max_wait",
        ),
        (
            refused(builder().batch_timeout(Duration::ZERO).build()),
            "batch_timeout",
        ),
        (
            refused(builder().batch_timeout(Duration::from_secs(86_401)).build()),
            "batch_timeout",
        ),
    ];
    for ((field, allowed), expected) in cases {
        assert_eq!(field, expected);
        assert!(!allowed.is_empty());
    }
}

#[tokio::test]
async fn the_message_names_the_field_value_and_range() {
    let error = builder().max_batch_size(0).build().unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid `max_batch_size`: 0 (allowed: 1 ..= 1048576)"
    );
}

#[tokio::test]
async fn the_edges_of_every_range_are_accepted() {
    builder()
        .max_batch_size(1)
        .max_concurrent_batches(1)
        .queue_capacity(1)
        .max_wait(Duration::ZERO)
        .batch_timeout(Duration::from_nanos(1))
        .build()
        .unwrap();
    builder()
        .max_batch_size(1 << 20)
        .max_concurrent_batches(65_536)
        .queue_capacity(1 << 30)
        .max_wait(Duration::from_secs(3600))
        .batch_timeout(Duration::from_secs(86_400))
        .build()
        .unwrap();
}

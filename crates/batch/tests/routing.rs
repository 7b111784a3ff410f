//! Each caller gets its own output: output `i` of a batch answers input
//! `i`, whatever order the batches finish in.

mod support;

use std::time::Duration;

use perfect21_batch::{Batcher, FlushPolicy};
use support::Seen;

#[tokio::test(start_paused = true)]
async fn outputs_reach_their_own_callers_when_batches_finish_out_of_order() {
    let seen = Seen::default();
    let finished = Seen::default();
    let recorder = seen.clone();
    let finish_recorder = finished.clone();
    // Each batch sleeps for a time that depends on its items, so later
    // batches often finish first; outputs carry their input.
    let batcher = Batcher::builder(move |items: Vec<u64>| {
        recorder.record(&items);
        let finish_recorder = finish_recorder.clone();
        async move {
            let delay = items.iter().map(|x| x * 7919 % 13).sum::<u64>() % 17;
            tokio::time::sleep(Duration::from_millis(delay)).await;
            finish_recorder.record(&items);
            Ok::<_, String>(items.iter().map(|x| format!("answer to {x}")).collect())
        }
    })
    .max_batch_size(5)
    .max_concurrent_batches(8)
    .flush_policy(FlushPolicy::Fixed)
    .max_wait(Duration::from_millis(2))
    .build()
    .unwrap();

    let tasks: Vec<_> = (0..500u64)
        .map(|i| {
            let batcher = batcher.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_micros(i * 37 % 3000)).await;
                (i, batcher.submit(i).await)
            })
        })
        .collect();
    for task in tasks {
        let (i, output) = task.await.unwrap();
        assert_eq!(output, Ok(format!("answer to {i}")));
    }
    let mut items = seen.items();
    items.sort_unstable();
    assert_eq!(items, (0..500).collect::<Vec<_>>(), "each item sent once");
    assert!(seen.batches().len() >= 100);
    assert_ne!(
        seen.batches(),
        finished.batches(),
        "batches finished in another order than they were dispatched"
    );
}

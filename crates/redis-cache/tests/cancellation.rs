//! Cancellation safety: futures dropped mid-flight never leave a reply for
//! the next caller (the crosstalk of redis-rs #489 and deadpool #97).

mod support;

use std::time::Duration;

use futures_util::FutureExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_futures_cause_no_crosstalk() {
    let cache = support::cache("xtalk").await;
    let items: Vec<(String, String)> = (0..200)
        .map(|i| (format!("k{i}"), format!("value-of-k{i}")))
        .collect();
    cache.set_many(&items, None).await.unwrap();

    let mut tasks = Vec::new();
    for t in 0..8usize {
        let cache = cache.clone();
        tasks.push(tokio::spawn(async move {
            let mut checked = 0u32;
            for round in 0..400usize {
                let i = (t * 31 + round * 7) % 200;
                let key = format!("k{i}");
                // Start a request and drop it after at most one poll, or
                // after a timeout shorter than a round trip, in turns.
                let dropped = cache.get::<String>(&key);
                if round % 2 == 0 {
                    let _ = dropped.now_or_never();
                } else {
                    let _ = tokio::time::timeout(Duration::from_micros(20), dropped).await;
                }
                let many_keys = [format!("k{}", (i + 1) % 200), format!("k{}", (i + 2) % 200)];
                if round % 3 == 0 {
                    let _ = cache.get_many::<String, _>(&many_keys).now_or_never();
                }
                // Every completed reply must be the one asked for.
                let j = (i + 5) % 200;
                let got: Option<String> = cache.get(&format!("k{j}")).await.unwrap();
                assert_eq!(got.as_deref(), Some(format!("value-of-k{j}").as_str()));
                let many: Vec<Option<String>> = cache.get_many(&many_keys).await.unwrap();
                for (k, v) in many_keys.iter().zip(many) {
                    assert_eq!(v.unwrap(), format!("value-of-{k}"));
                }
                checked += 1;
            }
            checked
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, 8 * 400);
    assert_eq!(cache.stats().decode_errors, 0);
    assert_eq!(cache.stats().errors, 0);
}

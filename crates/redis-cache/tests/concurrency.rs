//! Exact totals under many concurrent tasks.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_are_exact_under_concurrency() {
    let cache = support::cache("conc").await;
    let items: Vec<(String, u32)> = (0..50).map(|i| (format!("k{i}"), i)).collect();
    cache.set_many(&items, None).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..64u32 {
        let cache = cache.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..100u32 {
                // Keys k0..k99: half exist.
                let key = format!("k{}", (t + i) % 100);
                let v: Option<u32> = cache.get(&key).await.unwrap();
                assert_eq!(v.is_some(), (t + i) % 100 < 50);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let s = cache.stats();
    assert_eq!(s.hits + s.misses, 6400);
    assert_eq!(s.hits, 3200);
    assert_eq!(s.sets, 50);
    assert_eq!(
        s.latency_of(perfect21_redis_cache::CommandFamily::Read)
            .unwrap()
            .count,
        6400
    );
}

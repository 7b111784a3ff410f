//! The cache's hits and misses equal the server's own keyspace_hits and
//! keyspace_misses deltas for a scripted workload (private server: no other
//! client moves its counters).

mod support;

use perfect21_redis_cache::RedisCache;
use perfect21_testkit::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hits_and_misses_match_the_server() {
    let server = RedisServer::start().expect("start a private redis-server");
    let cache = RedisCache::builder()
        .url(server.url())
        .namespace("oracle")
        .fail_open(false)
        .build()
        .await
        .unwrap();
    let before = cache.server_stats().await.unwrap();

    // A deterministic workload of reads, writes, batches, deletes and loads
    // from several tasks at once.
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let cache = cache.clone();
        tasks.push(tokio::spawn(async move {
            let mut state = t.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            for _ in 0..300 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let key = format!("k{}", state % 64);
                match state % 7 {
                    0..=2 => {
                        let _: Option<u64> = cache.get(&key).await.unwrap();
                    }
                    3 => cache.set(&key, &state, None).await.unwrap(),
                    4 => {
                        let keys: Vec<String> =
                            (0..10).map(|i| format!("k{}", (state + i) % 64)).collect();
                        let _: Vec<Option<u64>> = cache.get_many(&keys).await.unwrap();
                    }
                    5 => {
                        cache.delete(&key).await.unwrap();
                    }
                    _ => {
                        let _: u64 = cache
                            .get_or_set(&key, None, move || async move {
                                Ok::<_, std::io::Error>(state)
                            })
                            .await
                            .unwrap();
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let after = cache.server_stats().await.unwrap();
    let ours = cache.stats();
    assert!(ours.hits > 100 && ours.misses > 100, "{ours:?}");
    assert_eq!(ours.hits, after.keyspace_hits - before.keyspace_hits);
    assert_eq!(ours.misses, after.keyspace_misses - before.keyspace_misses);
    assert_eq!((ours.errors, ours.timeouts, ours.decode_errors), (0, 0, 0));
}

//! Cache-aside over Redis: a hot key is loaded once however many requests
//! miss it together, and the stats say exactly what happened.
//!
//! Needs a Redis server: `REDIS_URL=redis://127.0.0.1:6379 cargo run -p
//! perfect21-redis-cache --example cache_aside` (or `cargo xtask services`
//! for a throwaway one).
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use perfect21_redis_cache::{KeyBuilder, RedisCache};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Profile {
    id: u64,
    name: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url =
        std::env::var("REDIS_URL").map_err(|_| "set REDIS_URL (or run `cargo xtask services`)")?;
    let cache = Arc::new(
        RedisCache::builder()
            .url(url)
            .namespace(format!("example-{}", std::process::id()))
            .default_ttl(Duration::from_secs(60))
            .build()
            .await?,
    );

    // 100 requests for the same cold profile at once: one database query.
    let queries = Arc::new(AtomicU64::new(0));
    let key = KeyBuilder::new().version(1).part("profile").part(7).build();
    let requests: Vec<_> = (0..100)
        .map(|_| {
            let (cache, key, queries) = (Arc::clone(&cache), key.clone(), Arc::clone(&queries));
            tokio::spawn(async move {
                cache
                    .get_or_set(&key, None, move || async move {
                        queries.fetch_add(1, Ordering::Relaxed); // SELECT … WHERE id = 7
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, std::io::Error>(Profile {
                            id: 7,
                            name: "Grace".into(),
                        })
                    })
                    .await
            })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await??.name, "Grace");
    }
    assert_eq!(
        queries.load(Ordering::Relaxed),
        1,
        "single-flight: one load"
    );

    // Later reads are Redis hits; many keys at once are one MGET.
    cache
        .set_many(
            &[(
                "profile:8",
                Profile {
                    id: 8,
                    name: "Alan".into(),
                },
            )],
            None,
        )
        .await?;
    let found: Vec<Option<Profile>> = cache
        .get_many(&[key.as_str(), "profile:8", "profile:9"])
        .await?;
    assert_eq!(found.iter().filter(|p| p.is_some()).count(), 2);

    let stats = cache.stats();
    println!(
        "hits {} · misses {} · loader runs {} · single-flight joins {} · hit ratio {:.2}",
        stats.hits,
        stats.misses,
        stats.loader_runs,
        stats.singleflight_joins,
        stats.hit_ratio()
    );
    let server = cache.server_stats().await?;
    println!(
        "server: keyspace hits {} · misses {} · used memory {} B",
        server.keyspace_hits, server.keyspace_misses, server.used_memory
    );
    let removed = cache.clear_namespace().await?; // SCAN + UNLINK, never KEYS
    println!("cleared {removed} keys");
    assert_eq!(removed, 2);
    Ok(())
}

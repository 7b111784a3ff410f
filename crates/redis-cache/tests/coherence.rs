//! L1 coherence with every writer of the namespace: two instances with a
//! local tier, and a third writer that is plain `redis-cli` — the client
//! no instance knows about. Also: a lost tracking connection empties L1,
//! and staleness (write acknowledged → no instance serves the old value)
//! is measured and printed (the bench records it; tests assert behaviour).
#![cfg(feature = "local")]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use perfect21_redis_cache::RedisCache;

/// `redis-cli -u $REDIS_URL args…`, which must succeed: the write is
/// acknowledged when it returns.
fn redis_cli(args: &[&[u8]]) {
    use std::os::unix::ffi::OsStrExt;
    let mut command = Command::new("redis-cli");
    command.arg("-u").arg(perfect21_testkit::env::redis_url());
    for arg in args {
        command.arg(std::ffi::OsStr::from_bytes(arg));
    }
    let out = command
        .output()
        .expect("redis-cli (Debian package redis-tools) must be installed");
    assert!(
        out.status.success() && !out.stdout.starts_with(b"(error)"),
        "redis-cli {:?}: {}{}",
        args.iter()
            .map(|a| String::from_utf8_lossy(a))
            .collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The stored form of a `u32` under the default codec: JSON behind the
/// header byte (codec id 1), as another client would have to write it.
fn stored(value: u32) -> Vec<u8> {
    let mut bytes = vec![0x01];
    bytes.extend_from_slice(value.to_string().as_bytes());
    bytes
}

/// Reads `key` until it is served from L1 (so the instance holds it).
async fn hold_in_l1(cache: &RedisCache, key: &str, want: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let before = cache.stats().local_hits;
        let got = cache.get::<u32>(key).await.unwrap();
        if got == Some(want) && cache.stats().local_hits > before {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{key} never held in L1 as {want}"
        );
        tokio::task::yield_now().await;
    }
}

/// Reads `key` through every instance until all of them give `want`; the
/// time that took (bounded: 10 s, or the old value is stuck in L1).
async fn until_all_read(instances: &[&RedisCache], key: &str, want: Option<u32>) -> Duration {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(10);
    loop {
        let mut all = true;
        for cache in instances {
            all &= cache.get::<u32>(key).await.unwrap() == want;
        }
        if all {
            return started.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "{key}: an instance still serves a value other than {want:?} after 10 s"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_by_redis_cli_evict_every_instance_s_l1() {
    let namespace = support::unique_namespace("coherent");
    let (a, b) = (
        support::local_cache(&namespace).await,
        support::local_cache(&namespace).await,
    );
    let key = a.full_key("k");
    a.set("k", &1u32, None).await.unwrap();
    hold_in_l1(&a, "k", 1).await;
    hold_in_l1(&b, "k", 1).await;

    // Each kind of change by the third client reaches both instances.
    redis_cli(&[b"SET", key.as_bytes(), &stored(2)]);
    until_all_read(&[&a, &b], "k", Some(2)).await;
    hold_in_l1(&a, "k", 2).await;
    hold_in_l1(&b, "k", 2).await;
    redis_cli(&[b"DEL", key.as_bytes()]);
    until_all_read(&[&a, &b], "k", None).await;

    redis_cli(&[b"SET", key.as_bytes(), &stored(3)]);
    hold_in_l1(&a, "k", 3).await;
    redis_cli(&[b"PEXPIRE", key.as_bytes(), b"1"]);
    until_all_read(&[&a, &b], "k", None).await;
    assert!(a.stats().local_invalidations >= 4, "{:?}", a.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staleness_after_a_redis_cli_write_is_measured() {
    const ROUNDS: usize = 40;
    let namespace = support::unique_namespace("stale");
    let (a, b) = (
        support::local_cache(&namespace).await,
        support::local_cache(&namespace).await,
    );
    let key = a.full_key("k");
    let mut staleness = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS as u32 {
        redis_cli(&[b"SET", key.as_bytes(), &stored(round)]);
        hold_in_l1(&a, "k", round).await;
        hold_in_l1(&b, "k", round).await;
        redis_cli(&[b"SET", key.as_bytes(), &stored(round + 1000)]);
        // redis-cli has returned: the write is acknowledged.
        staleness.push(until_all_read(&[&a, &b], "k", Some(round + 1000)).await);
    }
    staleness.sort();
    eprintln!(
        "staleness after a redis-cli write, 2 instances, {ROUNDS} rounds: p50 {:?}, p99 {:?}, max {:?}",
        staleness[ROUNDS / 2],
        staleness[ROUNDS * 99 / 100],
        staleness[ROUNDS - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_tracking_connection_empties_l1_and_tracking_comes_back() {
    let namespace = support::unique_namespace("resync");
    let cache = support::local_cache(&namespace).await;
    cache.set("k", &1u32, None).await.unwrap();
    hold_in_l1(&cache, "k", 1).await;

    // Kill this instance's tracking connection (found by its client name).
    let mut admin = support::raw(&perfect21_testkit::env::redis_url()).await;
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut admin)
        .await
        .unwrap();
    let name = format!("name=perfect21-l1:{namespace} ");
    let id = list
        .lines()
        .find(|l| l.contains(&name))
        .and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("id=")))
        .expect("the tracking connection is in CLIENT LIST under its name")
        .to_owned();
    let _: () = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&id)
        .query_async(&mut admin)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache.stats().local_resyncs == 0 {
        assert!(
            Instant::now() < deadline,
            "the lost connection was never noticed"
        );
        tokio::task::yield_now().await;
    }
    let before = cache.stats();
    assert_eq!(cache.get::<u32>("k").await.unwrap(), Some(1));
    assert_eq!(
        cache.stats().local_hits,
        before.local_hits,
        "L1 was emptied when tracking was lost"
    );

    // Tracking comes back: L1 fills again, and another client's write
    // reaches it again.
    hold_in_l1(&cache, "k", 1).await;
    redis_cli(&[b"SET", cache.full_key("k").as_bytes(), &stored(2)]);
    until_all_read(&[&cache], "k", Some(2)).await;
}

#[tokio::test]
async fn a_fail_open_build_with_a_local_tier_starts_while_redis_is_down() {
    // Review finding: the tier's tracking connection made `build()` fail
    // although a fail-open cache never waits for the server.
    let down = "redis://127.0.0.1:1";
    let cache = RedisCache::builder()
        .url(down)
        .namespace("down")
        .local_tier(1 << 20, Duration::from_secs(60))
        .connect_timeout(Duration::from_millis(200))
        .command_timeout(Duration::from_millis(200))
        .build()
        .await
        .expect("fail-open: builds while Redis is down");
    assert_eq!(cache.get::<u32>("k").await.unwrap(), None);
    assert_eq!(cache.stats().local_hits, 0);
    assert!(
        RedisCache::builder()
            .url(down)
            .namespace("down")
            .local_tier(1 << 20, Duration::from_secs(60))
            .connect_timeout(Duration::from_millis(200))
            .fail_open(false)
            .build()
            .await
            .is_err(),
        "strict: tracking must be on before build() returns"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_tracking_task_is_gone_l1_is_emptied_and_never_filled_again() {
    // Review finding: a cache built in a runtime that is then shut down
    // keeps a tier whose tracking task died with it; L1 went on filling
    // with nothing left to invalidate it.
    let namespace = support::unique_namespace("orphan");
    let cache = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let cache = rt.block_on(async {
            let cache = support::local_cache(&namespace).await;
            cache.set("k", &1u32, None).await.unwrap();
            hold_in_l1(&cache, "k", 1).await;
            cache
        });
        drop(rt);
        cache
    })
    .join()
    .unwrap();
    let s = cache.stats();
    assert_eq!(s.local_resyncs, 1, "the task's end empties L1: {s:?}");
    // Its data connection died with that runtime too: the read fails or
    // misses, but it is never an L1 hit.
    let before = cache.stats().local_hits;
    let _ = cache.get::<u32>("k").await;
    assert_eq!(
        cache.stats().local_hits,
        before,
        "nothing is served from an L1 nobody invalidates"
    );
}

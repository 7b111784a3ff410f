//! `bounded_reads(true)`: Redis never sends a reader more than
//! `max_value_size + 1` bytes of one value, on every read path (`get`,
//! `get_many`, `get_or_set`, the local tier), whatever is stored.
//!
//! The RSS test is this binary's only large allocation on purpose: it reads
//! the process's peak RSS, which a large test beside it would disturb.

mod support;

use perfect21_redis_cache::RedisCache;

/// The default `max_value_size`.
const MAX_VALUE: usize = 16 << 20;

/// A value as the crate frames a JSON string (header byte 0x01, no
/// compression) whose whole stored form is `len` bytes.
fn stored_json_string(len: usize) -> Vec<u8> {
    assert!(len >= 3);
    let mut out = vec![0x01, b'"'];
    out.resize(len - 1, b'a');
    out.push(b'"');
    out
}

#[tokio::test]
async fn a_bounded_reader_never_receives_more_than_max_value_size_of_a_huge_plain_value() {
    let cache = support::builder("bounded-rss")
        .bounded_reads(true)
        .fail_open(false)
        .command_timeout(support::CORRECTNESS_TIMEOUT)
        .build()
        .await
        .unwrap();
    // Ten times the bound, not compressed: nothing to expand, so only the
    // reply itself can make a reader's memory grow.
    let huge = stored_json_string(10 * MAX_VALUE);
    support::store_raw(&cache, "huge", &huge).await;
    drop(huge);

    let before = support::reset_peak();
    let read = cache.get::<String>("huge").await.unwrap();
    let many = cache
        .get_many::<String, _>(&["huge", "huge"])
        .await
        .unwrap();
    let grown = support::peak_rss().saturating_sub(before);
    assert_eq!(read, None, "an oversize value reads as a miss");
    assert_eq!(many, vec![None, None]);
    assert_eq!(
        cache.stats().decode_errors,
        3,
        "each read counts it as a decode error"
    );
    assert!(
        grown <= 4 * MAX_VALUE,
        "reading grew the peak RSS by {} MiB, more than 4 × max_value_size",
        grown >> 20
    );
    cache.delete("huge").await.unwrap();
}

/// A small bound, so values on either side of it are cheap to store.
const SMALL: usize = 1024;

async fn small_cache(tag: &str, bounded: bool) -> RedisCache {
    support::builder(tag)
        .max_value_size(SMALL)
        .bounded_reads(bounded)
        .fail_open(false)
        .command_timeout(support::CORRECTNESS_TIMEOUT)
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_bound_is_the_same_on_every_read_path_bounded_or_not() {
    for bounded in [false, true] {
        let cache = small_cache("bounded-paths", bounded).await;
        let fits = stored_json_string(SMALL);
        let over = stored_json_string(SMALL + 1);
        support::store_raw(&cache, "fits", &fits).await;
        support::store_raw(&cache, "over", &over).await;
        let expect = "a".repeat(SMALL - 3);

        assert_eq!(
            cache.get::<String>("fits").await.unwrap().as_ref(),
            Some(&expect),
            "bounded {bounded}"
        );
        assert_eq!(
            cache.get::<String>("over").await.unwrap(),
            None,
            "bounded {bounded}"
        );
        let many: Vec<Option<String>> = cache.get_many(&["over", "fits", "absent"]).await.unwrap();
        assert_eq!(
            many,
            vec![None, Some(expect.clone()), None],
            "bounded {bounded}"
        );
        let stats = cache.stats();
        assert_eq!(
            (stats.hits, stats.misses, stats.decode_errors),
            (2, 1, 2),
            "bounded {bounded}"
        );

        // get_or_set reads through the same path: an oversize value is
        // loaded again and replaced.
        let loaded = cache
            .get_or_set("over", None, || async {
                Ok::<_, std::io::Error>("small".to_owned())
            })
            .await
            .unwrap();
        assert_eq!(loaded, "small");
        assert_eq!(
            cache.get::<String>("over").await.unwrap().as_deref(),
            Some("small")
        );
        cache.clear_namespace().await.unwrap();
    }
}

#[tokio::test]
async fn an_empty_value_reads_as_a_miss_when_bounded_and_a_decode_error_when_not() {
    for (bounded, misses, decode_errors) in [(false, 0, 1), (true, 1, 0)] {
        let cache = small_cache("bounded-empty", bounded).await;
        support::store_raw(&cache, "empty", b"").await;
        assert_eq!(cache.get::<String>("empty").await.unwrap(), None);
        let stats = cache.stats();
        assert_eq!(
            (stats.misses, stats.decode_errors),
            (misses, decode_errors),
            "bounded {bounded}"
        );
        cache.clear_namespace().await.unwrap();
    }
}

#[cfg(feature = "local")]
#[tokio::test]
async fn the_local_tier_reads_bounded_too() {
    let cache = support::builder("bounded-local")
        .max_value_size(SMALL)
        .bounded_reads(true)
        .local_tier(1 << 20, std::time::Duration::from_secs(3600))
        .fail_open(false)
        .command_timeout(support::CORRECTNESS_TIMEOUT)
        .build()
        .await
        .unwrap();
    support::store_raw(&cache, "over", &stored_json_string(SMALL + 1)).await;
    support::store_raw(&cache, "fits", &stored_json_string(SMALL)).await;
    assert_eq!(cache.get::<String>("over").await.unwrap(), None);
    let many: Vec<Option<String>> = cache.get_many(&["fits", "over", "absent"]).await.unwrap();
    assert_eq!(
        many.iter().map(Option::is_some).collect::<Vec<_>>(),
        [true, false, false]
    );
    assert_eq!(cache.stats().decode_errors, 2);
    // The value that fitted is now served from L1, the others are not.
    let again: Vec<Option<String>> = cache.get_many(&["fits", "over"]).await.unwrap();
    assert_eq!(
        again.iter().map(Option::is_some).collect::<Vec<_>>(),
        [true, false]
    );
    assert_eq!(cache.stats().local_hits, 1);
    assert_eq!(cache.stats().decode_errors, 3);
}

/// The same answers and counts for a key holding another type (a list
/// someone pushed into the namespace), bounded or not, with or without a
/// local tier: a batch reads it as absent (as `MGET` does), a single read
/// reports it (as `GET` does), and no other key of the batch is lost.
#[tokio::test]
async fn a_key_of_another_type_is_absent_in_a_batch_and_an_error_alone_on_every_path() {
    for (bounded, local) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut builder = support::builder("bounded-wrongtype")
            .bounded_reads(bounded)
            .fail_open(false)
            .command_timeout(support::CORRECTNESS_TIMEOUT);
        #[cfg(feature = "local")]
        if local {
            builder = builder.local_tier(1 << 20, std::time::Duration::from_secs(3600));
        }
        #[cfg(not(feature = "local"))]
        if local {
            continue;
        }
        let cache = builder.build().await.unwrap();
        let case = format!("bounded {bounded}, local {local}");
        cache.set("ok", &1u32, None).await.unwrap();
        let mut raw = support::raw(&perfect21_testkit::env::redis_url()).await;
        let _: () = redis::cmd("RPUSH")
            .arg(cache.full_key("list"))
            .arg("x")
            .query_async(&mut raw)
            .await
            .unwrap();
        let many: Vec<Option<u32>> = cache.get_many(&["ok", "list"]).await.unwrap();
        assert_eq!(many, vec![Some(1), None], "{case}");
        let s = cache.stats();
        assert_eq!((s.hits, s.misses, s.errors), (1, 1, 0), "{case}");
        let alone = cache.get::<u32>("list").await;
        assert!(
            matches!(alone, Err(perfect21_redis_cache::CacheError::Redis(ref m)) if m.contains("WRONGTYPE")),
            "{case}: {alone:?}"
        );
        assert_eq!(cache.stats().errors, 1, "{case}");
        cache.clear_namespace().await.unwrap();
    }
}

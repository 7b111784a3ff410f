//! Bytes read from Redis are untrusted: whatever a stored value claims or
//! expands to, a reader decodes at most `max_value_size` bytes of payload
//! and its memory stays bounded by a small multiple of that.
//!
//! The RSS test is this binary's only large allocation on purpose: it reads
//! the process's peak RSS, which a large test beside it would disturb.

mod support;

use perfect21_redis_cache::{CacheError, RedisCache};

/// The default `max_value_size`.
const MAX_VALUE: usize = 16 << 20;
/// What the bombs below expand to.
const GIB: usize = 1 << 30;

/// An LZ4 block that decompresses to `n` zero bytes: one literal zero, one
/// match of `n - 6` at offset 1 (its length spelt out in 255-byte
/// extension steps, about `n / 255` bytes), then the five closing literals
/// the format asks for.
fn lz4_zeros(n: usize) -> Vec<u8> {
    let mut block = vec![0x1f, 0x00, 0x01, 0x00];
    let mut rest = n - 6 - 4 - 15;
    while rest >= 255 {
        block.push(255);
        rest -= 255;
    }
    block.push(u8::try_from(rest).unwrap());
    block.extend_from_slice(&[0x50, 0, 0, 0, 0, 0]);
    block
}

/// `header ‖ claimed length ‖ payload`, as the crate frames a compressed
/// JSON value (codec id 1).
fn framed(header: u8, claimed: usize, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![header];
    out.extend_from_slice(&u32::try_from(claimed).unwrap().to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Reads `key` holding `bytes` and returns how much the peak RSS grew.
async fn read_growth(cache: &RedisCache, key: &str, bytes: &[u8]) -> usize {
    support::store_raw(cache, key, bytes).await;
    let before = support::reset_peak();
    let read = cache.get::<String>(key).await;
    let grown = support::peak_rss().saturating_sub(before);
    assert!(
        matches!(read, Ok(None)),
        "{key}: a value over the bound must read as a miss, got {:?}",
        read.map(|v| v.map(|s| format!("a string of {} bytes", s.len())))
    );
    grown
}

#[tokio::test]
async fn values_that_claim_or_expand_to_a_gib_stay_within_max_value_size() {
    let cache = support::cache("untrusted").await;
    let bomb = lz4_zeros(GIB);
    assert!(bomb.len() < MAX_VALUE, "the bomb itself is a legal size");
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        // Claims a GiB and really expands to one.
        ("lz4-claims-gib", framed(0x81, GIB, &bomb)),
        // Claims less than the bound but expands to a GiB.
        ("lz4-claims-1mib", framed(0x81, 1 << 20, &bomb)),
        // Claims the largest length the header can hold.
        ("lz4-claims-4gib", framed(0x81, u32::MAX as usize, &bomb)),
    ];
    #[cfg(feature = "zstd")]
    {
        let zstd_bomb = zstd_zeros(GIB);
        cases.push(("zstd-claims-gib", framed(0xa1, GIB, &zstd_bomb)));
        cases.push(("zstd-claims-1mib", framed(0xa1, 1 << 20, &zstd_bomb)));
    }
    // Not compressed, a payload one byte over the bound.
    let mut plain = vec![0x01, b'"'];
    plain.resize(MAX_VALUE + 1, b'a');
    plain.push(b'"');
    assert_eq!(plain.len() - 1, MAX_VALUE + 1);
    cases.push(("plain-over-bound", plain));

    let errors_before = cache.stats().decode_errors;
    for (key, bytes) in &cases {
        let grown = read_growth(&cache, key, bytes).await;
        assert!(
            grown <= 4 * MAX_VALUE,
            "{key}: reading grew the peak RSS by {} MiB, more than 4 × max_value_size",
            grown >> 20
        );
    }
    assert_eq!(
        cache.stats().decode_errors - errors_before,
        cases.len() as u64,
        "every case counts as a decode error"
    );
}

/// A zstd frame of `n` zero bytes, compressed in 1 MiB steps (the frame
/// is a few KiB; nothing of size `n` is ever held).
#[cfg(feature = "zstd")]
fn zstd_zeros(n: usize) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = zstd::stream::Encoder::new(Vec::new(), 1).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..n / chunk.len() {
        encoder.write_all(&chunk).unwrap();
    }
    encoder.finish().unwrap()
}

#[tokio::test]
async fn a_value_within_the_bound_but_larger_than_it_compresses_to_is_refused_when_written() {
    // Written: at most max_value_size decoded, so whatever is written reads back.
    let cache = support::builder("untrusted-write")
        .max_value_size(1 << 10)
        .compress_above(64)
        .fail_open(false)
        .build()
        .await
        .unwrap();
    let compressible = "a".repeat(4 << 10);
    let written = cache.set("k", &compressible, None).await;
    assert!(
        matches!(written, Err(CacheError::ValueTooLarge { .. })),
        "a payload over max_value_size is refused even when it compresses below it: {written:?}"
    );
    let fits = "a".repeat(900);
    cache.set("k", &fits, None).await.unwrap();
    assert_eq!(cache.get::<String>("k").await.unwrap(), Some(fits));
}

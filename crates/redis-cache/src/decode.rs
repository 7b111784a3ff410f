//! Reply slots into values: hit, miss and decode-error tallies added to
//! the shared counters once per call, corrupt values forgotten.

use serde::de::DeserializeOwned;

use crate::cache::RedisCache;
use crate::codec::{Codec, Times};
use crate::fetch::Lifetime;
use crate::l1::Fence;
use crate::stats::{Count, Counters};

impl<C: Codec> RedisCache<C> {
    /// Turns one reply slot into a value, counting hit, miss or decode
    /// error; a value fills L1 (for no longer than its `lifetime` in
    /// Redis) if `fence` (taken before the command was sent) still holds.
    pub(crate) async fn decode_found<T: DeserializeOwned>(
        &self,
        full_key: &str,
        (raw, lifetime): (Option<Vec<u8>>, Lifetime),
        fence: Option<Fence>,
    ) -> Option<T> {
        self.decode_found_fresh(full_key, (raw, lifetime), fence)
            .await
            .map(|(value, _)| value)
    }

    /// [`decode_found`](Self::decode_found) with the value's fresh-until
    /// time (Unix ms), where it was stored with one.
    pub(crate) async fn decode_found_fresh<T: DeserializeOwned>(
        &self,
        full_key: &str,
        (raw, lifetime): (Option<Vec<u8>>, Lifetime),
        fence: Option<Fence>,
    ) -> Option<(T, Times)> {
        let mut tally = Tally::default();
        let found = self.decode_raw(raw.as_deref(), &mut tally);
        tally.flush(&self.inner.counters);
        match found {
            Found::Value(value, times) => {
                if let Some(bytes) = &raw {
                    let now = std::time::Instant::now();
                    let lifetime =
                        lifetime.until_fresh_end(times.fresh_until, crate::refresh::now_ms(), now);
                    self.l1_fill(fence, full_key, bytes, lifetime);
                }
                Some((value, times))
            }
            Found::Missing => None,
            Found::Corrupt => {
                self.forget_corrupt(&[full_key.to_owned()]).await;
                None
            }
        }
    }

    /// Decodes one reply slot, tallying hit, miss, decode error and bytes
    /// (added to the shared counters once per call, not once per key).
    pub(crate) fn decode_raw<T: DeserializeOwned>(
        &self,
        raw: Option<&[u8]>,
        tally: &mut Tally,
    ) -> Found<T> {
        let Some(bytes) = raw else {
            tally.misses += 1;
            return Found::Missing;
        };
        tally.bytes_read += bytes.len() as u64;
        match self.inner.framing.decode_with(&self.inner.codec, bytes) {
            Ok((value, times)) => {
                tally.hits += 1;
                Found::Value(value, times)
            }
            Err(e) => {
                tally.decode_errors += 1;
                tracing::warn!(target: "perfect21.redis_cache", namespace = %self.inner.namespace, error = %e, "stored value does not decode; read as a miss");
                Found::Corrupt
            }
        }
    }

    /// After values failed to decode: removes them if so configured.
    pub(crate) async fn forget_corrupt(&self, full_keys: &[String]) {
        if self.inner.delete_corrupt && !full_keys.is_empty() {
            let _ = self.unlink(full_keys).await;
        }
    }
}

/// Per-call tallies of a read, added to the shared counters once.
#[derive(Default)]
pub(crate) struct Tally {
    hits: u64,
    misses: u64,
    decode_errors: u64,
    bytes_read: u64,
}

impl Tally {
    pub(crate) fn flush(&self, counters: &Counters) {
        counters.add(Count::Hits, self.hits);
        counters.add(Count::Misses, self.misses);
        counters.add(Count::DecodeErrors, self.decode_errors);
        counters.add(Count::BytesRead, self.bytes_read);
    }
}

/// One decoded reply slot.
pub(crate) enum Found<T> {
    /// A value, with its header times.
    Value(T, Times),
    /// The key does not exist.
    Missing,
    /// The value failed to decode.
    Corrupt,
}

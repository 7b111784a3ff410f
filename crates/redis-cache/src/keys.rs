//! Key construction: parts joined with `:`, a stable hash for structured
//! arguments, a length cap, and glob escaping for patterns.

use std::fmt::Write as _;

use serde::Serialize;

use crate::error::{CacheError, Result};

/// Escapes the glob characters of Redis `MATCH` patterns (`*`, `?`, `[`,
/// `]`, `\`) so `part` matches only itself.
///
/// ```
/// assert_eq!(perfect21_redis_cache::escape_glob("a*[b]"), r"a\*\[b\]");
/// ```
pub fn escape_glob(part: &str) -> String {
    let mut out = String::with_capacity(part.len() + 4);
    for c in part.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The stable hash of [`KeyBuilder::hashed`]: FNV-1a 128 over the bytes,
/// as 32 lowercase hex digits. Its definition is fixed, so a key is the
/// same in every process and every release.
pub fn stable_hash(bytes: &[u8]) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut hash = OFFSET;
    for &b in bytes {
        hash ^= u128::from(b);
        hash = hash.wrapping_mul(PRIME);
    }
    let mut out = String::with_capacity(32);
    let _ = write!(out, "{hash:032x}");
    out
}

/// Builds keys of the form `version:part:part…` (the cache adds its
/// namespace in front).
///
/// `:` and `%` inside a part are percent-encoded, so two different part
/// lists never give the same key. Structured arguments are hashed with
/// [`stable_hash`] over their canonical JSON form (object keys sorted). Keys longer than
/// [`max_len`](KeyBuilder::max_len) keep a prefix and end in the hash of
/// the whole key.
///
/// ```
/// use perfect21_redis_cache::KeyBuilder;
/// let key = KeyBuilder::new().version(2).part("user").part(42).build();
/// assert_eq!(key, "v2:user:42");
/// ```
#[derive(Debug, Clone, Default)]
pub struct KeyBuilder {
    key: String,
    /// Whether a part was added (an empty first part leaves `key` empty,
    /// and the next part still needs its separator).
    started: bool,
    max_len: Option<usize>,
}

impl KeyBuilder {
    /// An empty key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the schema version as `v{version}`, so a release that changes
    /// a value's shape reads none of the old values.
    pub fn version(self, version: u32) -> Self {
        self.raw(&format!("v{version}"))
    }

    /// Adds one part (its `Display` form, with `:` and `%` encoded).
    pub fn part(self, part: impl std::fmt::Display) -> Self {
        let text = part.to_string();
        let mut encoded = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                ':' => encoded.push_str("%3A"),
                '%' => encoded.push_str("%25"),
                c => encoded.push(c),
            }
        }
        self.raw(&encoded)
    }

    /// Adds the [`stable_hash`] of `args`' canonical JSON form (32 hex
    /// digits): JSON with every object's keys in sorted order, so a map
    /// argument (a `HashMap`, whose iteration order differs between
    /// processes and even between maps) gives the same key everywhere.
    /// Sequences keep their order: pass sets as `BTreeSet`, not `HashSet`.
    /// Arguments that JSON values cannot hold (integers beyond 64 bits)
    /// are hashed in their serialisation order instead.
    pub fn hashed<A: Serialize + ?Sized>(self, args: &A) -> Result<Self> {
        let json = match serde_json::to_value(args) {
            Ok(value) => {
                let mut json = Vec::new();
                write_canonical(&value, &mut json);
                json
            }
            Err(_) => serde_json::to_vec(args).map_err(|e| CacheError::Encode(e.to_string()))?,
        };
        Ok(self.raw(&stable_hash(&json)))
    }

    /// Caps the key's length in bytes (at least 40); longer keys become
    /// `prefix:hash` of at most this length.
    pub fn max_len(mut self, max_len: usize) -> Self {
        self.max_len = Some(max_len.max(40));
        self
    }

    fn raw(mut self, part: &str) -> Self {
        if self.started {
            self.key.push(':');
        }
        self.started = true;
        self.key.push_str(part);
        self
    }

    /// The key.
    pub fn build(self) -> String {
        match self.max_len {
            Some(max) if self.key.len() > max => {
                let hash = stable_hash(self.key.as_bytes());
                let mut cut = max - hash.len() - 1;
                while !self.key.is_char_boundary(cut) {
                    cut -= 1;
                }
                format!("{}:{hash}", &self.key[..cut])
            }
            _ => self.key,
        }
    }
}

/// `value` as JSON with the keys of every object sorted.
fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(&Value::String(key.clone()), out);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

/// A JSON scalar as `serde_json` writes it (writing into a `Vec` cannot
/// fail).
fn write_scalar(value: &serde_json::Value, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(out, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cannot_collide() {
        let a = KeyBuilder::new().part("a:b").part("c").build();
        let b = KeyBuilder::new().part("a").part("b:c").build();
        assert_ne!(a, b);
        assert_eq!(a, "a%3Ab:c");
    }

    #[test]
    fn integers_beyond_64_bits_still_hash() {
        // Review finding: the canonical form went through `Value`, which
        // holds no u128 above u64::MAX, and the key failed to build.
        let a = KeyBuilder::new().hashed(&(u128::MAX, "x")).unwrap().build();
        let b = KeyBuilder::new()
            .hashed(&(u128::MAX - 1, "x"))
            .unwrap()
            .build();
        assert_ne!(a, b);
    }

    #[test]
    fn empty_parts_cannot_collide() {
        // Found by the `redis_keys` fuzz target: an empty first part added
        // no separator, so ["", "a"] and ["a"] were both "a".
        let key = |parts: &[&str]| {
            parts
                .iter()
                .fold(KeyBuilder::new(), |b, p| b.part(p))
                .build()
        };
        assert_ne!(key(&["", "a"]), key(&["a"]));
        assert_ne!(key(&[""]), key(&["", ""]));
        assert_eq!(key(&["", "a"]), ":a");
    }

    #[test]
    fn hash_is_stable() {
        // Fixed vectors: changing these breaks every deployed key.
        assert_eq!(stable_hash(b""), "6c62272e07bb014262b821756295c58d");
        assert_eq!(stable_hash(b"a"), "d228cb696f1a8caf78912b704e4a8964");
        let k = KeyBuilder::new()
            .part("f")
            .hashed(&(1, "x"))
            .unwrap()
            .build();
        assert_eq!(k, format!("f:{}", stable_hash(br#"[1,"x"]"#)));
    }

    #[test]
    fn a_map_argument_hashes_the_same_whatever_its_iteration_order() {
        // Each HashMap has its own random iteration order: the JSON of two
        // equal maps differs, the key must not.
        let pairs: Vec<(String, u32)> = (0..16).map(|i| (format!("k{i}"), i)).collect();
        let keys: std::collections::HashSet<String> = (0..20)
            .map(|_| {
                let map: std::collections::HashMap<String, u32> = pairs.iter().cloned().collect();
                KeyBuilder::new().hashed(&("f", map)).unwrap().build()
            })
            .collect();
        assert_eq!(keys.len(), 1, "one key for equal maps: {keys:?}");
        // Nested objects too, and struct fields in any declaration order.
        #[derive(Serialize)]
        struct Ab {
            a: u32,
            b: std::collections::HashMap<String, u32>,
        }
        #[derive(Serialize)]
        struct Ba {
            b: std::collections::BTreeMap<String, u32>,
            a: u32,
        }
        let ab = Ab {
            a: 1,
            b: pairs.iter().cloned().collect(),
        };
        let ba = Ba {
            b: pairs.iter().cloned().collect(),
            a: 1,
        };
        assert_eq!(
            KeyBuilder::new().hashed(&ab).unwrap().build(),
            KeyBuilder::new().hashed(&ba).unwrap().build()
        );
    }

    #[test]
    fn long_keys_are_capped() {
        let long = "é".repeat(200);
        let a = KeyBuilder::new().part(&long).max_len(64).build();
        let b = KeyBuilder::new()
            .part(format!("{long}x"))
            .max_len(64)
            .build();
        assert!(a.len() <= 64 && b.len() <= 64);
        assert_ne!(a, b);
        let short = KeyBuilder::new().part("short").max_len(64).build();
        assert_eq!(short, "short");
    }

    #[test]
    fn escapes_globs() {
        assert_eq!(escape_glob(r"x\y?"), r"x\\y\?");
    }
}

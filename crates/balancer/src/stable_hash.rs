//! A hash that stays the same across processes, builds and Rust releases,
//! so every instance of a service sends a key to the same endpoint: 64-bit
//! FNV-1a over the bytes that `Hash` writes. (`std`'s `DefaultHasher` is
//! documented as free to change between Rust releases.) Integers are
//! written by `Hash` in native byte order, so the guarantee holds between
//! machines of the same endianness and pointer width.

use std::hash::{Hash, Hasher};

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a.
struct Fnv1a(u64);

impl Hasher for Fnv1a {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(PRIME);
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The stable hash of `key`.
pub(crate) fn stable_hash<K: Hash + ?Sized>(key: &K) -> u64 {
    let mut hasher = Fnv1a(OFFSET_BASIS);
    key.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_reference_values() {
        // The published FNV-1a 64 test vectors.
        let mut h = Fnv1a(OFFSET_BASIS);
        h.write(b"");
        assert_eq!(h.finish(), 0xcbf2_9ce4_8422_2325);
        let mut h = Fnv1a(OFFSET_BASIS);
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
        let mut h = Fnv1a(OFFSET_BASIS);
        h.write(b"foobar");
        assert_eq!(h.finish(), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn same_key_same_hash() {
        assert_eq!(
            stable_hash("user-42"),
            stable_hash(&String::from("user-42"))
        );
        assert_ne!(stable_hash("user-42"), stable_hash("user-43"));
    }
}

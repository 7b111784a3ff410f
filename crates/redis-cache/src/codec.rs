//! Value codecs and the one-byte header that frames every stored value.
//!
//! Only data formats: nothing here can deserialise into executable
//! behaviour (there is no pickle-like codec, and a [`Codec`] only ever sees
//! `serde` data).
//!
//! Every value is stored as `header ‖ payload`. The header byte is
//! `0b1000_0000` when the payload is LZ4-compressed (`0b1010_0000`:
//! zstd-compressed, feature `zstd`), ORed with `0b0100_0000` when a
//! fresh-until time follows (stale-while-revalidate and early refresh: a
//! `u64` of Unix milliseconds, little endian), ORed with `0b0001_0000`
//! when the time the value took to load follows that (early refresh: a
//! `u32` of milliseconds, little endian), ORed with the codec's
//! [`Codec::ID`] (1–15) in the low four bits. A compressed payload starts
//! with its uncompressed length (`u32`, little endian); a reader decodes no
//! payload longer than `max_value_size`, whatever that length claims. So values written with and without compression read back
//! alike, and a value written by another codec, or not by this crate at
//! all, is recognised as a decode error rather than misread.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{CacheError, Result};

/// A serialisation format for cached values.
///
/// Implement it to plug in another data format; keep [`ID`](Codec::ID)
/// unique among the codecs that write to the same keys.
pub trait Codec: Send + Sync + 'static {
    /// The codec's id in the header byte, 1–15.
    const ID: u8;
    /// Serialises `value`.
    fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, String>;
    /// Serialises `value` at the end of `out` (what the cache calls: the
    /// header byte is already there, so no second buffer or copy is
    /// needed). The provided version appends [`encode`](Codec::encode)'s
    /// bytes; override it when the format can write into a `Vec` directly.
    fn encode_into<T: Serialize + ?Sized>(
        &self,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        out.extend_from_slice(&self.encode(value)?);
        Ok(())
    }
    /// Deserialises a value written by [`encode`](Codec::encode).
    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, String>;
}

/// JSON through `serde_json` — the default: readable with `redis-cli`,
/// tolerant of added fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Codec for Json {
    const ID: u8 = 1;
    fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, String> {
        serde_json::to_vec(value).map_err(|e| e.to_string())
    }
    fn encode_into<T: Serialize + ?Sized>(
        &self,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        serde_json::to_writer(out, value).map_err(|e| e.to_string())
    }
    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// MessagePack through `rmp-serde`, structs as maps (field names kept, so
/// adding a field stays compatible).
#[derive(Debug, Clone, Copy, Default)]
pub struct MsgPack;

impl Codec for MsgPack {
    const ID: u8 = 2;
    fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, String> {
        rmp_serde::to_vec_named(value).map_err(|e| e.to_string())
    }
    fn encode_into<T: Serialize + ?Sized>(
        &self,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        rmp_serde::encode::write_named(out, value).map_err(|e| e.to_string())
    }
    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, String> {
        rmp_serde::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// Compact binary: MessagePack with structs as arrays (no field names).
/// Smallest of the three; both sides must agree on the field order.
#[derive(Debug, Clone, Copy, Default)]
pub struct MsgPackCompact;

impl Codec for MsgPackCompact {
    const ID: u8 = 3;
    fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, String> {
        rmp_serde::to_vec(value).map_err(|e| e.to_string())
    }
    fn encode_into<T: Serialize + ?Sized>(
        &self,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        rmp_serde::encode::write(out, value).map_err(|e| e.to_string())
    }
    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, String> {
        rmp_serde::from_slice(bytes).map_err(|e| e.to_string())
    }
}

const COMPRESSED: u8 = 0b1000_0000;
const FRESH_UNTIL: u8 = 0b0100_0000;
/// With `COMPRESSED`: zstd instead of LZ4. Alone: reserved.
const ZSTD: u8 = 0b0010_0000;
const LOAD_TIME: u8 = 0b0001_0000;

/// The compression of values of at least
/// [`compress_above`](crate::RedisCacheBuilder::compress_above) bytes.
/// Whatever is chosen, values written with either (or none) read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compression {
    /// LZ4 (`lz4_flex`): fast, modest ratio. The default.
    #[default]
    Lz4,
    /// zstd at `level` (1–22; 3 is zstd's default): smaller values for
    /// more CPU. Feature `zstd`.
    #[cfg(feature = "zstd")]
    Zstd {
        /// The compression level, 1–22.
        level: i32,
    },
}

/// How values are framed: codec, compression threshold, size cap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Framing {
    /// Compress payloads of at least this many bytes (`None`: never).
    pub(crate) compress_above: Option<usize>,
    /// Largest stored value, header included.
    pub(crate) max_value_size: usize,
    /// Whether reads ask Redis for at most `max_value_size + 1` bytes.
    pub(crate) bounded_reads: bool,
    /// How payloads above the threshold are compressed.
    pub(crate) compression: Compression,
}

/// The extra fields of a value's header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Times {
    /// Fresh until this Unix time, ms.
    pub(crate) fresh_until: Option<u64>,
    /// The load took this long, ms (only with `fresh_until`).
    pub(crate) load_ms: Option<u32>,
}

impl Framing {
    pub(crate) fn encode<C: Codec, T: Serialize + ?Sized>(
        &self,
        codec: &C,
        value: &T,
    ) -> Result<Vec<u8>> {
        self.encode_with(codec, value, Times::default())
    }

    /// Encodes `value`, with a fresh-until time (Unix ms) when given.
    pub(crate) fn encode_with<C: Codec, T: Serialize + ?Sized>(
        &self,
        codec: &C,
        value: &T,
        times: Times,
    ) -> Result<Vec<u8>> {
        // Header first, then the payload straight into the same buffer.
        let mut out = Vec::with_capacity(96);
        out.push(C::ID);
        if let Some(until) = times.fresh_until {
            out[0] |= FRESH_UNTIL;
            out.extend_from_slice(&until.to_le_bytes());
            if let Some(load_ms) = times.load_ms {
                out[0] |= LOAD_TIME;
                out.extend_from_slice(&load_ms.to_le_bytes());
            }
        }
        let start = out.len();
        codec
            .encode_into(value, &mut out)
            .map_err(CacheError::Encode)?;
        let payload_len = out.len() - start;
        // A reader refuses a payload that decodes to more than
        // `max_value_size` (it never trusts a stored length past that), so
        // nothing larger is written, compressible or not.
        if payload_len > self.max_value_size {
            return Err(CacheError::ValueTooLarge {
                size: payload_len,
                max: self.max_value_size,
            });
        }
        if let Some(threshold) = self.compress_above
            && payload_len >= threshold
        {
            let len = u32::try_from(payload_len).map_err(|_| CacheError::ValueTooLarge {
                size: payload_len,
                max: self.max_value_size,
            })?;
            let compressed = match self.compression {
                Compression::Lz4 => lz4_flex::block::compress(&out[start..]),
                #[cfg(feature = "zstd")]
                Compression::Zstd { level } => {
                    out[0] |= ZSTD;
                    zstd::bulk::compress(&out[start..], level)
                        .map_err(|e| CacheError::Encode(format!("zstd: {e}")))?
                }
            };
            out.truncate(start);
            out[0] |= COMPRESSED;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&compressed);
        }
        if out.len() > self.max_value_size {
            return Err(CacheError::ValueTooLarge {
                size: out.len(),
                max: self.max_value_size,
            });
        }
        Ok(out)
    }

    #[cfg_attr(not(feature = "local"), allow(dead_code))]
    pub(crate) fn decode<C: Codec, T: DeserializeOwned>(
        &self,
        codec: &C,
        bytes: &[u8],
    ) -> Result<T> {
        self.decode_with(codec, bytes).map(|(value, _)| value)
    }

    /// Decodes a value and its header times, where it has them.
    pub(crate) fn decode_with<C: Codec, T: DeserializeOwned>(
        &self,
        codec: &C,
        bytes: &[u8],
    ) -> Result<(T, Times)> {
        let decode_error = |m: &str| CacheError::Decode(m.to_owned());
        // Nothing longer is ever written; a bounded read stops one byte
        // past the bound, so this is how it sees an oversize value.
        if bytes.len() > self.max_value_size {
            return Err(CacheError::Decode(format!(
                "stored value of at least {} bytes is over max_value_size ({} bytes)",
                bytes.len(),
                self.max_value_size
            )));
        }
        let (&header, mut rest) = bytes
            .split_first()
            .ok_or_else(|| decode_error("empty value"))?;
        let zstd = header & ZSTD != 0;
        if (zstd && header & COMPRESSED == 0) || header & 0x0f != C::ID {
            return Err(CacheError::Decode(format!(
                "header byte {header:#04x} is not codec {} of this crate",
                C::ID
            )));
        }
        let mut times = Times::default();
        if header & FRESH_UNTIL != 0 {
            let (until, after) = rest
                .split_first_chunk::<8>()
                .ok_or_else(|| decode_error("value shorter than its fresh-until time"))?;
            times.fresh_until = Some(u64::from_le_bytes(*until));
            rest = after;
        }
        if header & LOAD_TIME != 0 {
            if times.fresh_until.is_none() {
                return Err(decode_error("load time without a fresh-until time"));
            }
            let (ms, after) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| decode_error("value shorter than its load time"))?;
            times.load_ms = Some(u32::from_le_bytes(*ms));
            rest = after;
        }
        if header & COMPRESSED == 0 {
            self.check_decoded_len(rest.len())?;
            let value = codec.decode(rest).map_err(CacheError::Decode)?;
            return Ok((value, times));
        }
        let (len, compressed) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| decode_error("compressed value shorter than its length prefix"))?;
        // The stored length is the writer's claim: checked against the
        // bound before anything is allocated, and the decompressors write
        // into exactly that much (more output is an error, not a regrow).
        let len = self.check_decoded_len(u32::from_le_bytes(*len) as usize)?;
        let payload = if zstd {
            decompress_zstd(compressed, len)?
        } else {
            lz4_flex::block::decompress(compressed, len)
                .map_err(|e| CacheError::Decode(format!("lz4: {e}")))?
        };
        if payload.len() != len {
            return Err(decode_error(
                "compressed payload shorter than its length prefix",
            ));
        }
        let value = codec.decode(&payload).map_err(CacheError::Decode)?;
        Ok((value, times))
    }

    /// `len`, if a payload of that many bytes may be decoded: at most
    /// `max_value_size`, whatever the stored bytes claim.
    fn check_decoded_len(&self, len: usize) -> Result<usize> {
        if len > self.max_value_size {
            return Err(CacheError::Decode(format!(
                "payload of {len} bytes is over max_value_size ({} bytes)",
                self.max_value_size
            )));
        }
        Ok(len)
    }
}

#[cfg(feature = "zstd")]
fn decompress_zstd(compressed: &[u8], len: usize) -> Result<Vec<u8>> {
    // `bulk::decompress` allocates `len` (already bounded) and fails when
    // the frame would write more, whatever its own header declares.
    zstd::bulk::decompress(compressed, len).map_err(|e| CacheError::Decode(format!("zstd: {e}")))
}

#[cfg(not(feature = "zstd"))]
fn decompress_zstd(_: &[u8], _: usize) -> Result<Vec<u8>> {
    Err(CacheError::Decode(
        "zstd-compressed value, and this build lacks the `zstd` feature".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framing(compress_above: Option<usize>) -> Framing {
        Framing {
            compress_above,
            max_value_size: 1 << 20,
            bounded_reads: false,
            compression: Compression::Lz4,
        }
    }

    #[test]
    fn round_trips_with_and_without_compression() {
        let value: Vec<u32> = (0..1000).collect();
        let plain = framing(None).encode(&Json, &value).unwrap();
        let packed = framing(Some(64)).encode(&Json, &value).unwrap();
        assert_eq!(plain[0], 1);
        assert_eq!(packed[0], 0x81);
        assert!(packed.len() < plain.len());
        // Either reader reads both.
        for reader in [framing(None), framing(Some(64))] {
            assert_eq!(reader.decode::<_, Vec<u32>>(&Json, &plain).unwrap(), value);
            assert_eq!(reader.decode::<_, Vec<u32>>(&Json, &packed).unwrap(), value);
        }
    }

    #[test]
    fn other_codec_and_garbage_are_decode_errors() {
        let f = framing(None);
        let msgpack = f.encode(&MsgPack, &"hi").unwrap();
        assert!(matches!(
            f.decode::<_, String>(&Json, &msgpack),
            Err(CacheError::Decode(_))
        ));
        for garbage in [
            &b""[..],
            b"\x81",
            b"\x81\xff\xff\xff\x7f",
            b"\x01{",
            b"\x71{}",
            b"hello",
        ] {
            assert!(matches!(
                f.decode::<_, String>(&Json, garbage),
                Err(CacheError::Decode(_))
            ));
        }
    }

    #[test]
    fn fresh_until_round_trips_with_compression() {
        let value: Vec<u32> = (0..1000).collect();
        for f in [framing(None), framing(Some(64))] {
            let times = Times {
                fresh_until: Some(1234),
                load_ms: None,
            };
            let bytes = f.encode_with(&Json, &value, times).unwrap();
            assert_eq!(bytes[0] & FRESH_UNTIL, FRESH_UNTIL);
            let (back, until) = f.decode_with::<_, Vec<u32>>(&Json, &bytes).unwrap();
            assert_eq!((back, until), (value.clone(), times));
            let times = Times {
                fresh_until: Some(99),
                load_ms: Some(7),
            };
            let bytes = f.encode_with(&Json, &value, times).unwrap();
            assert_eq!(
                f.decode_with::<_, Vec<u32>>(&Json, &bytes).unwrap().1,
                times
            );
            let plain = f.encode(&Json, &value).unwrap();
            assert_eq!(
                f.decode_with::<_, Vec<u32>>(&Json, &plain).unwrap().1,
                Times::default()
            );
        }
        assert!(
            framing(None)
                .decode::<_, u32>(&Json, b"\x41\x01\x02")
                .is_err()
        );
    }

    #[test]
    fn oversize_is_refused() {
        let f = Framing {
            compress_above: None,
            max_value_size: 10,
            bounded_reads: false,
            compression: Compression::Lz4,
        };
        let err = f
            .encode(&Json, &"a string longer than ten bytes")
            .unwrap_err();
        assert!(matches!(err, CacheError::ValueTooLarge { max: 10, .. }));
    }

    #[test]
    fn compact_is_smaller_than_named() {
        #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
        struct User {
            id: u64,
            name: String,
        }
        let u = User {
            id: 7,
            name: "ann".into(),
        };
        let f = framing(None);
        let named = f.encode(&MsgPack, &u).unwrap();
        let compact = f.encode(&MsgPackCompact, &u).unwrap();
        assert!(compact.len() < named.len());
        assert_eq!(f.decode::<_, User>(&MsgPackCompact, &compact).unwrap(), u);
        assert_eq!(f.decode::<_, User>(&MsgPack, &named).unwrap(), u);
    }

    #[cfg(feature = "zstd")]
    #[test]
    fn zstd_and_lz4_values_read_back_whichever_is_configured() {
        let value: Vec<u32> = (0..2000).map(|i| i % 17).collect();
        let lz4 = framing(Some(64));
        let zstd = Framing {
            compression: Compression::Zstd { level: 3 },
            ..framing(Some(64))
        };
        let by_lz4 = lz4.encode(&Json, &value).unwrap();
        let by_zstd = zstd.encode(&Json, &value).unwrap();
        assert_eq!(by_lz4[0], 0x81);
        assert_eq!(by_zstd[0], 0xa1);
        assert!(by_zstd.len() < by_lz4.len());
        for reader in [lz4, zstd, framing(None)] {
            assert_eq!(reader.decode::<_, Vec<u32>>(&Json, &by_lz4).unwrap(), value);
            assert_eq!(
                reader.decode::<_, Vec<u32>>(&Json, &by_zstd).unwrap(),
                value
            );
        }
        // A zstd flag without the compression flag, or a truncated frame,
        // is a decode error.
        assert!(zstd.decode::<_, Vec<u32>>(&Json, b"\x21[]").is_err());
        let mut cut = by_zstd.clone();
        cut.truncate(cut.len() - 3);
        assert!(zstd.decode::<_, Vec<u32>>(&Json, &cut).is_err());
    }
}

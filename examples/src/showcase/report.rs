//! `/api/report`: CPU-bound work (build a 64 KiB summary, LZ4-compress it,
//! FNV-hash it) on perfect21-thread-pool, off the async runtime, awaited
//! through its task handle; the work buffer comes from perfect21-object-pool.

use anyhow::{Result, anyhow};
use perfect21_object_pool::ObjectPool;
use perfect21_thread_pool::ThreadPool;
use serde::Serialize;

/// Size of the summary the report renders and compresses.
pub const PAYLOAD: usize = 64 * 1024;

/// What the report returns besides the upstream's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Rendered {
    /// Bytes rendered.
    pub input_bytes: usize,
    /// Bytes after LZ4.
    pub compressed_bytes: usize,
    /// FNV-1a 64 of the rendered bytes.
    pub checksum: String,
}

/// Renders the summary for `seed` on the pool and waits for it.
pub async fn render(
    pool: &ThreadPool,
    buffers: &ObjectPool<Vec<u8>>,
    seed: u64,
) -> Result<Rendered> {
    let mut buffer = buffers
        .get_owned()
        .map_err(|e| anyhow!("work buffers: {e}"))?;
    let handle = pool
        .spawn(move || {
            use std::io::Write;
            let out: &mut Vec<u8> = &mut buffer;
            let mut line = 0u64;
            while out.len() < PAYLOAD {
                line += 1;
                let _ = writeln!(
                    out,
                    "{line:08} user={} tasks={} score={}",
                    seed.wrapping_mul(31).wrapping_add(line) % 100_000,
                    (seed ^ line) % 17,
                    (seed.wrapping_add(line * line)) % 1000
                );
            }
            out.truncate(PAYLOAD);
            let compressed = lz4_flex::compress(out);
            Rendered {
                input_bytes: out.len(),
                compressed_bytes: compressed.len(),
                checksum: format!("{:016x}", fnv1a(out)),
            }
        })
        .map_err(|e| anyhow!("thread pool refused the report: {e}"))?;
    handle.await.map_err(|e| anyhow!("report task: {e}"))
}

/// FNV-1a, 64 bits.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

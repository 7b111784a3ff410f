use super::Strategy;
use super::rng::mix;
use crate::context::PickContext;

/// Sticky picks by key: weighted rendezvous (highest-random-weight)
/// hashing. Each key goes to the available endpoint with the highest
/// `weight / −ln(u)`, `u` a hash of the key and the endpoint; removing one
/// of N endpoints moves only the keys it held (about 1/N), adding one takes
/// about 1/(N+1) from the others, and an ejected endpoint's keys go to
/// their second choice until it returns. O(N) per pick.
///
/// Use [`Balancer::pick_with_key`](crate::Balancer::pick_with_key); a plain
/// `pick` fails with [`Error::KeyRequired`](crate::Error::KeyRequired).
#[derive(Debug, Default)]
pub struct ConsistentHash {
    _private: (),
}

impl ConsistentHash {
    /// Rendezvous hashing.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Strategy for ConsistentHash {
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        let key = ctx.key()?;
        if ctx.total_weight() == ctx.len() as u64 {
            // All weights 1: `1 / −ln(u)` grows with `u`, so the highest
            // hash wins — the same choice without a logarithm per endpoint.
            let mut best: Option<(usize, u64)> = None;
            for index in 0..ctx.len() {
                if !ctx.is_available(index) {
                    continue;
                }
                let hash = mix(key ^ mix(ctx.endpoint_hash(index))) >> 11;
                if best.is_none_or(|(_, top)| hash > top) {
                    best = Some((index, hash));
                }
            }
            return best.map(|(index, _)| index);
        }
        let mut best: Option<(usize, f64)> = None;
        for index in 0..ctx.len() {
            if !ctx.is_available(index) {
                continue;
            }
            let hash = mix(key ^ mix(ctx.endpoint_hash(index)));
            // u in (0, 1): 53 random bits, never 0 or 1.
            let unit = ((hash >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            let score = f64::from(ctx.weight(index)) / -unit.ln();
            if best.is_none_or(|(_, top)| score > top) {
                best = Some((index, score));
            }
        }
        best.map(|(index, _)| index)
    }

    fn requires_key(&self) -> bool {
        true
    }
}

//! Power of two choices: two distinct random candidates, the cheaper wins.

use super::rng::{Rng, below};
use crate::context::PickContext;

/// Two distinct indices drawn uniformly from `0..n` (`n >= 2`).
#[inline]
pub(super) fn two_distinct(rng: &Rng, n: usize) -> (usize, usize) {
    let bits = rng.next_u64();
    let a = below(bits as u32, n);
    let mut b = below((bits >> 32) as u32, n - 1);
    if b >= a {
        b += 1;
    }
    (a, b)
}

/// Chooses between candidates `a` and `b` (distinct): the available one,
/// or the one with the lower cost when both are (`a` on a tie); when
/// neither is available, a random available one (not `a`'s neighbour,
/// which would inherit the unavailable endpoints' share).
#[inline]
pub(super) fn choose(
    ctx: &PickContext<'_>,
    rng: &Rng,
    a: usize,
    b: usize,
    cost: impl Fn(usize) -> f64,
) -> Option<usize> {
    choose_by(ctx, rng, a, b, |a, b| cost(b) < cost(a))
}

/// As [`choose`], with `prefer_b(a, b)` deciding between two available
/// candidates.
#[inline]
pub(super) fn choose_by(
    ctx: &PickContext<'_>,
    rng: &Rng,
    a: usize,
    b: usize,
    prefer_b: impl Fn(usize, usize) -> bool,
) -> Option<usize> {
    match (ctx.is_available(a), ctx.is_available(b)) {
        (true, true) => Some(if prefer_b(a, b) { b } else { a }),
        (true, false) => Some(a),
        (false, true) => Some(b),
        (false, false) => ctx.random_available(rng.next_u64()),
    }
}

/// Uniform power of two choices on `cost`.
#[inline]
pub(super) fn pick(ctx: &PickContext<'_>, rng: &Rng, cost: impl Fn(usize) -> f64) -> Option<usize> {
    match ctx.len() {
        0 => None,
        1 => ctx.is_available(0).then_some(0),
        n => {
            let (a, b) = two_distinct(rng, n);
            choose(ctx, rng, a, b, cost)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_candidates_are_always_distinct_and_in_range() {
        let rng = Rng::seeded(7);
        for n in 2..40 {
            let mut seen_a = vec![false; n];
            let mut seen_b = vec![false; n];
            for _ in 0..2000 {
                let (a, b) = two_distinct(&rng, n);
                assert_ne!(a, b, "n = {n}");
                assert!(a < n && b < n);
                seen_a[a] = true;
                seen_b[b] = true;
            }
            assert!(
                seen_a.iter().all(|&s| s),
                "every index drawn first, n = {n}"
            );
            assert!(
                seen_b.iter().all(|&s| s),
                "every index drawn second, n = {n}"
            );
        }
    }
}

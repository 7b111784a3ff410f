//! Weights are honoured over long runs. Tolerance: each endpoint's share of
//! picks is within ±0.02 (absolute) of weight ÷ total for the random
//! strategies over 20 000 picks, and exact per full cycle for smooth
//! weighted round robin.

use proptest::prelude::*;

use perfect21_balancer::{Balancer, Random, SmoothWeightedRoundRobin, Strategy, WeightedP2c};

fn shares(strategy: impl Strategy, weights: &[u32], picks: u32) -> Vec<u32> {
    let mut builder = Balancer::builder().strategy(strategy);
    for (index, weight) in weights.iter().enumerate() {
        builder = builder.weighted_endpoint(index, *weight);
    }
    let balancer = builder.build().unwrap();
    let mut counts = vec![0u32; weights.len()];
    for _ in 0..picks {
        let guard = balancer.pick().unwrap();
        counts[*guard] += 1;
        guard.success();
    }
    counts
}

fn assert_close(counts: &[u32], weights: &[u32], picks: u32) {
    let total: u32 = weights.iter().sum();
    for (count, weight) in counts.iter().zip(weights) {
        let share = f64::from(*count) / f64::from(picks);
        let expected = f64::from(*weight) / f64::from(total);
        assert!(
            (share - expected).abs() < 0.02,
            "{counts:?} for {weights:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn smooth_wrr_is_exact_per_cycle(weights in prop::collection::vec(1u32..10, 1..8), cycles in 1u32..4) {
        let total: u32 = weights.iter().sum();
        let counts = shares(SmoothWeightedRoundRobin::new(), &weights, total * cycles);
        let expected: Vec<u32> = weights.iter().map(|w| w * cycles).collect();
        prop_assert_eq!(counts, expected);
    }

    #[test]
    fn random_honours_weights(weights in prop::collection::vec(1u32..10, 2..8), seed in any::<u64>()) {
        assert_close(&shares(Random::with_seed(seed), &weights, 20_000), &weights, 20_000);
    }

    #[test]
    fn weighted_p2c_honours_weights(weights in prop::collection::vec(1u32..10, 2..8), seed in any::<u64>()) {
        assert_close(&shares(WeightedP2c::with_seed(seed), &weights, 20_000), &weights, 20_000);
    }
}

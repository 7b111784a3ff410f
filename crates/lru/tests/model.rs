//! Model-based tests: the same random operations on `LruCache` and on a
//! reference, compared after every step.
//!
//! * Entry bound only: the reference is the `lru` crate (as schnellru's
//!   fuzzer does), compared on every return value and on the final order.
//! * Both bounds with weights: the reference is a plain `Vec` in recency
//!   order whose total is recomputed from scratch, and the listener's
//!   evictions must match the reference's, cause by cause.
//!
//! After every operation both bounds must hold, `weight()` must equal the
//! sum of live weights, and the counters must add up.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use perfect21_lru::{CacheStats, EvictionCause, LruCache};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Get(u8),
    GetMut(u8),
    Peek(u8),
    Contains(u8),
    Insert(u8, u16),
    Remove(u8),
    PopLru,
    Resize(usize),
}

fn op(keys: u8) -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..keys).prop_map(Op::Get),
        1 => (0..keys).prop_map(Op::GetMut),
        1 => (0..keys).prop_map(Op::Peek),
        1 => (0..keys).prop_map(Op::Contains),
        4 => (0..keys, any::<u16>()).prop_map(|(k, v)| Op::Insert(k, v)),
        1 => (0..keys).prop_map(Op::Remove),
        1 => Just(Op::PopLru),
        1 => (1usize..10).prop_map(Op::Resize),
    ]
}

/// What the counters must say, given what the caller observed.
#[derive(Debug, Default)]
struct Observed {
    lookups: u64,
    inserts: u64,
    updates: u64,
    removals: u64,
}

fn check_counters(stats: &CacheStats, seen: &Observed, len: usize) {
    assert_eq!(
        stats.hits + stats.misses,
        seen.lookups,
        "hits + misses == lookups"
    );
    assert_eq!(stats.inserts, seen.inserts);
    assert_eq!(stats.updates, seen.updates);
    assert_eq!(stats.removals, seen.removals);
    assert_eq!(
        stats.inserts,
        len as u64 + stats.removals + stats.evictions(),
        "every inserted entry is held, removed or evicted: {stats:?}"
    );
    assert_eq!(stats.len, len as u64);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]

    #[test]
    fn matches_the_lru_crate(cap in 1usize..8, ops in prop::collection::vec(op(12), 1..300)) {
        let mut ours: LruCache<u8, u16> = LruCache::new(NonZeroUsize::new(cap).unwrap());
        let mut reference = lru::LruCache::new(NonZeroUsize::new(cap).unwrap());
        let mut seen = Observed::default();
        for op in ops {
            match op {
                Op::Get(k) => {
                    seen.lookups += 1;
                    prop_assert_eq!(ours.get(&k), reference.get(&k));
                }
                Op::GetMut(k) => {
                    seen.lookups += 1;
                    let a = ours.get_mut(&k).map(|v| { *v = v.wrapping_add(1); *v });
                    let b = reference.get_mut(&k).map(|v| { *v = v.wrapping_add(1); *v });
                    prop_assert_eq!(a, b);
                }
                Op::Peek(k) => prop_assert_eq!(ours.peek(&k), reference.peek(&k)),
                Op::Contains(k) => prop_assert_eq!(ours.contains_key(&k), reference.contains(&k)),
                Op::Insert(k, v) => {
                    let replaced = ours.insert(k, v).expect("unit weights are never rejected");
                    match replaced {
                        Some(_) => seen.updates += 1,
                        None => seen.inserts += 1,
                    }
                    prop_assert_eq!(replaced, reference.put(k, v));
                }
                Op::Remove(k) => {
                    let removed = ours.remove(&k);
                    seen.removals += u64::from(removed.is_some());
                    prop_assert_eq!(removed, reference.pop(&k));
                }
                Op::PopLru => {
                    let popped = ours.pop_lru();
                    seen.removals += u64::from(popped.is_some());
                    prop_assert_eq!(popped, reference.pop_lru());
                }
                Op::Resize(n) => {
                    ours.set_max_entries(n).unwrap();
                    reference.resize(NonZeroUsize::new(n).unwrap());
                }
            }
            prop_assert_eq!(ours.len(), reference.len());
            prop_assert!(ours.len() <= ours.max_entries().unwrap());
            prop_assert_eq!(ours.weight(), ours.len() as u64);
            check_counters(&ours.stats(), &seen, ours.len());
        }
        let ours_order: Vec<(u8, u16)> = ours.iter().map(|(k, v)| (*k, *v)).collect();
        let reference_order: Vec<(u8, u16)> = reference.iter().map(|(k, v)| (*k, *v)).collect();
        prop_assert_eq!(&ours_order, &reference_order);
        let ours_rev: Vec<u8> = ours.iter().rev().map(|(k, _)| *k).collect();
        let reference_rev: Vec<u8> = reference.iter().rev().map(|(k, _)| *k).collect();
        prop_assert_eq!(ours_rev, reference_rev);
    }
}

/// The weighted reference: entries in recency order, most recent first.
#[derive(Debug, Default)]
struct WeightedModel {
    entries: Vec<(u8, u16, u64)>,
    max_entries: usize,
    max_weight: u64,
    evicted: Vec<(u8, u16, EvictionCause)>,
}

impl WeightedModel {
    fn total(&self) -> u64 {
        self.entries.iter().map(|e| e.2).sum()
    }

    fn position(&self, k: u8) -> Option<usize> {
        self.entries.iter().position(|e| e.0 == k)
    }

    fn get(&mut self, k: u8) -> Option<u16> {
        let i = self.position(k)?;
        let entry = self.entries.remove(i);
        self.entries.insert(0, entry);
        Some(entry.1)
    }

    fn insert(&mut self, k: u8, v: u16, w: u64) -> Result<Option<u16>, ()> {
        if w > self.max_weight {
            return Err(());
        }
        let old = self.position(k).map(|i| self.entries.remove(i).1);
        self.entries.insert(0, (k, v, w));
        self.evict();
        Ok(old)
    }

    fn evict(&mut self) {
        loop {
            let cause = if self.entries.len() > self.max_entries {
                EvictionCause::MaxEntries
            } else if self.total() > self.max_weight {
                EvictionCause::MaxWeight
            } else {
                return;
            };
            let (k, v, _) = self.entries.pop().unwrap();
            self.evicted.push((k, v, cause));
        }
    }
}

#[derive(Debug, Clone)]
enum WeightedOp {
    Get(u8),
    Insert(u8, u16, u64),
    Remove(u8),
    SetMaxEntries(usize),
    SetMaxWeight(u64),
}

fn weighted_op() -> impl Strategy<Value = WeightedOp> {
    prop_oneof![
        3 => (0..10u8).prop_map(WeightedOp::Get),
        5 => (0..10u8, any::<u16>(), 0..40u64).prop_map(|(k, v, w)| WeightedOp::Insert(k, v, w)),
        1 => (0..10u8).prop_map(WeightedOp::Remove),
        1 => (1usize..8).prop_map(WeightedOp::SetMaxEntries),
        1 => (1u64..80).prop_map(WeightedOp::SetMaxWeight),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]

    #[test]
    fn both_bounds_hold_against_a_recomputing_reference(
        max_entries in 1usize..8,
        max_weight in 1u64..80,
        ops in prop::collection::vec(weighted_op(), 1..300),
    ) {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&heard);
        let mut ours = LruCache::builder()
            .max_entries(max_entries)
            .max_weight(max_weight)
            // The weight travels in the value's high bits: (weight << 16) | value.
            .weigher(|_k: &u8, v: &u64| v >> 16)
            .eviction_listener(move |k: u8, v: u64, cause| {
                sink.lock().unwrap().push((k, v as u16, cause));
            })
            .build()
            .unwrap();
        let mut model = WeightedModel { max_entries, max_weight, ..Default::default() };
        let mut rejected = 0;
        for op in ops {
            match op {
                WeightedOp::Get(k) => {
                    prop_assert_eq!(ours.get(&k).map(|v| *v as u16), model.get(k));
                }
                WeightedOp::Insert(k, v, w) => {
                    let packed = (w << 16) | u64::from(v);
                    match (ours.insert(k, packed), model.insert(k, v, w)) {
                        (Ok(a), Ok(b)) => prop_assert_eq!(a.map(|x| x as u16), b),
                        (Err(refused), Err(())) => {
                            rejected += 1;
                            prop_assert_eq!(refused.weight, w);
                            prop_assert_eq!(refused.into_inner(), (k, packed));
                        }
                        (a, b) => prop_assert!(false, "ours {:?}, model {:?}", a.is_ok(), b),
                    }
                }
                WeightedOp::Remove(k) => {
                    let b = model.position(k).map(|i| model.entries.remove(i).1);
                    prop_assert_eq!(ours.remove(&k).map(|x| x as u16), b);
                }
                WeightedOp::SetMaxEntries(n) => {
                    ours.set_max_entries(n).unwrap();
                    model.max_entries = n;
                    model.evict();
                }
                WeightedOp::SetMaxWeight(w) => {
                    ours.set_max_weight(w).unwrap();
                    model.max_weight = w;
                    model.evict();
                }
            }
            prop_assert!(ours.len() <= model.max_entries);
            prop_assert!(ours.weight() <= model.max_weight);
            prop_assert_eq!(ours.weight(), model.total());
            let live: u64 = ours.iter().map(|(_, v)| v >> 16).sum();
            prop_assert_eq!(ours.weight(), live);
            let order: Vec<u8> = ours.iter().map(|(k, _)| *k).collect();
            let model_order: Vec<u8> = model.entries.iter().map(|e| e.0).collect();
            prop_assert_eq!(order, model_order);
            prop_assert_eq!(&*heard.lock().unwrap(), &model.evicted);
            prop_assert_eq!(ours.stats().rejected, rejected);
        }
        let stats = ours.stats();
        let by_cause = |c| model.evicted.iter().filter(|e| e.2 == c).count() as u64;
        prop_assert_eq!(stats.evicted_max_entries, by_cause(EvictionCause::MaxEntries));
        prop_assert_eq!(stats.evicted_max_weight, by_cause(EvictionCause::MaxWeight));
    }
}

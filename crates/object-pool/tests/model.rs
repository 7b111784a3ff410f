//! Random sequences of gets, returns, detaches, try-gets and trims on one
//! thread, run against the pool and against a plain model of what it
//! promises; stats and idle counts are compared after every step.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use perfect21_object_pool::{ObjectPool, Pooled};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Get,
    TryGet,
    /// Return the held object at this position (modulo the count held).
    Return(usize),
    /// Return it dirty: `validate` refuses it.
    ReturnInvalid(usize),
    Detach(usize),
    Trim(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Get),
        1 => Just(Op::TryGet),
        4 => (0..8usize).prop_map(Op::Return),
        1 => (0..8usize).prop_map(Op::ReturnInvalid),
        1 => (0..8usize).prop_map(Op::Detach),
        1 => (0..6usize).prop_map(Op::Trim),
    ]
}

/// What the pool promises, by the numbers.
#[derive(Debug, Default)]
struct Model {
    max_idle: usize,
    next_id: u64,
    /// Idle objects (which ones is the pool's choice).
    idle: usize,
    created: u64,
    reused: u64,
    returned: u64,
    detached: u64,
    over_max_idle: u64,
    invalid: u64,
    trimmed: u64,
}

impl Model {
    /// A get: `None` when an idle object is reused, the new id otherwise.
    fn get(&mut self) -> Option<u64> {
        if self.idle > 0 {
            self.idle -= 1;
            self.reused += 1;
            None
        } else {
            Some(self.create())
        }
    }
    fn create(&mut self) -> u64 {
        self.created += 1;
        self.next_id += 1;
        self.next_id
    }
    fn put(&mut self, valid: bool) {
        if !valid {
            self.invalid += 1;
        } else if self.idle < self.max_idle {
            self.returned += 1;
            self.idle += 1;
        } else {
            self.over_max_idle += 1;
        }
    }
    fn trim(&mut self, keep: usize) {
        let trimmed = self.idle.saturating_sub(keep);
        self.idle -= trimmed;
        self.trimmed += trimmed as u64;
    }
}

/// Objects are `(id, dirty)`; `validate` refuses dirty ones.
type Object = (u64, bool);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]

    #[test]
    fn pool_matches_the_model(
        max_idle in 0..6usize,
        thread_cache in 0..5usize,
        prefill_share in 0..=100usize,
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let prefill = max_idle * prefill_share / 100;
        let ids = Arc::new(AtomicU64::new(0));
        let next = Arc::clone(&ids);
        let pool: ObjectPool<Object> = ObjectPool::builder(move || (next.fetch_add(1, SeqCst) + 1, false))
            .max_idle(max_idle)
            .thread_cache(thread_cache)
            .prefill(prefill)
            .validate(|object: &Object| !object.1)
            .build()
            .unwrap();
        let mut model = Model { max_idle, ..Model::default() };
        for _ in 0..prefill {
            model.create();
            model.idle += 1;
        }
        let mut held: Vec<Pooled<'_, Object>> = Vec::new();
        for op in ops {
            match op {
                Op::Get => {
                    let guard = pool.get().unwrap();
                    match model.get() {
                        Some(id) => prop_assert_eq!(guard.0, id, "a new object when nothing is idle"),
                        None => prop_assert!(guard.0 <= model.next_id, "an object made before"),
                    }
                    prop_assert!(!guard.1, "never a dirty object");
                    prop_assert!(held.iter().all(|other| other.0 != guard.0), "never handed out twice");
                    held.push(guard);
                }
                Op::TryGet => match pool.try_get() {
                    Some(guard) => {
                        prop_assert!(model.get().is_none(), "try_get found an idle object");
                        prop_assert!(held.iter().all(|other| other.0 != guard.0), "never handed out twice");
                        held.push(guard);
                    }
                    None => prop_assert_eq!(model.idle, 0),
                },
                Op::Return(at) | Op::ReturnInvalid(at) | Op::Detach(at) if held.is_empty() => {
                    let _ = at;
                }
                Op::Return(at) => {
                    let guard = held.swap_remove(at % held.len());
                    model.put(true);
                    drop(guard);
                }
                Op::ReturnInvalid(at) => {
                    let mut guard = held.swap_remove(at % held.len());
                    guard.1 = true;
                    model.put(false);
                    drop(guard);
                }
                Op::Detach(at) => {
                    let guard = held.swap_remove(at % held.len());
                    model.detached += 1;
                    let object = guard.detach();
                    prop_assert!(!object.1);
                }
                Op::Trim(keep) => {
                    pool.trim(keep);
                    model.trim(keep);
                }
            }
            let stats = pool.stats();
            prop_assert_eq!(stats.idle, model.idle as u64);
            prop_assert_eq!(pool.idle(), model.idle);
            prop_assert_eq!(stats.in_use, held.len() as u64);
            prop_assert_eq!(stats.created, model.created);
            prop_assert_eq!(stats.reused, model.reused);
            prop_assert_eq!(stats.returned, model.returned);
            prop_assert_eq!(stats.detached, model.detached);
            prop_assert_eq!(stats.discarded_over_max_idle, model.over_max_idle);
            prop_assert_eq!(stats.discarded_invalid, model.invalid);
            prop_assert_eq!(stats.discarded_trimmed, model.trimmed);
            prop_assert!(stats.idle <= max_idle as u64);
        }
    }
}

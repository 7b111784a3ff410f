//! `ObjectPool` against a counter model, on one thread (so its thread cache
//! is in play): arbitrary gets (`get`, `get_timeout(0)`, `try_get`),
//! returns, detaches, writes, trims, a manual clock moving on, and user
//! code that panics on purpose — factory, `reset`, `validate`, the clock
//! and the objects' own `Drop`. After every step the model's counts must
//! hold exactly: objects alive = in use + idle, `idle ≤ max_idle`, a capped
//! pool serves exactly when it has room, every counter matches what the
//! harness did, every caught panic is counted, and no get hands out an
//! object idle for `idle_timeout` or longer.
#![no_main]

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use perfect21_object_pool::{Clock, Error, ObjectPool, PooledOwned};

/// `reset` panics on objects holding this value, `validate` refuses
/// `REJECT` and panics on `VALIDATE_PANICS`.
const RESET_PANICS: u8 = 0xE1;
const REJECT: u8 = 0xE2;
const VALIDATE_PANICS: u8 = 0xE3;
/// One clock tick.
const TICK: Duration = Duration::from_secs(1);

#[derive(Debug, Arbitrary)]
enum Op {
    Get,
    GetTimeoutZero,
    TryGet,
    /// Returns the held object at this index (modulo).
    Return(u8),
    Detach(u8),
    Write(u8, u8),
    /// The object's `Drop` panics when the pool drops it.
    Arm(u8),
    Trim(u8),
    Advance(u8),
    ClockPanics(bool),
    FactoryPanics(bool),
}

#[derive(Debug, Arbitrary)]
struct Input {
    max_idle: u8,
    max_total: Option<u8>,
    thread_cache: u8,
    prefill: u8,
    idle_timeout: Option<u8>,
    ops: Vec<Op>,
}

thread_local! {
    static ALIVE: Cell<u64> = const { Cell::new(0) };
    static MADE: Cell<u32> = const { Cell::new(0) };
    /// Panics raised on purpose by code the pool must catch.
    static CAUGHT_PANICS: Cell<u64> = const { Cell::new(0) };
    static FACTORY_PANICS: Cell<bool> = const { Cell::new(false) };
}

fn raise(what: &str) -> ! {
    CAUGHT_PANICS.set(CAUGHT_PANICS.get() + 1);
    panic!("{what} fails on purpose");
}

struct Obj {
    id: u32,
    value: u8,
    armed: bool,
}

impl Drop for Obj {
    fn drop(&mut self) {
        ALIVE.set(ALIVE.get() - 1);
        if self.armed && !std::thread::panicking() {
            raise("drop");
        }
    }
}

#[derive(Debug, Clone)]
struct ManualClock {
    now: Arc<Mutex<Instant>>,
    panics: Arc<Mutex<bool>>,
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        if *self.panics.lock().unwrap() {
            raise("clock");
        }
        *self.now.lock().unwrap()
    }
}

/// What the harness did, to compare with `stats()`.
#[derive(Default, Debug)]
struct Model {
    created: u64,
    gets: u64,
    returns: u64,
    detached: u64,
    /// Model time (ticks) each idle-or-held object last went idle.
    idle_since: HashMap<u32, u64>,
    now: u64,
    clock_panics: bool,
}

fuzz_target!(|input: Input| {
    if input.ops.len() > 256 {
        return;
    }
    perfect21_fuzz::let_expected_panics_unwind(perfect21_fuzz::none_outside_guarded);
    ALIVE.set(0);
    MADE.set(0);
    CAUGHT_PANICS.set(0);
    FACTORY_PANICS.set(false);
    let max_total = input.max_total.map(|m| usize::from(m % 8) + 1);
    let max_idle = match max_total {
        Some(max_total) => usize::from(input.max_idle) % (max_total + 1),
        None => usize::from(input.max_idle % 17),
    };
    let prefill = usize::from(input.prefill) % (max_idle + 1);
    let timeout = input.idle_timeout.map(|t| u64::from(t % 8) + 1);
    let clock = ManualClock {
        now: Arc::new(Mutex::new(Instant::now())),
        panics: Arc::new(Mutex::new(false)),
    };
    let mut builder = ObjectPool::builder(|| {
        assert!(!FACTORY_PANICS.get(), "factory fails on purpose");
        let id = MADE.get();
        MADE.set(id + 1);
        ALIVE.set(ALIVE.get() + 1);
        Obj {
            id,
            value: 0,
            armed: false,
        }
    })
    .reset(|obj: &mut Obj| {
        if obj.value == RESET_PANICS {
            obj.value = 0;
            raise("reset");
        }
        obj.value = 0;
    })
    .validate(|obj: &Obj| match obj.value {
        REJECT => false,
        VALIDATE_PANICS => raise("validate"),
        _ => true,
    })
    .max_idle(max_idle)
    .thread_cache(usize::from(input.thread_cache % 17))
    .prefill(prefill)
    .clock(clock.clone());
    if let Some(max_total) = max_total {
        builder = builder.max_total(max_total);
    }
    if let Some(timeout) = timeout {
        builder = builder.idle_timeout(TICK * timeout as u32);
    }
    let pool = builder.build().expect("valid options");
    let mut model = Model {
        created: prefill as u64,
        ..Model::default()
    };
    for id in 0..prefill as u32 {
        model.idle_since.insert(id, 0);
    }
    let mut held: Vec<PooledOwned<Obj>> = Vec::new();

    for op in &input.ops {
        let idle_before = pool.idle();
        let made_before = MADE.get();
        match *op {
            Op::Get | Op::GetTimeoutZero | Op::TryGet => {
                let got = perfect21_fuzz::guarded(|| match op {
                    Op::Get => pool.get_owned().map(Some),
                    Op::GetTimeoutZero => pool.get_owned_timeout(Duration::ZERO).map(Some),
                    _ => Ok(pool.try_get_owned()),
                });
                let room = max_total.is_none_or(|m| held.len() < m);
                match got {
                    Ok(Ok(Some(obj))) => {
                        assert!(room, "served past max_total");
                        model.gets += 1;
                        let fresh = MADE.get() != made_before;
                        if fresh {
                            model.created += 1;
                            model.idle_since.insert(obj.id, model.now);
                        } else if let (Some(timeout), false) = (timeout, model.clock_panics) {
                            let since = model.idle_since[&obj.id];
                            assert!(model.now - since < timeout, "handed out an expired object");
                        }
                        held.push(obj);
                    }
                    Ok(Ok(None)) => assert!(matches!(op, Op::TryGet)),
                    Ok(Err(Error::Exhausted { .. } | Error::Timeout { .. })) => {
                        assert!(!room, "refused with room: held {}", held.len());
                    }
                    Ok(Err(e)) => panic!("unexpected error {e}"),
                    Err(_) => {
                        assert!(FACTORY_PANICS.get(), "a get panicked, not the factory");
                        assert_eq!(MADE.get(), made_before);
                    }
                }
            }
            Op::Return(i) | Op::Detach(i) if !held.is_empty() => {
                let obj = held.swap_remove(usize::from(i) % held.len());
                if matches!(op, Op::Detach(_)) {
                    let mut value = obj.detach();
                    value.armed = false;
                    model.detached += 1;
                    model.idle_since.remove(&value.id);
                } else {
                    model.returns += 1;
                    model.idle_since.insert(obj.id, model.now);
                    assert!(
                        perfect21_fuzz::guarded(move || drop(obj)).is_ok(),
                        "a return panicked"
                    );
                }
            }
            Op::Write(i, value) if !held.is_empty() => {
                let n = held.len();
                held[usize::from(i) % n].value = value;
            }
            Op::Arm(i) if !held.is_empty() => {
                let n = held.len();
                held[usize::from(i) % n].armed = true;
            }
            Op::Trim(keep) => {
                let keep = usize::from(keep % 20);
                assert!(
                    perfect21_fuzz::guarded(|| pool.trim(keep)).is_ok(),
                    "trim panicked"
                );
                assert_eq!(pool.idle(), idle_before.min(keep), "trim({keep})");
            }
            Op::Advance(ticks) => {
                let ticks = u64::from(ticks % 16);
                model.now += ticks;
                *clock.now.lock().unwrap() += TICK * ticks as u32;
            }
            Op::ClockPanics(on) => {
                model.clock_panics = on;
                *clock.panics.lock().unwrap() = on;
            }
            Op::FactoryPanics(on) => FACTORY_PANICS.set(on),
            _ => {}
        }
        // The counts, exactly.
        let stats = pool.stats();
        let idle = pool.idle();
        assert!(idle <= max_idle, "idle {idle} > max_idle {max_idle}");
        assert_eq!(stats.idle, idle as u64);
        assert_eq!(stats.in_use, held.len() as u64, "{stats:?}");
        assert_eq!(
            ALIVE.get(),
            (held.len() + idle) as u64,
            "objects lost or leaked: {stats:?}"
        );
        assert_eq!(stats.created, model.created, "{stats:?}");
        assert_eq!(stats.created, u64::from(MADE.get()));
        assert_eq!(
            stats.reused + stats.created - prefill as u64,
            model.gets,
            "{stats:?}"
        );
        assert_eq!(
            stats.returned + stats.discarded_over_max_idle + stats.discarded_invalid,
            model.returns,
            "{stats:?}"
        );
        assert_eq!(stats.detached, model.detached);
        assert_eq!(stats.hook_panics, CAUGHT_PANICS.get(), "{stats:?}");
        assert_eq!(
            stats.created - stats.discarded() - stats.detached,
            (held.len() + idle) as u64,
            "{stats:?}"
        );
        if let Some(max_total) = max_total {
            assert!(held.len() + idle <= max_total);
        }
    }
    // Dropping everything: no object outlives the pool and its guards.
    for obj in &mut held {
        obj.armed = false;
    }
    // Returns run the clock, which may panic (caught by the pool).
    assert!(
        perfect21_fuzz::guarded(move || drop(held)).is_ok(),
        "a return panicked"
    );
    let stats = pool.stats();
    assert_eq!(stats.in_use, 0, "{stats:?}");
    assert_eq!(ALIVE.get(), pool.idle() as u64);
    // Armed idle objects may go off in the pool's own drop.
    let _ = perfect21_fuzz::guarded(move || drop(pool));
    assert_eq!(ALIVE.get(), 0, "dropping the pool drops every idle object");
});

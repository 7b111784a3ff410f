//! The RAII guards a get hands out: `Pooled` borrows the pool,
//! `PooledOwned` holds it (`'static`, can cross `.await` and threads).

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::core::Core;
use crate::entry::Boxed;

/// An object on loan from an [`ObjectPool`](crate::ObjectPool), borrowed
/// from it. Dereferences to `T`; on drop the object is reset (the `reset`
/// hook), checked (the `validate` hook) and kept for reuse, or dropped and
/// counted when it fails the check or `max_idle` objects are already idle.
pub struct Pooled<'a, T: Send + 'static> {
    core: &'a Core<T>,
    entry: ManuallyDrop<Boxed<T>>,
}

/// An object on loan from an [`ObjectPool`](crate::ObjectPool) that keeps
/// the pool alive: `'static`, `Send` when `T` is, so it can be held across
/// `.await` points and moved to other threads. Returned like [`Pooled`].
pub struct PooledOwned<T: Send + 'static> {
    core: Arc<Core<T>>,
    entry: ManuallyDrop<Boxed<T>>,
}

impl<'a, T: Send + 'static> Pooled<'a, T> {
    pub(crate) fn new(core: &'a Core<T>, entry: Boxed<T>) -> Self {
        Self {
            core,
            entry: ManuallyDrop::new(entry),
        }
    }

    /// Takes the object out of the pool for good: it will not be reset or
    /// returned, and counts as `detached`. In a capped pool its place is
    /// freed for a new object.
    pub fn detach(self) -> T {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so `entry` is taken exactly once.
        let entry = unsafe { ManuallyDrop::take(&mut this.entry) };
        this.core.detach(entry, this.core.local())
    }
}

impl<T: Send + 'static> PooledOwned<T> {
    pub(crate) fn new(core: Arc<Core<T>>, entry: Boxed<T>) -> Self {
        Self {
            core,
            entry: ManuallyDrop::new(entry),
        }
    }

    /// Takes the object out of the pool for good (see [`Pooled::detach`]).
    pub fn detach(self) -> T {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so `entry` and `core` are each
        // moved out exactly once.
        let (entry, core) = unsafe {
            (
                ManuallyDrop::take(&mut this.entry),
                std::ptr::read(&this.core),
            )
        };
        core.detach(entry, core.local())
    }
}

macro_rules! guard_impls {
    ($guard:ident $(<$lt:lifetime>)?) => {
        impl<$($lt,)? T: Send + 'static> Deref for $guard<$($lt,)? T> {
            type Target = T;
            #[inline(always)]
            fn deref(&self) -> &T {
                &self.entry.value
            }
        }

        impl<$($lt,)? T: Send + 'static> DerefMut for $guard<$($lt,)? T> {
            #[inline(always)]
            fn deref_mut(&mut self) -> &mut T {
                &mut self.entry.value
            }
        }

        impl<$($lt,)? T: Send + 'static> AsRef<T> for $guard<$($lt,)? T> {
            fn as_ref(&self) -> &T {
                self
            }
        }

        impl<$($lt,)? T: Send + 'static> AsMut<T> for $guard<$($lt,)? T> {
            fn as_mut(&mut self) -> &mut T {
                self
            }
        }

        impl<$($lt,)? T: Send + 'static + fmt::Debug> fmt::Debug for $guard<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($guard)).field(&self.entry.value).finish()
            }
        }

        impl<$($lt,)? T: Send + 'static> Drop for $guard<$($lt,)? T> {
            #[inline(always)]
            fn drop(&mut self) {
                // SAFETY: `drop` runs once and `detach` (the only other taker)
                // never lets the guard drop, so `entry` is taken exactly once.
                let entry = unsafe { ManuallyDrop::take(&mut self.entry) };
                self.core.release(entry, self.core.local());
            }
        }
    };
}

guard_impls!(Pooled<'a>);
guard_impls!(PooledOwned);

//! One AF_XDP ring (fill, completion, RX or TX) mapped from the kernel.
//!
//! Each ring is single-producer / single-consumer: the kernel on one side, the owning worker
//! on the other. The producer publishes entries with a Release store of its index after
//! writing them; the consumer reads the producer index with Acquire before reading entries,
//! and publishes its own index with Release once it is done with them (so the producer may
//! reuse the slots). Local copies of both indices ("cached") keep the shared cache lines
//! untouched while there is known room or known data.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::Result;
use crate::sys::Mmap;

/// A mapped ring of `T` (u64 frame addresses for fill/completion, `xdp_desc` for RX/TX).
#[derive(Debug)]
pub(crate) struct Ring<T> {
    _map: Mmap,
    producer: *const AtomicU32,
    consumer: *const AtomicU32,
    flags: *const AtomicU32,
    descs: *mut T,
    mask: u32,
    size: u32,
    cached_prod: u32,
    cached_cons: u32,
}

// SAFETY: the ring's pointers point into the mapping owned by `_map`; the owning worker is
// the only user-space party, and it may move between threads with the ring.
unsafe impl<T: Send> Send for Ring<T> {}

impl<T: Copy> Ring<T> {
    /// Map a ring of `size` entries of socket `fd` at page offset `pgoff` with the kernel's
    /// layout `off`.
    pub(crate) fn map(
        fd: i32,
        size: u32,
        pgoff: u64,
        off: &libc::xdp_ring_offset,
        producer_side: bool,
    ) -> Result<Self> {
        let len = off.desc as usize + size as usize * std::mem::size_of::<T>();
        let map = Mmap::shared(fd, len, pgoff)?;
        let base = map.as_ptr();
        // SAFETY: the kernel guarantees these offsets lie inside the mapping it sized for
        // `size` entries; the index words are 4-byte aligned u32s it updates atomically.
        let (producer, consumer, flags, descs) = unsafe {
            (
                base.add(off.producer as usize) as *const AtomicU32,
                base.add(off.consumer as usize) as *const AtomicU32,
                base.add(off.flags as usize) as *const AtomicU32,
                base.add(off.desc as usize) as *mut T,
            )
        };
        let mut ring = Ring {
            _map: map,
            producer,
            consumer,
            flags,
            descs,
            mask: size - 1,
            size,
            cached_prod: 0,
            cached_cons: 0,
        };
        // SAFETY: the index words were just mapped and stay mapped while `ring` lives.
        unsafe {
            ring.cached_prod = (*ring.producer).load(Ordering::Relaxed);
            ring.cached_cons = (*ring.consumer).load(Ordering::Relaxed);
        }
        if producer_side {
            // A producer sees the whole ring as free until the kernel says otherwise.
            ring.cached_cons = ring.cached_cons.wrapping_add(size);
        }
        Ok(ring)
    }

    fn producer(&self) -> &AtomicU32 {
        // SAFETY: points into the live mapping (see `map`).
        unsafe { &*self.producer }
    }

    fn consumer(&self) -> &AtomicU32 {
        // SAFETY: points into the live mapping (see `map`).
        unsafe { &*self.consumer }
    }

    /// Whether the kernel asks to be woken (XDP_RING_NEED_WAKEUP) for this ring.
    pub(crate) fn needs_wakeup(&self) -> bool {
        // SAFETY: points into the live mapping (see `map`).
        let flags = unsafe { &*self.flags };
        flags.load(Ordering::Relaxed) & libc::XDP_RING_NEED_WAKEUP != 0
    }

    // ---- producer side (fill, TX) ----

    /// Free slots, refreshing from the kernel only when fewer than `want` are known.
    pub(crate) fn free(&mut self, want: u32) -> u32 {
        let free = self.cached_cons.wrapping_sub(self.cached_prod);
        if free >= want {
            return free;
        }
        // Acquire: the kernel finished with the slots before publishing its index.
        self.cached_cons = self
            .consumer()
            .load(Ordering::Acquire)
            .wrapping_add(self.size);
        self.cached_cons.wrapping_sub(self.cached_prod)
    }

    /// Write one entry at the next free slot; the caller checked `free() >= 1`.
    pub(crate) fn push(&mut self, v: T) {
        let idx = (self.cached_prod & self.mask) as usize;
        // SAFETY: idx < size and the slot is free (the caller checked), so the kernel does
        // not read it until we publish the producer index.
        unsafe { self.descs.add(idx).write(v) };
        self.cached_prod = self.cached_prod.wrapping_add(1);
    }

    /// Publish pushed entries to the kernel.
    pub(crate) fn submit(&mut self) {
        // Release: entries written before are visible to the kernel once it sees the index.
        self.producer().store(self.cached_prod, Ordering::Release);
    }

    /// Entries the kernel has not consumed yet (TX: still to be sent).
    pub(crate) fn outstanding(&self) -> u32 {
        self.cached_prod
            .wrapping_sub(self.consumer().load(Ordering::Acquire))
    }

    // ---- consumer side (RX, completion) ----

    /// Entries ready to read, refreshing from the kernel only when fewer than `want` known.
    pub(crate) fn available(&mut self, want: u32) -> u32 {
        let avail = self.cached_prod.wrapping_sub(self.cached_cons);
        if avail >= want {
            return avail;
        }
        // Acquire: entries the kernel wrote are visible once we see its producer index.
        self.cached_prod = self.producer().load(Ordering::Acquire);
        self.cached_prod.wrapping_sub(self.cached_cons)
    }

    /// Read the next entry; the caller checked `available() >= 1`.
    pub(crate) fn pop(&mut self) -> T {
        let idx = (self.cached_cons & self.mask) as usize;
        // SAFETY: idx < size and the slot was published by the kernel (available() >= 1).
        let v = unsafe { self.descs.add(idx).read() };
        self.cached_cons = self.cached_cons.wrapping_add(1);
        v
    }

    /// Give read slots back to the kernel.
    pub(crate) fn release(&mut self) {
        // Release: our reads of the slots happen before the kernel may overwrite them.
        self.consumer().store(self.cached_cons, Ordering::Release);
    }
}

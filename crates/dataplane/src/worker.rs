//! One worker thread: owns queue N of every interface (one AF_XDP socket each, all sharing
//! the worker's UMEM), its processor and its next-hop cache.
//!
//! Loop: poll (blocking in wake-up mode, until the next tick; zero timeout while TX is
//! unfinished or in busy-poll mode) → reclaim completions → RX a batch per socket → process
//! each frame → TX to the egress socket (any interface, same UMEM, no copy) → refill fill
//! rings → flush TX → tick → publish counters. Control requests arrive on a channel, signalled
//! through an eventfd in the poll set, and run between batches. Frames whose next hop has no
//! MAC yet wait in a [`HoldQueue`] and are retried every few milliseconds while any wait.
//!
//! With the XDP fast path on, the worker also owns its flow-map entries
//! ([`crate::fastpath`]): it installs one after forwarding a packet of an offloadable flow,
//! harvests their counters before every tick, and sweeps out stale ones after every tick
//! and control request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use rvs_core::Verdict;

use crate::fastpath::flows::FastPath;
use crate::fastpath::tuple::Tuple;
use crate::hold::{Held, HoldQueue};
use crate::nexthop::{Egress, Miss, NextHopCache};
use crate::processor::PacketProcessor;
use crate::stats::{SharedStats, WorkerStats};
use crate::sys::{EventFd, poll};
use crate::xsk::{FRAME_SIZE, Umem, XskSocket, XskStats};

/// Poll timeout while frames wait for a neighbour: how soon a resolved MAC is used.
const HOLD_RETRY_MS: u64 = 5;

/// A job run on a worker between batches, with its processor.
pub(crate) type Job<P> = Box<dyn FnOnce(&mut P) + Send>;

/// Tunables of the loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoopParams {
    pub batch: u32,
    pub tick: Duration,
    pub busy_poll: bool,
}

/// Everything a worker owns.
pub(crate) struct Worker<P> {
    pub umem: Umem,
    pub sockets: Vec<XskSocket>,
    pub processor: P,
    pub cache: NextHopCache,
    pub held: HoldQueue,
    pub jobs: mpsc::Receiver<Job<P>>,
    pub wake: Arc<EventFd>,
    pub stop: Arc<AtomicBool>,
    pub shared: Arc<SharedStats>,
    pub epoch: std::time::Instant,
    pub params: LoopParams,
    /// The worker's fast-path entries; `None` when the fast path is off.
    pub fast: Option<FastPath>,
}

impl<P: PacketProcessor> Worker<P> {
    pub(crate) fn run(mut self) {
        let mut stats = WorkerStats::default();
        let mut rx = Vec::with_capacity(self.params.batch as usize);
        let mut dirty = vec![false; self.sockets.len()];
        let mut fds: Vec<libc::pollfd> = self
            .sockets
            .iter()
            .map(|s| libc::pollfd {
                fd: std::os::fd::AsRawFd::as_raw_fd(s),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        fds.push(libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&*self.wake),
            events: libc::POLLIN,
            revents: 0,
        });
        for s in &mut self.sockets {
            s.refill(&mut self.umem, u32::MAX);
        }
        let tick_ms = self.params.tick.as_millis().max(1) as u64;
        let mut next_tick = self.now_ms() + tick_ms;
        let mut tx_pending = false;

        while !self.stop.load(Ordering::Acquire) {
            let now_ms = self.now_ms();
            let timeout = if tx_pending || self.params.busy_poll {
                0
            } else {
                let mut t = next_tick.saturating_sub(now_ms);
                if !self.held.is_empty() {
                    t = t.min(HOLD_RETRY_MS);
                }
                t.min(i32::MAX as u64) as i32
            };
            for f in &mut fds {
                f.revents = 0;
            }
            let _ = poll(&mut fds, timeout);
            if fds.last().is_some_and(|f| f.revents != 0) {
                self.wake.drain();
                while let Ok(job) = self.jobs.try_recv() {
                    job(&mut self.processor);
                }
                let now_ms = self.now_ms();
                if let Some(fast) = &mut self.fast {
                    fast.sweep(&mut self.processor, &mut self.cache, now_ms, &mut stats);
                }
            }

            let now_ms = self.now_ms();
            for s in &mut self.sockets {
                s.reclaim(&mut self.umem);
            }
            for slot in 0..self.sockets.len() {
                rx.clear();
                self.sockets[slot].receive(self.params.batch, &mut rx);
                for &(addr, len) in &rx {
                    self.handle(slot, addr, len, now_ms, &mut stats, &mut dirty);
                }
            }
            if !self.held.is_empty() {
                self.retry_held(now_ms, &mut stats, &mut dirty);
            }
            for s in &mut self.sockets {
                s.refill(&mut self.umem, u32::MAX);
                if s.fill_needs_wakeup() && !tx_pending {
                    // The driver stopped for lack of frames; poll() would wake it too, but
                    // it may not run soon if TX keeps us spinning.
                    s.kick_rx();
                }
            }
            tx_pending = false;
            for (slot, d) in dirty.iter_mut().enumerate() {
                if *d {
                    let left = self.sockets[slot].flush_tx();
                    *d = left > 0;
                    tx_pending |= left > 0;
                }
            }

            if now_ms >= next_tick {
                if let Some(fast) = &mut self.fast {
                    fast.harvest(&mut self.processor, now_ms, &mut stats);
                }
                self.processor.tick(rvs_core::Instant::from_millis(now_ms));
                if let Some(fast) = &mut self.fast {
                    fast.sweep(&mut self.processor, &mut self.cache, now_ms, &mut stats);
                }
                stats.ticks += 1;
                let mut x = XskStats::default();
                for s in &self.sockets {
                    if let Ok(k) = s.statistics() {
                        x.merge(&k);
                    }
                }
                stats.xsk = x;
                next_tick = now_ms + tick_ms;
            }
            self.shared.publish(&stats);
        }
        let now_ms = self.now_ms();
        if let Some(fast) = &mut self.fast {
            // The entries die with the worker; their last packets still count.
            fast.flush(&mut self.processor, now_ms, &mut stats);
        }
        self.shared.publish(&stats);
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn handle(
        &mut self,
        rx_slot: usize,
        addr: u64,
        len: u32,
        now_ms: u64,
        stats: &mut WorkerStats,
        dirty: &mut [bool],
    ) {
        stats.rx_packets += 1;
        stats.rx_bytes += u64::from(len);
        let chunk = Umem::chunk_of(addr);
        let start = (addr - chunk) as usize;
        let len = len as usize;
        let Some(frame) = self.umem.frame_mut(addr) else {
            stats.invalid_frame += 1;
            return;
        };
        if start + len > frame.len() {
            stats.invalid_frame += 1;
            self.umem.release(addr);
            return;
        }
        let tagged = stats.vlan_stripped;
        let (start, len) = strip_vlan(frame, start, len, stats);
        // The program keys untagged frames only; read the tuple before the core rewrites it.
        let tuple = match &self.fast {
            Some(_) if stats.vlan_stripped == tagged => Tuple::of_frame(&frame[start..start + len]),
            _ => None,
        };
        let now = rvs_core::Instant::from_millis(now_ms);
        match self.processor.process(frame, start, len, now) {
            Verdict::Drop(_) => {
                stats.processor_drops += 1;
                self.umem.release(addr);
            }
            Verdict::Forward {
                next_hop,
                start,
                len,
            } => {
                if len < 14
                    || start
                        .checked_add(len)
                        .is_none_or(|end| end > FRAME_SIZE as usize)
                {
                    stats.invalid_frame += 1;
                    self.umem.release(addr);
                    return;
                }
                match self.cache.lookup(next_hop, now_ms) {
                    Ok(eg) => {
                        if self.held.holds(next_hop) {
                            // Keep the order: the frames that waited go first.
                            for h in self.held.take(next_hop) {
                                self.send(h, eg, stats, dirty);
                            }
                        }
                        let frame = Held {
                            addr: chunk,
                            start,
                            len,
                            since_ms: now_ms,
                        };
                        if self.send(frame, eg, stats, dirty)
                            && let (Some(fast), Some(t)) = (&mut self.fast, &tuple)
                        {
                            fast.after_forward(
                                &mut self.processor,
                                rx_slot,
                                t,
                                next_hop,
                                &eg,
                                now_ms,
                                stats,
                            );
                        }
                    }
                    Err(Miss::NoNeighbour) => {
                        stats.neighbour_held += 1;
                        let frame = Held {
                            addr: chunk,
                            start,
                            len,
                            since_ms: now_ms,
                        };
                        if let Some(dropped) = self.held.hold(next_hop, frame) {
                            stats.no_neighbour += 1;
                            self.umem.release(dropped.addr);
                        }
                    }
                    Err(miss) => {
                        self.drop_missed(chunk, miss, stats);
                    }
                }
            }
        }
    }

    /// Put a rewritten frame on the TX ring of its egress interface; whether it went.
    fn send(&mut self, f: Held, eg: Egress, stats: &mut WorkerStats, dirty: &mut [bool]) -> bool {
        let Some(frame) = self.umem.frame_mut(f.addr) else {
            stats.invalid_frame += 1;
            return false;
        };
        frame[f.start..f.start + 6].copy_from_slice(&eg.dst_mac);
        frame[f.start + 6..f.start + 12].copy_from_slice(&eg.src_mac);
        let Some(sock) = self.sockets.get_mut(eg.slot) else {
            stats.not_managed += 1;
            self.umem.release(f.addr);
            return false;
        };
        if sock.transmit(f.addr + f.start as u64, f.len as u32) {
            stats.tx_packets += 1;
            stats.tx_bytes += f.len as u64;
            dirty[eg.slot] = true;
            true
        } else {
            stats.tx_ring_full += 1;
            self.umem.release(f.addr);
            false
        }
    }

    /// Count a frame that cannot leave and give its chunk back.
    fn drop_missed(&mut self, chunk: u64, miss: Miss, stats: &mut WorkerStats) {
        match miss {
            Miss::NoNeighbour => stats.no_neighbour += 1,
            Miss::NoRoute => stats.no_route += 1,
            Miss::NotManaged => stats.not_managed += 1,
        }
        self.umem.release(chunk);
    }

    /// Send the frames whose neighbour is now known; drop those that waited too long or
    /// whose route went away.
    fn retry_held(&mut self, now_ms: u64, stats: &mut WorkerStats, dirty: &mut [bool]) {
        for hop in self.held.hops() {
            match self.cache.lookup(hop, now_ms) {
                Ok(eg) => {
                    for h in self.held.take(hop) {
                        self.send(h, eg, stats, dirty);
                    }
                }
                Err(Miss::NoNeighbour) => {}
                Err(miss) => {
                    for h in self.held.take(hop) {
                        self.drop_missed(h.addr, miss, stats);
                    }
                }
            }
        }
        let mut expired = Vec::new();
        self.held.expire(now_ms, &mut expired);
        for h in expired {
            self.drop_missed(h.addr, Miss::NoNeighbour, stats);
        }
    }
}

/// Remove one 802.1Q / 802.1ad tag by moving the MAC addresses 4 bytes forward; the core
/// sees untagged frames and frames leave untagged (serve the VLAN device for tagged links).
fn strip_vlan(
    frame: &mut [u8],
    start: usize,
    len: usize,
    stats: &mut WorkerStats,
) -> (usize, usize) {
    if len < 18 {
        return (start, len);
    }
    let ethertype = u16::from_be_bytes([frame[start + 12], frame[start + 13]]);
    if ethertype != 0x8100 && ethertype != 0x88a8 {
        return (start, len);
    }
    frame.copy_within(start..start + 12, start + 4);
    stats.vlan_stripped += 1;
    (start + 4, len - 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlan_tag_is_removed_and_macs_kept() {
        let mut f = vec![0u8; 64];
        f[0..6].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        f[6..12].copy_from_slice(&[7, 8, 9, 10, 11, 12]);
        f[12..14].copy_from_slice(&[0x81, 0x00]);
        f[14..16].copy_from_slice(&[0x00, 0x64]);
        f[16..18].copy_from_slice(&[0x08, 0x00]);
        let mut s = WorkerStats::default();
        let (start, len) = strip_vlan(&mut f, 0, 64, &mut s);
        assert_eq!((start, len), (4, 60));
        assert_eq!(&f[4..10], &[1, 2, 3, 4, 5, 6]);
        assert_eq!(&f[10..16], &[7, 8, 9, 10, 11, 12]);
        assert_eq!(&f[16..18], &[0x08, 0x00]);
        assert_eq!(s.vlan_stripped, 1);
    }

    #[test]
    fn untagged_frame_is_unchanged() {
        let mut f = vec![0u8; 64];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let mut s = WorkerStats::default();
        assert_eq!(strip_vlan(&mut f, 256 - 256, 64, &mut s), (0, 64));
        assert_eq!(s.vlan_stripped, 0);
    }
}

//! Frames waiting for a neighbour: the kernel queues packets on an unresolved neighbour
//! (`unres_qlen`) and sends them once the MAC is known, so the first SYN towards a real
//! server whose entry expired is not lost and the client does not wait for a retransmit.
//! The worker does the same with its UMEM frames, bounded per next hop and in total (held
//! frames are missing from the fill rings) and in time (the kernel gives up resolving after
//! `mcast_solicit` × `retrans_time`, 3 × 1 s by default).
//!
//! Pure bookkeeping: the worker holds, retries and releases the frames.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// Frames held for one next hop at most (older ones are dropped first, as the kernel does).
pub(crate) const PER_HOP: usize = 16;
/// Frames held in total at most.
pub(crate) const TOTAL: usize = 256;
/// How long a frame may wait for its neighbour.
pub(crate) const HOLD_MS: u64 = 3_000;

/// A rewritten frame waiting to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Held {
    /// UMEM address of the frame's chunk.
    pub addr: u64,
    /// Offset of the frame in its chunk.
    pub start: usize,
    /// Length of the frame.
    pub len: usize,
    /// When it was held.
    pub since_ms: u64,
}

/// The frames of one worker waiting for neighbours, oldest first per next hop.
#[derive(Debug, Default)]
pub(crate) struct HoldQueue {
    by_hop: HashMap<IpAddr, VecDeque<Held>>,
    total: usize,
}

impl HoldQueue {
    /// Whether nothing is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Whether frames for `hop` are waiting (a new frame must queue behind them).
    pub(crate) fn holds(&self, hop: IpAddr) -> bool {
        self.by_hop.contains_key(&hop)
    }

    /// Hold `frame` for `hop`. Returns a frame the caller must drop: the oldest one of `hop`
    /// when its queue is full, or `frame` itself when the worker holds too many.
    pub(crate) fn hold(&mut self, hop: IpAddr, frame: Held) -> Option<Held> {
        let queue = self.by_hop.entry(hop).or_default();
        if queue.len() >= PER_HOP {
            let oldest = queue.pop_front();
            queue.push_back(frame);
            return oldest;
        }
        if self.total >= TOTAL {
            if queue.is_empty() {
                self.by_hop.remove(&hop);
            }
            return Some(frame);
        }
        queue.push_back(frame);
        self.total += 1;
        None
    }

    /// The next hops with frames waiting.
    pub(crate) fn hops(&self) -> Vec<IpAddr> {
        self.by_hop.keys().copied().collect()
    }

    /// Take every frame held for `hop`, oldest first.
    pub(crate) fn take(&mut self, hop: IpAddr) -> VecDeque<Held> {
        let q = self.by_hop.remove(&hop).unwrap_or_default();
        self.total -= q.len();
        q
    }

    /// Remove the frames held since before `now_ms - HOLD_MS` into `out`.
    pub(crate) fn expire(&mut self, now_ms: u64, out: &mut Vec<Held>) {
        let before = out.len();
        self.by_hop.retain(|_, q| {
            while q
                .front()
                .is_some_and(|h| now_ms.saturating_sub(h.since_ms) >= HOLD_MS)
            {
                out.extend(q.pop_front());
            }
            !q.is_empty()
        });
        self.total -= out.len() - before;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(addr: u64, since_ms: u64) -> Held {
        Held {
            addr,
            start: 256,
            len: 60,
            since_ms,
        }
    }

    fn hop(n: u8) -> IpAddr {
        IpAddr::from([198, 51, 100, n])
    }

    #[test]
    fn frames_come_back_in_order_per_hop() {
        let mut q = HoldQueue::default();
        assert!(q.is_empty());
        assert_eq!(q.hold(hop(1), held(1, 0)), None);
        assert_eq!(q.hold(hop(2), held(2, 0)), None);
        assert_eq!(q.hold(hop(1), held(3, 5)), None);
        assert!(q.holds(hop(1)) && q.holds(hop(2)) && !q.holds(hop(3)));
        let mut hops = q.hops();
        hops.sort();
        assert_eq!(hops, vec![hop(1), hop(2)]);
        let got: Vec<u64> = q.take(hop(1)).iter().map(|h| h.addr).collect();
        assert_eq!(got, vec![1, 3]);
        assert!(!q.holds(hop(1)));
        assert_eq!(q.take(hop(2)).len(), 1);
        assert!(q.is_empty());
        assert!(q.take(hop(9)).is_empty());
    }

    #[test]
    fn a_full_hop_drops_its_oldest_frame() {
        let mut q = HoldQueue::default();
        for a in 0..PER_HOP as u64 {
            assert_eq!(q.hold(hop(1), held(a, a)), None);
        }
        assert_eq!(q.hold(hop(1), held(100, 100)), Some(held(0, 0)));
        let q1 = q.take(hop(1));
        assert_eq!(q1.len(), PER_HOP);
        assert_eq!(q1.back().map(|h| h.addr), Some(100));
        assert!(q.is_empty());
    }

    #[test]
    fn the_total_is_bounded() {
        let mut q = HoldQueue::default();
        let mut n = 0u64;
        'fill: for h in 1..=255u8 {
            for _ in 0..PER_HOP {
                if n as usize == TOTAL {
                    break 'fill;
                }
                assert_eq!(q.hold(hop(h), held(n, 0)), None);
                n += 1;
            }
        }
        let extra = held(9999, 0);
        assert_eq!(q.hold(IpAddr::from([203, 0, 113, 1]), extra), Some(extra));
        assert!(
            !q.holds(IpAddr::from([203, 0, 113, 1])),
            "no empty queue left"
        );
        let total: usize = q.hops().into_iter().map(|h| q.take(h).len()).sum();
        assert_eq!(total, TOTAL);
        assert!(q.is_empty());
    }

    #[test]
    fn frames_expire_after_the_hold_time() {
        let mut q = HoldQueue::default();
        q.hold(hop(1), held(1, 0));
        q.hold(hop(1), held(2, 2_000));
        q.hold(hop(2), held(3, 500));
        let mut out = Vec::new();
        q.expire(HOLD_MS - 1, &mut out);
        assert!(out.is_empty());
        q.expire(HOLD_MS + 500, &mut out);
        let mut gone: Vec<u64> = out.iter().map(|h| h.addr).collect();
        gone.sort();
        assert_eq!(gone, vec![1, 3]);
        assert!(!q.holds(hop(2)));
        assert_eq!(q.take(hop(1)).len(), 1);
        assert!(q.is_empty());
    }
}

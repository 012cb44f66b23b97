//! Direct routing: the frame is not modified beyond the TTL; the real server is the next hop.
//!
//! The destination address stays the VIP and the ports are untouched (the real server owns
//! the VIP on a non-ARP interface); only the MACs change, and the driver sets those after
//! resolving the RIP's neighbour entry.

use core::net::IpAddr;

use crate::director::packet::Parsed;
use crate::verdict::Verdict;

/// The verdict that sends the (already TTL-decremented) frame to the real server `rip`.
#[inline]
pub(crate) fn forward(p: &Parsed, rip: IpAddr) -> Verdict {
    Verdict::Forward {
        next_hop: rip,
        start: p.start,
        len: p.end - p.start,
    }
}

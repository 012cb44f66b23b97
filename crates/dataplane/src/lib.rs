//! The rvsd data plane: XDP steering program, AF_XDP sockets, workers, netlink next hops.
//!
//! # Shape
//!
//! ```text
//! NIC/veth ─► rvs_steer (XDP) ─► XDP_PASS: ARP, VRRP, SSH, ICMP echo, health-check replies...
//!                 │ redirect: configured services, NAT replies, ICMP errors about them,
//!                 ▼           port-less fragments to a VIP
//!   AF_XDP socket (interface i, queue N) ─┐  all sockets of worker N share one UMEM
//!   AF_XDP socket (interface j, queue N) ─┴► worker N: RX batch → PacketProcessor::process
//!                                              → Forward{next_hop}: route + neighbour (cached)
//!                                                → MACs written → TX on the egress socket
//!                                              → Drop: frame recycled
//! ```
//!
//! # Public API (what rvsd uses)
//!
//! - [`Dataplane::start`]`(`[`DataplaneConfig`]`, factory)` attaches the program to every
//!   interface (replacing a stale `rvs_steer` left by a netlink attachment), starts the
//!   netlink monitor and one worker per queue; `factory(n, &config)` builds worker n's
//!   [`PacketProcessor`] (the core's director; see [`director`]).
//! - [`Dataplane::apply_steering`]`(&[`[`SteerEntry`]`])`: the VIPs and NAT real servers the
//!   program must redirect; only the difference to the maps is written.
//! - [`Dataplane::query`]: run a closure on every worker's processor between batches and
//!   collect the results (install a configuration snapshot, list connections, per-worker
//!   service stats).
//! - [`Dataplane::stats`]: driver counters per worker and merged, XDP program counters.
//! - [`Dataplane::net_state`]: links, neighbours, local addresses (e.g. a tunnel source).
//! - [`Dataplane::stop`] or drop: workers stop, sockets close, the program is detached.
//!
//! Lower layers are public for tools and tests: [`Steering`] (program + maps),
//! [`xsk`] (UMEM, rings, sockets), [`netlink`] (route/neighbour/link/address queries).
//!
//! # Behaviour worth knowing
//!
//! - Worker N owns queue N of every interface; give NICs as many channels as workers.
//! - Wake-up mode (default): workers sleep in poll() until packets, a control request, or
//!   the next tick (default 1 s, at least 100 ms): idle CPU is ~0. `busy_poll` spins.
//! - The processor gets the whole 4096-byte frame; the packet starts 256 bytes in (the
//!   kernel's XDP headroom), which leaves room to prepend a tunnel header.
//! - 802.1Q/802.1ad tags (one) are stripped on receive; frames leave untagged. For tagged
//!   networks serve the VLAN device.
//! - Forwarding needs the next hop's MAC from the kernel. When it is missing the frame is
//!   dropped and counted (`no_neighbour`) and the kernel is asked to resolve it
//!   (RTM_NEWNEIGH with NTF_USE: an ARP request / neighbour solicitation, nothing sent to
//!   the peer's services); the answer arrives as a netlink event.
//! - Fragments: a first fragment carries the ports and is steered like any packet; later
//!   fragments (no ports) are steered when their destination is a VIP of that protocol (or
//!   their source a NAT real server and destination not local), so the core counts and drops
//!   them as IPVS does instead of the kernel seeing half a datagram.
//! - Fast path (on by default, [`DataplaneConfig::fast_path`]): established TCP and UDP
//!   flows (DR and NAT) are forwarded by the XDP program itself once the core has seen them;
//!   see [`fastpath`]. XDP redirects into a veth need NAPI on its peer (GRO on, or an XDP
//!   program there); failing redirects are counted and those flows fall back to AF_XDP.

pub mod dataplane;
pub mod director;
pub mod error;
pub mod fastpath;
mod hold;
pub mod monitor;
pub mod netlink;
mod nexthop;
pub mod processor;
pub mod stats;
pub mod steer;
mod sys;
mod worker;
pub mod xsk;

pub use dataplane::{Dataplane, DataplaneConfig, DataplaneStats, rx_queue_count};
pub use error::{Error, Result};
pub use monitor::NetState;
pub use nexthop::{Egress, Miss};
pub use processor::PacketProcessor;
pub use stats::WorkerStats;
pub use steer::{Attachment, DEFAULT_FLOW_ENTRIES, SteerEntry, SteerStats, Steering, XdpMode};
pub use xsk::{BindMode, RingSizes};

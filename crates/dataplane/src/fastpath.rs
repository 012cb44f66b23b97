//! The XDP fast path for established flows (Katran-style).
//!
//! The steering program (bpf/steer.bpf.c with bpf/fastpath.h) looks every packet up in a
//! flow map (`rvs_flows`, keyed by ingress ifindex, family, protocol, addresses and ports)
//! before steering it. On a hit it applies the stored action (DR: MACs and TTL; NAT:
//! address/port rewrite with incremental checksums, both directions) and redirects the
//! frame to the egress interface through a DEVMAP; on a miss, or for any packet the core
//! must see (TCP SYN/FIN/RST, IP options, extension headers, fragments, VLAN tags, TTL ≤ 1,
//! bigger than the path MTU), the packet goes to AF_XDP as before.
//!
//! The workers own the entries ([`flows`]): they install one after the core forwarded a
//! packet of an offloadable connection ([`rvs_core::director::Director::offload`]),
//! harvest the per-entry counters into the core's statistics and timers every tick, and
//! remove entries when the core's connection goes away or changes. Redirect failures (a
//! veth whose peer cannot take XDP frames) are counted by a tracing program
//! (bpf/xmit_err.bpf.c) and make the workers fall back to AF_XDP for that egress.
//!
//! [`test_run`] runs the program on one frame (BPF_PROG_TEST_RUN) for differential tests.

pub(crate) mod flows;
pub mod map;
pub mod test_run;
pub mod tuple;

pub use map::{FlowAction, FlowKey};
pub use tuple::Tuple;

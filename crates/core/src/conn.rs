//! Connection table: entries, IPVS TCP/UDP/SCTP state machines, timeouts, persistence templates.
//!
//! One [`ConnTable`] per worker, no locks. It tracks each connection the director forwards
//! as IPVS does (`ip_vs_conn.c`, `ip_vs_proto_*.c`, the per-packet rules of `ip_vs_in`),
//! and never reads a clock: every call that needs the time takes `now`.
//!
//! # Layout and cost
//!
//! Entries (84 bytes) live in a slab indexed by `u32` ([`ConnId`]); one open-addressing
//! index (`index.rs`) finds them by the client side ([`InKey`]: protocol, client addr:port,
//! VIP:port) and, for NAT, by the real-server side ([`OutKey`]: protocol, RIP:port, client
//! addr:port). Both sides hash in packet order (source first), so a reply looked up first
//! as a client-side key (as the director does) lands on the same index line. An index
//! bucket is one cache line holding 12 one-byte hash tags next to 12 entry numbers, so a
//! lookup reads one index line and then only the entry whose tag matches. Hashing is a
//! seeded folded multiply (`key.rs`; one for an IPv4 key, three for IPv6). A packet of an established flow costs one
//! hash, one index line, one entry (two lines) and a few stores into that entry: the timing
//! wheel and the eviction FIFO are not touched (the entry's due time is just moved, the
//! wheel re-checks lazily; the FIFO changes only on state changes). About 117 bytes per
//! connection at 1 000 000 NAT connections, everything included
//! ([`ConnTable::memory_bytes`]): 84 entry, 16 wheel and FIFO links, 17 index.
//! `max_conns` caps the number of entries; nothing grows beyond it.
//!
//! # Counters
//!
//! Every change to a destination's ActiveConn / InActConn / PersistConn is reported as a
//! [`CounterDelta`] to the `sink` closure the caller passes (creation, state change,
//! expiry, eviction, removal). Summing the deltas per destination gives the table's content
//! exactly. Rules: a connection is created INACTIVE; TCP ESTABLISHED, SYN_SENT, SYN_RECV and
//! SYNACK count as active (kernel ≥ 4.7), SCTP ESTABLISHED only, UDP never; templates count
//! in PersistConn.
//!
//! # Use from the director (client → VIP packet)
//!
//! ```text
//! let key = InKey::new(proto, src, sport, dst, dport);
//! let hash = table.hash_in(&key);                      // once per packet
//! match table.lookup_in_hashed(&key, hash) {
//!     Some(id) if table.should_reschedule(id, seg, reuse, weight_is_zero) => {
//!         table.expire_now(id, now, &mut sink);         // then schedule as below
//!     }
//!     Some(id) => { table.on_packet(id, Direction::Input, seg, now, &mut sink); /* forward with table.get(id) */ }
//!     None => {
//!         // persistent service: tk = TemplateKey::new(&svc, netmask, proto, src, dport);
//!         //   t = table.template_lookup(&tk, now, |dest| usable(dest))
//!         //       .or_else(|| schedule + table.insert_template(&NewTemplate{..}, now, &mut sink))
//!         let id = table.insert(&NewConn { key, daddr, dport, method, service, dest,
//!                                          control: t, one_packet, no_cport: false }, now, &mut sink)?;
//!         table.on_packet(id, Direction::Input, seg, now, &mut sink);
//!         // forward; for -o: table.release(id, &mut sink)
//!     }
//! }
//! ```
//! NAT replies: `lookup_out(&OutKey::new(proto, src, sport, dst, dport))` then
//! `on_packet(id, Direction::Output, ..)`. Call [`ConnTable::expire`] regularly (every
//! batch or every tick; [`ConnTable::next_deadline`] says when work is due).
//!
//! # State machine
//!
//! Direction-aware as IPVS: INPUT for client packets, OUTPUT for replies (NAT only), and
//! INPUT-ONLY for client packets while the entry has NOOUTPUT — DR/TUN entries are created
//! with it, NAT entries are not (as `__ip_vs_update_dest` sets it). The first OUTPUT packet
//! clears it. `secure_tcp` selects the kernel's strict table.
//!
//! # Expiry
//!
//! An entry expires `timeout` after its last packet (every packet re-arms), within one
//! wheel tick. A template that still controls connections is postponed by 60 s each time.
//! Forced expiry (`expire_now`, eviction, `expire_dest`) of the last connection of a
//! template that never saw ESTABLISHED drops the template too. When the table is full,
//! `insert` first reaps expired entries, then evicts the connection that has been
//! non-ESTABLISHED the longest, else fails with [`InsertError::TableFull`] (counted).
//! Timeouts are stored as wrapping 32-bit milliseconds and capped at about 12 days
//! ([`MAX_TIMEOUT_MS`]), so `expire` must run more often than that.
//!
//! # Differences from IPVS worth knowing
//!
//! * There is no netfilter conntrack, so conn_reuse_mode never drops the SYN (the kernel's
//!   "1 second delay" cannot happen).
//! * A template found again is re-armed with its current timeout: the persistence timeout,
//!   or 60 s once it has been postponed (as `ip_vs_conn_expire` sets `timeout = 60*HZ`).

mod delta;
mod entry;
mod export;
mod index;
mod key;
mod lookup_v4;
mod lru;
mod params;
mod reuse;
pub mod sctp;
mod table;
pub mod tcp;
mod template;
mod timeouts;
mod timer;

#[cfg(test)]
mod persist_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use delta::{CounterDelta, DeltaReason, TableStats};
pub use entry::{Conn, ConnId, ConnState};
pub use export::{ConnInfo, FLOW_RECORD_LEN, FlowRecord};
pub use key::{InKey, OutKey};
pub use params::{ConnTableConfig, InsertError, NewConn, Segment};
pub use reuse::ReusePolicy;
pub use sctp::{SctpEvent, SctpState};
pub use table::ConnTable;
pub use tcp::{Direction, TcpFlags, TcpState};
pub use template::{FTP_PORT, NewTemplate, TemplateKey, conn_dport, mask_addr, template_dport};
pub use timeouts::MAX_TIMEOUT_MS;

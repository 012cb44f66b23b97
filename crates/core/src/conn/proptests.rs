//! Property tests: random packet sequences, persistence, forced expiry and clock jumps on a
//! small table. After every step the counters summed from the reported deltas equal what
//! the table holds, the cap holds, the indices find every hashed entry and templates count
//! their controlled connections; in the end everything expires and the sums return to zero.

use proptest::prelude::*;

use super::tests::{Counts, apply, ip, nonzero, table_counts};
use super::*;
use crate::Instant;
use crate::model::{ForwardMethod, Protocol, ServiceKey};

#[derive(Debug, Clone)]
enum Op {
    /// A packet from client `c` port `p`, creating the connection if needed.
    Client {
        c: u8,
        p: u8,
        proto: u8,
        flags: u8,
        method: u8,
        dest: u8,
        persistent: bool,
        one_packet: bool,
    },
    /// A reply to the `n`-th live entry.
    Reply { n: u8, flags: u8 },
    /// Forced expiry of the `n`-th live entry.
    ExpireNow { n: u8 },
    /// Let time pass and expire.
    Advance { ms: u32 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..6, 0u8..3, 0u8..3, any::<u8>(), 0u8..3, 0u8..4, any::<bool>(), any::<bool>())
            .prop_map(|(c, p, proto, flags, method, dest, persistent, one_packet)| Op::Client {
                c, p, proto, flags, method, dest, persistent, one_packet
            }),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(n, flags)| Op::Reply { n, flags }),
        1 => any::<u8>().prop_map(|n| Op::ExpireNow { n }),
        2 => prop_oneof![0u32..5_000, 0u32..400_000].prop_map(|ms| Op::Advance { ms }),
    ]
}

fn proto_of(n: u8) -> Protocol {
    match n {
        0 => Protocol::Tcp,
        1 => Protocol::Udp,
        _ => Protocol::Sctp,
    }
}

fn seg(proto: Protocol, flags: u8) -> Segment {
    match proto {
        Protocol::Tcp => Segment::Tcp(TcpFlags(flags)),
        Protocol::Udp => Segment::Udp,
        Protocol::Sctp => Segment::Sctp(SctpEvent::from_chunks(flags % 16, None)),
    }
}

fn method_of(n: u8) -> ForwardMethod {
    match n {
        0 => ForwardMethod::Masq,
        1 => ForwardMethod::Route,
        _ => ForwardMethod::Tunnel,
    }
}

struct World {
    t: ConnTable,
    counts: Counts,
    now: Instant,
}

impl World {
    fn client(&mut self, op: &Op) {
        let Op::Client {
            c,
            p,
            proto,
            flags,
            method,
            dest,
            persistent,
            one_packet,
        } = *op
        else {
            return;
        };
        let proto = proto_of(proto);
        let client = ip(&format!("203.0.113.{}", c + 1));
        let vip = ip("198.51.100.1");
        let cport = 1000 + u16::from(p);
        let key = InKey::new(proto, client, cport, vip, 80);
        let sg = seg(proto, flags);
        let counts = &mut self.counts;
        let mut sink = |d| apply(counts, d);
        let now = self.now;
        if let Some(id) = self.t.lookup_in(&key) {
            let policy = ReusePolicy {
                conn_reuse_mode: 3,
                expire_nodest_conn: false,
            };
            if !self.t.should_reschedule(id, sg, policy, false) {
                self.t.on_packet(id, Direction::Input, sg, now, &mut sink);
                return;
            }
            self.t.expire_now(id, now, &mut sink);
        }
        let one_packet = one_packet && proto == Protocol::Udp;
        let mut control = None;
        let mut dest = u32::from(dest);
        if persistent {
            let svc = ServiceKey::Addr {
                protocol: proto,
                addr: vip,
                port: 80,
            };
            let tk = TemplateKey::new(&svc, 24, proto, client, 80);
            // Destination 3 plays a quiesced server with expire_quiescent_template.
            let found = self.t.template_lookup(&tk, now, |d| d != 3);
            let tpl = match found {
                Some(t) => Some(t),
                None => {
                    let nt = NewTemplate {
                        key: tk,
                        daddr: ip("198.51.100.20"),
                        dport: 80,
                        method: method_of(method),
                        service: 1,
                        dest,
                        timeout_secs: 30,
                    };
                    self.t.insert_template(&nt, now, &mut sink).ok()
                }
            };
            if let Some(t) = tpl {
                dest = self.t.get(t).unwrap().dest_id();
                control = Some(t);
            } else {
                return;
            }
        }
        let n = NewConn {
            key,
            daddr: ip("198.51.100.20"),
            dport: 80,
            method: method_of(method),
            service: 1,
            dest,
            control,
            one_packet,
            no_cport: false,
        };
        if let Ok(id) = self.t.insert(&n, now, &mut sink) {
            self.t.on_packet(id, Direction::Input, sg, now, &mut sink);
            if one_packet {
                self.t.release(id, &mut sink);
            }
        }
    }

    fn step(&mut self, op: &Op) {
        if let Op::Client { .. } = op {
            return self.client(op);
        }
        let nth = |t: &ConnTable, n: u8| {
            let live: Vec<ConnId> = t.iter().map(|c| c.id()).collect();
            (!live.is_empty()).then(|| live[n as usize % live.len()])
        };
        let counts = &mut self.counts;
        let mut sink = |d| apply(counts, d);
        match *op {
            Op::Client { .. } => {}
            Op::Reply { n, flags } => {
                let Some(id) = nth(&self.t, n) else { return };
                let c = self.t.get(id).unwrap();
                if c.is_template() || c.method() != ForwardMethod::Masq {
                    return;
                }
                let proto = proto_of(match c.protocol_number() {
                    6 => 0,
                    17 => 1,
                    _ => 2,
                });
                let k = OutKey::new(
                    proto,
                    c.dest_addr().ip(),
                    c.dport(),
                    c.client().ip(),
                    c.cport(),
                );
                let found = self.t.lookup_out(&k).expect("NAT reply finds its entry");
                self.t.on_packet(
                    found,
                    Direction::Output,
                    seg(proto, flags),
                    self.now,
                    &mut sink,
                );
            }
            Op::ExpireNow { n } => {
                if let Some(id) = nth(&self.t, n) {
                    self.t.expire_now(id, self.now, &mut sink);
                }
            }
            Op::Advance { ms } => {
                self.now = Instant::from_millis(self.now.as_millis() + u64::from(ms));
                self.t.expire(self.now, &mut sink);
            }
        }
    }

    fn check(&self) -> Result<(), TestCaseError> {
        prop_assert!(self.t.len() <= self.t.max_conns());
        prop_assert_eq!(nonzero(&self.counts), nonzero(&table_counts(&self.t)));
        for c in self.t.iter() {
            if let Some(t) = c.control() {
                prop_assert!(self.t.get(t).is_some_and(|x| x.is_template()));
            }
            if c.is_template() {
                let n = self
                    .t
                    .iter()
                    .filter(|x| x.control() == Some(c.id()))
                    .count();
                prop_assert_eq!(c.n_control() as usize, n);
                continue;
            }
            if c.is_one_packet() {
                continue;
            }
            let proto = proto_of(match c.protocol_number() {
                6 => 0,
                17 => 1,
                _ => 2,
            });
            let k = InKey::new(
                proto,
                c.client().ip(),
                c.cport(),
                c.virtual_addr().ip(),
                c.vport(),
            );
            prop_assert_eq!(self.t.lookup_in(&k), Some(c.id()));
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn counters_match_table_through_random_traffic(ops in prop::collection::vec(op(), 1..120)) {
        let mut w = World {
            t: ConnTable::new(ConnTableConfig {
                max_conns: 12,
                seed: 5,
                tick_ms: 100,
                wheel_slots: 64,
                ..Default::default()
            }),
            counts: Counts::new(),
            now: Instant::from_secs(1),
        };
        for op in &ops {
            w.step(op);
            w.check()?;
        }
        // Long enough for ESTABLISHED (900 s) plus template postponements.
        for _ in 0..4 {
            w.step(&Op::Advance { ms: 1_000_000 });
        }
        prop_assert!(w.t.is_empty());
        prop_assert_eq!(nonzero(&w.counts), Counts::new());
        let s = w.t.stats();
        prop_assert_eq!(s.inserted, s.expired + s.evicted + s.removed);
    }

    #[test]
    fn tcp_tables_always_yield_valid_states(
        start in 0u8..11, table in 0usize..3, flags in any::<u8>(), secure in any::<bool>()
    ) {
        let t = [tcp::Table::Input, tcp::Table::Output, tcp::Table::InputOnly][table];
        let n = tcp::next_state(start, t, TcpFlags(flags), secure);
        prop_assert!(TcpState::from_u8(n).is_some());
        if flags & (TcpFlags::SYN | TcpFlags::FIN | TcpFlags::ACK | TcpFlags::RST) == 0 {
            prop_assert_eq!(n, TcpState::Close as u8);
        }
    }
}

//! Property: control-plane operations are all-or-nothing. A failing operation leaves the
//! snapshot (and its generation) exactly as it was; a successful one bumps the generation
//! by one; ids stay unique and stable.

use std::collections::HashMap;
use std::net::IpAddr;

use proptest::prelude::*;
use rvs_core::config::Config;
use rvs_core::model::{
    DestConfig, Family, ForwardMethod, Persistence, Protocol, SchedFlags, ServiceConfig,
    ServiceKey, Timeouts, TunnelType,
};

#[derive(Debug, Clone)]
enum Op {
    AddService(ServiceConfig),
    EditService(ServiceConfig),
    DelService(ServiceKey),
    AddDest(ServiceKey, DestConfig),
    EditDest(ServiceKey, DestConfig),
    DelDest(ServiceKey, IpAddr, u16),
    Timeouts(Timeouts),
    Zero(Option<ServiceKey>),
    Flush,
}

fn key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (0u8..3, 0u8..3, prop_oneof![Just(0u16), Just(80), Just(443)]).prop_map(|(p, a, port)| {
            ServiceKey::Addr {
                protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][usize::from(p)],
                addr: [
                    IpAddr::from([203, 0, 113, 1]),
                    IpAddr::from([203, 0, 113, 2]),
                    "2001:db8::1".parse().unwrap(),
                ][usize::from(a)],
                port,
            }
        }),
        (0u32..3, any::<bool>()).prop_map(|(mark, v6)| ServiceKey::Fwmark {
            mark,
            family: if v6 { Family::Inet6 } else { Family::Inet },
        }),
    ]
}

fn service() -> impl Strategy<Value = ServiceConfig> {
    (
        key(),
        prop_oneof![Just("rr"), Just("wlc"), Just("mh"), Just("nope")],
        proptest::option::of((0u32..400, 0u8..140)),
        any::<bool>(),
        proptest::option::of(prop_oneof![Just(String::new()), Just("sip".to_string())]),
    )
        .prop_map(|(key, s, p, one_packet, pe)| ServiceConfig {
            key,
            scheduler: s.into(),
            sched_flags: SchedFlags::default(),
            persistence: p.map(|(timeout, netmask)| Persistence { timeout, netmask }),
            one_packet,
            pe_name: pe,
        })
}

fn dest() -> impl Strategy<Value = DestConfig> {
    (
        prop_oneof![
            Just(IpAddr::from([198, 51, 100, 1])),
            Just(IpAddr::from([198, 51, 100, 2])),
            Just(IpAddr::from([224, 0, 0, 1])),
            Just("2001:db8::5".parse::<IpAddr>().unwrap()),
        ],
        prop_oneof![Just(0u16), Just(80), Just(8080)],
        0u8..3,
        -2i32..5,
        (0u32..4, 0u32..4),
        0u8..3,
        prop_oneof![Just(0u16), Just(6080)],
    )
        .prop_map(|(addr, port, m, weight, (u, l), tt, tun_port)| DestConfig {
            addr,
            port,
            method: [
                ForwardMethod::Masq,
                ForwardMethod::Route,
                ForwardMethod::Tunnel,
            ][usize::from(m)],
            weight,
            u_threshold: u,
            l_threshold: l,
            tun_type: [TunnelType::Ipip, TunnelType::Gue, TunnelType::Gre][usize::from(tt)],
            tun_port,
            tun_flags: 0,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => service().prop_map(Op::AddService),
        1 => service().prop_map(Op::EditService),
        1 => key().prop_map(Op::DelService),
        6 => (key(), dest()).prop_map(|(k, d)| Op::AddDest(k, d)),
        2 => (key(), dest()).prop_map(|(k, d)| Op::EditDest(k, d)),
        2 => (key(), dest()).prop_map(|(k, d)| Op::DelDest(k, d.addr, d.port)),
        1 => (0u32..5, 0u32..5, prop_oneof![Just(0u32), Just(u32::MAX)]).prop_map(|(a, b, c)| Op::Timeouts(Timeouts { tcp: a, tcp_fin: b, udp: c })),
        1 => proptest::option::of(key()).prop_map(Op::Zero),
        1 => Just(Op::Flush),
    ]
}

fn apply(c: &mut Config, op: &Op) -> bool {
    match op {
        Op::AddService(s) => c.add_service(s.clone()).is_ok(),
        Op::EditService(s) => c.edit_service(s.clone()).is_ok(),
        Op::DelService(k) => c.del_service(k).is_ok(),
        Op::AddDest(k, d) => c.add_dest(k, d.clone()).is_ok(),
        Op::EditDest(k, d) => c.edit_dest(k, d.clone()).is_ok(),
        Op::DelDest(k, a, p) => c.del_dest(k, *a, *p).is_ok(),
        Op::Timeouts(t) => c.set_timeouts(*t).is_ok(),
        Op::Zero(k) => c.zero(k.as_ref()).is_ok(),
        Op::Flush => {
            c.flush();
            true
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn failing_ops_change_nothing(ops in proptest::collection::vec(op(), 1..60)) {
        let mut c = Config::new();
        let mut ids: HashMap<(u32, IpAddr, u16), u32> = HashMap::new();
        let mut successes = 0;
        for op in &ops {
            let before = c.snapshot();
            let ok = apply(&mut c, op);
            let after = c.snapshot();
            if ok {
                successes += 1;
                prop_assert_eq!(after.generation, before.generation + 1);
            } else {
                prop_assert_eq!(&*after, &*before, "{:?}", op);
            }
            // Service ids and destination ids are unique; a destination keeps its id.
            let mut seen = std::collections::HashSet::new();
            for s in after.services() {
                prop_assert!(seen.insert(("s", s.id)));
                for d in &s.dests {
                    prop_assert!(seen.insert(("d", d.id)));
                    if let Some(old) = ids.insert((s.id, d.config.addr, d.config.port), d.id) {
                        prop_assert_eq!(old, d.id);
                    }
                    prop_assert!(d.config.weight >= 0);
                    prop_assert!(d.config.l_threshold <= d.config.u_threshold);
                }
            }
        }
        prop_assert_eq!(c.generation(), successes);
    }
}

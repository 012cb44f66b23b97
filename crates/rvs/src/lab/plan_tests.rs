//! Unit tests of the lab address plan.

use super::*;

const ALL: [Topology; 4] = [Topology::Nat, Topology::Dr, Topology::Tun, Topology::Ha];

fn documentation(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            let o = a.octets();
            o[0..3] == [198, 51, 100] || o[0..3] == [203, 0, 113]
        }
        IpAddr::V6(a) => a.segments()[0..2] == [0x2001, 0xdb8],
    }
}

#[test]
fn every_address_is_a_documentation_address() {
    for t in ALL {
        let plan = Plan::new(t, true);
        for a in &plan.addrs {
            assert!(documentation(a.cidr.addr), "{t:?}: {}", a.cidr);
        }
        for r in &plan.routes {
            assert!(documentation(r.via), "{t:?}: via {}", r.via);
        }
    }
}

#[test]
fn only_real_servers_have_a_default_route_and_it_stays_in_the_lab() {
    for t in ALL {
        let plan = Plan::new(t, true);
        let lab_addrs: Vec<IpAddr> = plan.addrs.iter().map(|a| a.cidr.addr).collect();
        for r in plan.routes.iter().filter(|r| r.dest.is_none()) {
            assert!(matches!(r.ns, Role::Rs1 | Role::Rs2), "{t:?}: {r:?}");
            assert!(
                lab_addrs.contains(&r.via),
                "{t:?}: gateway {} not in lab",
                r.via
            );
        }
    }
}

#[test]
fn every_gateway_is_on_a_connected_subnet_of_its_namespace() {
    for t in ALL {
        let plan = Plan::new(t, true);
        for r in &plan.routes {
            let connected = plan
                .addrs
                .iter()
                .filter(|a| a.at.ns == r.ns)
                .any(|a| same_subnet(a.cidr, r.via));
            assert!(connected, "{t:?}: {r:?}");
        }
    }
}

fn same_subnet(net: Cidr, addr: IpAddr) -> bool {
    match (net.addr, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(net.prefix))
                .unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(net.prefix))
                .unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[test]
fn nat_real_servers_route_through_the_dip_and_others_through_the_router() {
    let nat = Plan::new(Topology::Nat, false);
    assert!(
        nat.routes
            .iter()
            .any(|r| r.ns == Role::Rs1 && r.via == IpAddr::from(nat.dip.v4))
    );
    for t in [Topology::Dr, Topology::Tun, Topology::Ha] {
        let plan = Plan::new(t, false);
        let gw = plan
            .routes
            .iter()
            .find(|r| r.ns == Role::Rs1)
            .map(|r| r.via);
        assert_ne!(
            gw,
            Some(IpAddr::from(plan.dip.v4)),
            "{t:?}: RS gateway must not be the DIP"
        );
    }
}

#[test]
fn ha_lab_has_no_vip_on_either_director() {
    let plan = Plan::new(Topology::Ha, true);
    assert!(plan.has(Role::Director2));
    let vip: [IpAddr; 2] = [plan.vip.v4.into(), plan.vip.v6.into()];
    assert!(!plan.addrs.iter().any(|a| vip.contains(&a.cidr.addr)));
    let dr = Plan::new(Topology::Dr, true);
    assert!(
        dr.addrs
            .iter()
            .any(|a| a.at.ns == Role::Director && vip.contains(&a.cidr.addr))
    );
}

#[test]
fn without_ipv6_no_v6_address_or_route_is_planned() {
    for t in ALL {
        let plan = Plan::new(t, false);
        assert!(plan.addrs.iter().all(|a| a.cidr.addr.is_ipv4()));
        assert!(plan.routes.iter().all(|r| r.via.is_ipv4()));
    }
}

#[test]
fn every_address_is_on_an_interface_that_exists() {
    for t in ALL {
        let plan = Plan::new(t, true);
        let ends: Vec<Iface> = plan.veths.iter().flat_map(|v| [v.a, v.b]).collect();
        for a in &plan.addrs {
            assert!(ends.contains(&a.at), "{t:?}: {a:?}");
        }
    }
}

#[test]
fn every_veth_end_is_in_a_planned_namespace_and_unique_there() {
    for t in ALL {
        let plan = Plan::new(t, true);
        let ends: Vec<Iface> = plan.veths.iter().flat_map(|v| [v.a, v.b]).collect();
        for (i, end) in ends.iter().enumerate() {
            assert!(plan.has(end.ns), "{t:?}: {end:?}");
            assert!(end.dev.len() < 16, "{t:?}: {end:?}");
            assert!(!ends[..i].contains(end), "{t:?}: duplicate {end:?}");
        }
    }
}

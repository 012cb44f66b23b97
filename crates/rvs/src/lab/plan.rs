//! The lab topologies as data: namespaces, veth pairs, bridges, addresses and routes.
//!
//! Pure: nothing here touches the system, so the address plan is unit-tested. Every address
//! comes from the documentation ranges (203.0.113.0/24 client side, 198.51.100.0/24 the LAN,
//! 2001:db8::/32 for IPv6). Nothing routes out: no namespace is connected to the host, and the
//! client, router and directors have no default route. Two labs may use the same addresses
//! because they share nothing (every interface lives inside the lab's own namespaces).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::info::Topology;

/// A host (network namespace) of the lab; the namespace is named `PREFIX-ROLE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The client (CIP).
    Client,
    /// The router between the client's subnet and the LAN (DR, TUN, HA).
    Router,
    /// The namespace holding the LAN bridge `br0`.
    Lan,
    /// The director.
    Director,
    /// The second director (HA).
    Director2,
    /// Real server 1.
    Rs1,
    /// Real server 2.
    Rs2,
}

impl Role {
    /// Every role, in teardown order (hosts first, the LAN last).
    pub const ALL: [Role; 7] = [
        Role::Client,
        Role::Director,
        Role::Director2,
        Role::Router,
        Role::Rs1,
        Role::Rs2,
        Role::Lan,
    ];

    /// The role's suffix in the namespace name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Router => "router",
            Self::Lan => "lan",
            Self::Director => "director",
            Self::Director2 => "director2",
            Self::Rs1 => "rs1",
            Self::Rs2 => "rs2",
        }
    }

    /// The namespace name of this role in lab `prefix`.
    pub fn netns(self, prefix: &str) -> String {
        format!("{prefix}-{}", self.as_str())
    }
}

/// An interface inside a lab namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iface {
    /// The namespace.
    pub ns: Role,
    /// The device name (unique inside that namespace only).
    pub dev: &'static str,
}

/// A veth pair; each end is created directly inside its namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Veth {
    /// One end.
    pub a: Iface,
    /// The other end.
    pub b: Iface,
}

/// An address with its prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length.
    pub prefix: u8,
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// An address assigned to an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IfAddr {
    /// Where.
    pub at: Iface,
    /// What.
    pub cidr: Cidr,
    /// The IPv4 label, as the article's `eth0:0` for the director's VIP.
    pub label: Option<&'static str>,
}

/// A static route; `dest: None` is the default route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The namespace holding the route.
    pub ns: Role,
    /// The destination, or `None` for the default route.
    pub dest: Option<Cidr>,
    /// The gateway.
    pub via: IpAddr,
}

/// How the real servers are prepared, i.e. which forwarding method the lab is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RealServerSetup {
    /// Masquerading: nothing but the gateway (the DIP).
    Nat,
    /// Direct routing: VIP on lo, arp_ignore=1, arp_announce=2 (`rvs realserver dr`).
    Dr,
    /// Tunnelling: as DR plus decapsulation of IP-in-IP (`rvs realserver tun`).
    Tun,
}

/// A host's addresses in both families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    /// IPv4.
    pub v4: Ipv4Addr,
    /// IPv6.
    pub v6: Ipv6Addr,
}

/// The complete description of one lab topology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Which topology.
    pub topology: Topology,
    /// Whether the IPv6 addresses and routes are included.
    pub ipv6: bool,
    /// The namespaces to create.
    pub roles: Vec<Role>,
    /// Namespaces that forward packets (ip_forward / IPv6 forwarding on).
    pub forwarding: Vec<Role>,
    /// Veth pairs.
    pub veths: Vec<Veth>,
    /// Ports of the LAN bridge `br0` inside the `lan` namespace.
    pub bridge_ports: Vec<&'static str>,
    /// Interface addresses.
    pub addrs: Vec<IfAddr>,
    /// Static routes.
    pub routes: Vec<Route>,
    /// How the real servers are set up.
    pub real_servers: RealServerSetup,
    /// The virtual IP.
    pub vip: Pair,
    /// The director's address facing the real servers.
    pub dip: Pair,
    /// The client's address.
    pub client: Pair,
    /// Real server addresses.
    pub rs: [Pair; 2],
    /// The second director's address (HA).
    pub director2: Option<Pair>,
    /// The director's interfaces, for rvsd.
    pub director_ifs: Vec<&'static str>,
}

const fn v4(d: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 51, 100, d)
}

const fn client_net4(d: u8) -> Ipv4Addr {
    Ipv4Addr::new(203, 0, 113, d)
}

/// `2001:db8:NET::HOST`: NET 1 = client side, 2 = LAN, 3 = the TUN lab's real-server subnet.
const fn v6(net: u16, host: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, net, 0, 0, 0, 0, host)
}

fn cidr(addr: impl Into<IpAddr>, prefix: u8) -> Cidr {
    Cidr {
        addr: addr.into(),
        prefix,
    }
}

fn at(ns: Role, dev: &'static str) -> Iface {
    Iface { ns, dev }
}

/// `h` written in decimal, read as hex: host 11 is `2001:db8:2::11` as it is `198.51.100.11`.
const fn hexlike(h: u8) -> u16 {
    (h as u16 / 100) * 0x100 + (h as u16 / 10 % 10) * 0x10 + h as u16 % 10
}

/// Host `h` on the client subnet (203.0.113.h/24, 2001:db8:1::h/64).
fn client_side(h: u8) -> Pair {
    Pair {
        v4: client_net4(h),
        v6: v6(1, hexlike(h)),
    }
}

/// Host `h` on the LAN (198.51.100.h, 2001:db8:2::h).
fn lan(h: u8) -> Pair {
    Pair {
        v4: v4(h),
        v6: v6(2, hexlike(h)),
    }
}

/// Builds plans; collects v4 and v6 items and drops the v6 ones without `--ipv6`.
struct Builder {
    plan: Plan,
}

impl Builder {
    fn new(topology: Topology, ipv6: bool, real_servers: RealServerSetup) -> Self {
        let unset = Pair {
            v4: Ipv4Addr::UNSPECIFIED,
            v6: Ipv6Addr::UNSPECIFIED,
        };
        Self {
            plan: Plan {
                topology,
                ipv6,
                roles: Vec::new(),
                forwarding: Vec::new(),
                veths: Vec::new(),
                bridge_ports: Vec::new(),
                addrs: Vec::new(),
                routes: Vec::new(),
                real_servers,
                vip: unset,
                dip: unset,
                client: unset,
                rs: [unset; 2],
                director2: None,
                director_ifs: Vec::new(),
            },
        }
    }

    fn veth(&mut self, a: Iface, b: Iface) {
        self.plan.veths.push(Veth { a, b });
    }

    /// Connects `iface` to the LAN bridge through a port named after its namespace.
    fn on_lan(&mut self, iface: Iface) {
        let port = iface.ns.as_str();
        self.veth(iface, at(Role::Lan, port));
        self.plan.bridge_ports.push(port);
    }

    /// Assigns `pair` with prefix lengths `p4` / `p6` to `iface`.
    fn addr(&mut self, iface: Iface, pair: Pair, p4: u8, p6: u8, label: Option<&'static str>) {
        self.plan.addrs.push(IfAddr {
            at: iface,
            cidr: cidr(pair.v4, p4),
            label,
        });
        if self.plan.ipv6 {
            self.plan.addrs.push(IfAddr {
                at: iface,
                cidr: cidr(pair.v6, p6),
                label: None,
            });
        }
    }

    fn route4(&mut self, ns: Role, dest: Option<Cidr>, via: Ipv4Addr) {
        self.plan.routes.push(Route {
            ns,
            dest,
            via: via.into(),
        });
    }

    fn route6(&mut self, ns: Role, dest: Option<Cidr>, via: Ipv6Addr) {
        if self.plan.ipv6 {
            self.plan.routes.push(Route {
                ns,
                dest,
                via: via.into(),
            });
        }
    }

    /// Two real servers on the LAN (`eth0`) with addresses `rs`, default route via `gw`.
    fn real_servers(&mut self, rs: [Pair; 2], p4: u8, gw: Pair) {
        for (role, pair) in [(Role::Rs1, rs[0]), (Role::Rs2, rs[1])] {
            self.on_lan(at(role, "eth0"));
            self.addr(at(role, "eth0"), pair, p4, 64, None);
            self.route4(role, None, gw.v4);
            self.route6(role, None, gw.v6);
        }
        self.plan.rs = rs;
    }

    /// The client on `eth0` at 203.0.113.2 / 2001:db8:1::2 facing `peer`.
    fn client(&mut self, peer: Iface) {
        self.veth(at(Role::Client, "eth0"), peer);
        let client = client_side(2);
        self.addr(at(Role::Client, "eth0"), client, 24, 64, None);
        self.plan.client = client;
    }
}

impl Plan {
    /// The plan of `topology`, with IPv6 addresses and routes when `ipv6`.
    pub fn new(topology: Topology, ipv6: bool) -> Plan {
        match topology {
            Topology::Nat => nat(ipv6),
            Topology::Dr => dr(Topology::Dr, ipv6),
            Topology::Ha => dr(Topology::Ha, ipv6),
            Topology::Tun => tun(ipv6),
        }
    }

    /// The namespaces of `role` that exist in this plan.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// §9: client ── eth0 director eth1 ── br0 ── rs1, rs2 (gateway = DIP).
fn nat(ipv6: bool) -> Plan {
    let mut b = Builder::new(Topology::Nat, ipv6, RealServerSetup::Nat);
    b.plan.roles = vec![
        Role::Client,
        Role::Director,
        Role::Lan,
        Role::Rs1,
        Role::Rs2,
    ];
    b.plan.forwarding = vec![Role::Director];
    let (ext, int) = (at(Role::Director, "eth0"), at(Role::Director, "eth1"));
    b.client(ext);
    b.on_lan(int);
    let (vip, dip) = (client_side(1), lan(1));
    b.addr(ext, vip, 24, 64, None);
    b.addr(int, dip, 24, 64, None);
    b.real_servers([lan(11), lan(12)], 24, dip);
    b.plan.vip = vip;
    b.plan.dip = dip;
    b.plan.director_ifs = vec!["eth0", "eth1"];
    b.plan
}

/// §10 (and §11 with a second director): client ── router ── br0 ── director(s), rs1, rs2.
fn dr(topology: Topology, ipv6: bool) -> Plan {
    let ha = topology == Topology::Ha;
    let mut b = Builder::new(topology, ipv6, RealServerSetup::Dr);
    b.plan.roles = vec![Role::Client, Role::Router, Role::Lan, Role::Director];
    if ha {
        b.plan.roles.push(Role::Director2);
    }
    b.plan.roles.extend([Role::Rs1, Role::Rs2]);
    b.plan.forwarding = vec![Role::Router, Role::Director];
    let router_out = at(Role::Router, "eth0");
    b.client(router_out);
    b.addr(router_out, client_side(1), 24, 64, None);
    let router_lan = at(Role::Router, "eth1");
    b.on_lan(router_lan);
    let gw = lan(1);
    b.addr(router_lan, gw, 24, 64, None);
    b.route4(Role::Client, Some(cidr(v4(0), 24)), client_net4(1));
    b.route6(Role::Client, Some(cidr(v6(2, 0), 64)), v6(1, 1));

    let (vip, dip) = (lan(10), lan(2));
    let mut directors = vec![(Role::Director, dip)];
    if ha {
        b.plan.forwarding.push(Role::Director2);
        directors.push((Role::Director2, lan(3)));
        b.plan.director2 = Some(lan(3));
    }
    for (role, addr) in directors {
        let eth0 = at(role, "eth0");
        b.on_lan(eth0);
        b.addr(eth0, addr, 24, 64, None);
        b.route4(role, Some(cidr(client_net4(0), 24)), gw.v4);
        b.route6(role, Some(cidr(v6(1, 0), 64)), gw.v6);
    }
    if !ha {
        // The article's `eth0:0`: the director answers ARP for the VIP; in the HA lab VRRP
        // adds it to whichever director becomes master.
        b.addr(at(Role::Director, "eth0"), vip, 32, 128, Some("eth0:0"));
    }
    b.real_servers([lan(11), lan(12)], 24, gw);
    b.plan.vip = vip;
    b.plan.dip = dip;
    b.plan.director_ifs = vec!["eth0"];
    b.plan
}

/// §7: client ── router ─┬─ director (198.51.100.0/25, holds the VIP)
///                       └─ br0 ── rs1, rs2 (198.51.100.128/25, 2001:db8:3::/64)
fn tun(ipv6: bool) -> Plan {
    let mut b = Builder::new(Topology::Tun, ipv6, RealServerSetup::Tun);
    b.plan.roles = vec![
        Role::Client,
        Role::Router,
        Role::Director,
        Role::Lan,
        Role::Rs1,
        Role::Rs2,
    ];
    b.plan.forwarding = vec![Role::Router, Role::Director];
    let router_out = at(Role::Router, "eth0");
    b.client(router_out);
    b.addr(router_out, client_side(1), 24, 64, None);
    // Director subnet: a point-to-point veth router eth1 ── director eth0.
    let (router_dir, director) = (at(Role::Router, "eth1"), at(Role::Director, "eth0"));
    b.veth(router_dir, director);
    let gw_dir = lan(1);
    b.addr(router_dir, gw_dir, 25, 64, None);
    let (vip, dip) = (lan(10), lan(2));
    b.addr(director, dip, 25, 64, None);
    b.addr(director, vip, 32, 128, Some("eth0:0"));
    // Real-server subnet behind the router.
    let router_rs = at(Role::Router, "eth2");
    b.on_lan(router_rs);
    let gw_rs = Pair {
        v4: v4(129),
        v6: v6(3, 1),
    };
    b.addr(router_rs, gw_rs, 25, 64, None);
    let rs = [131, 132].map(|h| Pair {
        v4: v4(h),
        v6: v6(3, hexlike(h - 120)),
    });
    b.real_servers(rs, 25, gw_rs);

    b.route4(Role::Client, Some(cidr(v4(0), 24)), client_net4(1));
    b.route6(Role::Client, Some(cidr(v6(2, 0), 64)), v6(1, 1));
    b.route6(Role::Client, Some(cidr(v6(3, 0), 64)), v6(1, 1));
    b.route4(Role::Director, Some(cidr(client_net4(0), 24)), gw_dir.v4);
    b.route4(Role::Director, Some(cidr(v4(128), 25)), gw_dir.v4);
    b.route6(Role::Director, Some(cidr(v6(1, 0), 64)), gw_dir.v6);
    b.route6(Role::Director, Some(cidr(v6(3, 0), 64)), gw_dir.v6);
    b.plan.vip = vip;
    b.plan.dip = dip;
    b.plan.director_ifs = vec!["eth0"];
    b.plan
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;

//! Typed rtnetlink queries: routes, neighbours, links, addresses, XDP attachment.

use std::net::IpAddr;

use netlink_packet_core::NLM_F_CREATE;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage, LinkXdp};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteType};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::socket::NlSocket;
use crate::error::{Error, Result};

/// The kernel's answer to "how do I reach this address" (RTM_GETROUTE for one destination).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Output interface index.
    pub oif: u32,
    /// Gateway, if the destination is not on-link.
    pub gateway: Option<IpAddr>,
    /// Preferred source address.
    pub prefsrc: Option<IpAddr>,
    /// Whether the destination is an address of this host (route type local).
    pub local: bool,
}

impl Route {
    /// The address whose link-layer address the frame goes to.
    pub fn neighbour_for(&self, dst: IpAddr) -> IpAddr {
        self.gateway.unwrap_or(dst)
    }
}

/// One network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Hardware (MAC) address, for Ethernet-like links.
    pub mac: Option<[u8; 6]>,
    /// MTU.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// Id of the attached XDP program, if any.
    pub xdp_prog_id: Option<u32>,
}

/// One neighbour cache entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbour {
    /// Interface index.
    pub ifindex: u32,
    /// The neighbour's IP address.
    pub addr: IpAddr,
    /// Its link-layer address, when known.
    pub mac: Option<[u8; 6]>,
    /// NUD_* state bits.
    pub state: u16,
}

impl Neighbour {
    /// Whether the MAC may be used to send (reachable, stale, delay, probe, permanent, noarp).
    pub fn usable(&self) -> bool {
        const NUD_VALID: u16 = 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80;
        self.mac.is_some() && self.state & NUD_VALID != 0
    }
}

/// One address of this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddress {
    /// Interface index.
    pub ifindex: u32,
    /// The address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix_len: u8,
}

fn family_of(addr: IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn route_ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn mac6(b: &[u8]) -> Option<[u8; 6]> {
    <[u8; 6]>::try_from(b).ok()
}

/// Look up the route the kernel would use for `dst`. `Ok(None)`: no route (unreachable).
pub fn route_get(sock: &mut NlSocket, dst: IpAddr) -> Result<Option<Route>> {
    let mut msg = RouteMessage::default();
    msg.header.address_family = family_of(dst);
    msg.header.destination_prefix_length = if dst.is_ipv4() { 32 } else { 128 };
    msg.attributes.push(RouteAttribute::Destination(dst.into()));
    let answers = match sock.request(RouteNetlinkMessage::GetRoute(msg)) {
        Ok(a) => a,
        Err(Error::Netlink(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    for a in answers {
        if let RouteNetlinkMessage::NewRoute(r) = a {
            let mut route = Route {
                oif: 0,
                gateway: None,
                prefsrc: None,
                local: r.header.kind == RouteType::Local,
            };
            if !matches!(r.header.kind, RouteType::Unicast | RouteType::Local) {
                return Ok(None);
            }
            for attr in &r.attributes {
                match attr {
                    RouteAttribute::Oif(i) => route.oif = *i,
                    RouteAttribute::Gateway(g) => route.gateway = route_ip(g),
                    RouteAttribute::PrefSource(s) => route.prefsrc = route_ip(s),
                    _ => {}
                }
            }
            return Ok(Some(route));
        }
    }
    Ok(None)
}

/// A link from an RTM_NEWLINK message.
pub fn link_from(msg: &LinkMessage) -> Link {
    let mut link = Link {
        index: msg.header.index,
        name: String::new(),
        mac: None,
        mtu: 0,
        up: msg.header.flags.contains(LinkFlags::Up),
        xdp_prog_id: None,
    };
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => link.name = n.clone(),
            LinkAttribute::Address(a) => link.mac = mac6(a),
            LinkAttribute::Mtu(m) => link.mtu = *m,
            LinkAttribute::Xdp(x) => {
                for x in x {
                    if let LinkXdp::ProgId(id) = x {
                        link.xdp_prog_id = (*id != 0).then_some(*id);
                    }
                }
            }
            _ => {}
        }
    }
    link
}

/// All links.
pub fn links(sock: &mut NlSocket) -> Result<Vec<Link>> {
    let answers = sock.dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))?;
    Ok(answers
        .iter()
        .filter_map(|a| match a {
            RouteNetlinkMessage::NewLink(l) => Some(link_from(l)),
            _ => None,
        })
        .collect())
}

/// The link with index `index`.
pub fn link(sock: &mut NlSocket, index: u32) -> Result<Link> {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    let answers = sock.request(RouteNetlinkMessage::GetLink(msg))?;
    answers
        .iter()
        .find_map(|a| match a {
            RouteNetlinkMessage::NewLink(l) => Some(link_from(l)),
            _ => None,
        })
        .ok_or_else(|| Error::NoInterface(format!("ifindex {index}")))
}

/// A neighbour from an RTM_NEWNEIGH/RTM_DELNEIGH message (None for non-IP entries).
pub fn neighbour_from(msg: &NeighbourMessage) -> Option<Neighbour> {
    let mut addr = None;
    let mut mac = None;
    for attr in &msg.attributes {
        match attr {
            NeighbourAttribute::Destination(NeighbourAddress::Inet(a)) => {
                addr = Some(IpAddr::V4(*a))
            }
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(a)) => {
                addr = Some(IpAddr::V6(*a))
            }
            NeighbourAttribute::LinkLayerAddress(l) => mac = mac6(l),
            _ => {}
        }
    }
    Some(Neighbour {
        ifindex: msg.header.ifindex,
        addr: addr?,
        mac,
        state: u16::from(msg.header.state),
    })
}

/// The whole neighbour cache (IPv4 and IPv6).
pub fn neighbours(sock: &mut NlSocket) -> Result<Vec<Neighbour>> {
    let answers = sock.dump(RouteNetlinkMessage::GetNeighbour(
        NeighbourMessage::default(),
    ))?;
    Ok(answers
        .iter()
        .filter_map(|a| match a {
            RouteNetlinkMessage::NewNeighbour(n) => neighbour_from(n),
            _ => None,
        })
        .collect())
}

/// Make the kernel resolve `addr` on `ifindex` (ARP request / neighbour solicitation) without
/// sending anything to the peer: RTM_NEWNEIGH with NTF_USE creates the entry if needed and
/// triggers resolution like a packet would. The answer arrives as an RTM_NEWNEIGH event.
pub fn resolve_neighbour(sock: &mut NlSocket, ifindex: u32, addr: IpAddr) -> Result<()> {
    let mut msg = NeighbourMessage::default();
    msg.header.family = family_of(addr);
    msg.header.ifindex = ifindex;
    msg.header.state = NeighbourState::None;
    msg.header.flags = NeighbourFlags::Use;
    msg.attributes
        .push(NeighbourAttribute::Destination(addr.into()));
    sock.request_with(RouteNetlinkMessage::NewNeighbour(msg), NLM_F_CREATE)?;
    Ok(())
}

/// A local address from an RTM_NEWADDR/RTM_DELADDR message.
pub fn address_from(msg: &AddressMessage) -> Option<LocalAddress> {
    let mut local = None;
    let mut address = None;
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Local(a) => local = Some(*a),
            AddressAttribute::Address(a) => address = Some(*a),
            _ => {}
        }
    }
    // IFA_LOCAL is the local end on point-to-point links; IFA_ADDRESS otherwise.
    Some(LocalAddress {
        ifindex: msg.header.index,
        addr: local.or(address)?,
        prefix_len: msg.header.prefix_len,
    })
}

/// All addresses of this host (IPv4 and IPv6).
pub fn addresses(sock: &mut NlSocket) -> Result<Vec<LocalAddress>> {
    let answers = sock.dump(RouteNetlinkMessage::GetAddress(AddressMessage::default()))?;
    Ok(answers
        .iter()
        .filter_map(|a| match a {
            RouteNetlinkMessage::NewAddress(m) => address_from(m),
            _ => None,
        })
        .collect())
}

/// Attach (`fd` ≥ 0) or detach (`fd` = -1) an XDP program through IFLA_XDP, the legacy
/// path; `flags` are XDP_FLAGS_* (the mode must match the attachment to detach it).
pub fn set_xdp_fd(sock: &mut NlSocket, ifindex: u32, fd: i32, flags: u32) -> Result<()> {
    let mut msg = LinkMessage::default();
    msg.header.index = ifindex;
    msg.attributes.push(LinkAttribute::Xdp(vec![
        LinkXdp::Fd(fd),
        LinkXdp::Flags(flags),
    ]));
    sock.request(RouteNetlinkMessage::SetLink(msg))?;
    Ok(())
}

//! The few rtnetlink requests `rvs realserver tun` needs: list links, read and set a link's
//! XDP program. Attaching through netlink (not a bpf_link) keeps the program on the interface
//! after the command exits, with no bpffs pin.

use std::os::fd::RawFd;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    LinkAttribute, LinkFlags, LinkLayerType, LinkMessage, LinkXdp, XdpAttached,
};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use crate::error::{Error, Result};

/// XDP_FLAGS_UPDATE_IF_NOEXIST: never silently replace another program.
pub const XDP_FLAGS_UPDATE_IF_NOEXIST: u32 = 1;
/// XDP_FLAGS_SKB_MODE: generic XDP.
pub const XDP_FLAGS_SKB_MODE: u32 = 2;
/// XDP_FLAGS_DRV_MODE: native XDP in the driver.
pub const XDP_FLAGS_DRV_MODE: u32 = 4;

/// A link as seen by the real-server code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Whether it carries Ethernet frames (the XDP program parses an Ethernet header).
    pub ethernet: bool,
    /// Whether it is the loopback device.
    pub loopback: bool,
    /// The attached XDP program and its mode flags (`XDP_FLAGS_DRV_MODE` or `_SKB_MODE`).
    pub xdp: Option<(u32, u32)>,
}

fn request(msg: LinkMessage, set: bool, dump: bool) -> Result<Vec<LinkMessage>> {
    let mut header = NetlinkHeader::default();
    header.flags =
        NLM_F_REQUEST | if dump { NLM_F_DUMP } else { 0 } | if set { NLM_F_ACK } else { 0 };
    let payload = if set {
        RouteNetlinkMessage::SetLink(msg)
    } else {
        RouteNetlinkMessage::GetLink(msg)
    };
    let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(payload));
    packet.finalize();
    let mut buf = vec![0u8; packet.buffer_len()];
    packet.serialize(&mut buf);

    let nl = |what: &str, e: std::io::Error| Error::Netlink(format!("{what}: {e}"));
    let mut socket = Socket::new(NETLINK_ROUTE).map_err(|e| nl("socket", e))?;
    socket.bind_auto().map_err(|e| nl("bind", e))?;
    socket
        .connect(&SocketAddr::new(0, 0))
        .map_err(|e| nl("connect", e))?;
    socket.send(&buf, 0).map_err(|e| nl("send", e))?;

    let mut links = Vec::new();
    loop {
        let (data, _) = socket.recv_from_full().map_err(|e| nl("recv", e))?;
        let mut offset = 0;
        while offset < data.len() {
            let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&data[offset..])
                .map_err(|e| Error::Netlink(format!("decoding a reply: {e}")))?;
            let len = reply.header.length as usize;
            match reply.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => {
                    links.push(link);
                    if !dump {
                        return Ok(links);
                    }
                }
                NetlinkPayload::Error(err) => {
                    return match err.code {
                        None => Ok(links),
                        Some(code) => Err(Error::Netlink(
                            std::io::Error::from_raw_os_error(-code.get()).to_string(),
                        )),
                    };
                }
                NetlinkPayload::Done(_) => return Ok(links),
                _ => {}
            }
            if len == 0 {
                break;
            }
            offset += len;
        }
    }
}

fn to_link(msg: &LinkMessage) -> Link {
    let mut name = String::new();
    let mut prog = None;
    let mut mode = 0;
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => name.clone_from(n),
            LinkAttribute::Xdp(xdp) => {
                for x in xdp {
                    match x {
                        LinkXdp::ProgId(id) if *id != 0 => prog = Some(*id),
                        LinkXdp::Attached(XdpAttached::Driver) => mode = XDP_FLAGS_DRV_MODE,
                        LinkXdp::Attached(XdpAttached::SocketBuffer) => mode = XDP_FLAGS_SKB_MODE,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Link {
        index: msg.header.index,
        name,
        ethernet: msg.header.link_layer_type == LinkLayerType::Ether,
        loopback: msg.header.flags.contains(LinkFlags::Loopback),
        xdp: prog.map(|id| (id, mode)),
    }
}

/// Every link of the current network namespace.
pub fn links() -> Result<Vec<Link>> {
    Ok(request(LinkMessage::default(), false, true)?
        .iter()
        .map(to_link)
        .collect())
}

/// The link named `name`.
pub fn link(name: &str) -> Result<Link> {
    links()?
        .into_iter()
        .find(|l| l.name == name)
        .ok_or_else(|| Error::Invalid(format!("no interface named `{name}` here")))
}

/// Attaches program `fd` to link `index` (mode flags included), or detaches with `fd = -1`.
pub fn set_xdp(index: u32, fd: RawFd, flags: u32) -> Result<()> {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.attributes.push(LinkAttribute::Xdp(vec![
        LinkXdp::Fd(fd),
        LinkXdp::Flags(flags),
    ]));
    request(msg, true, false).map(drop)
}

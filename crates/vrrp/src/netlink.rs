//! Adding and removing virtual addresses with rtnetlink (what `ip addr add|del` does).

use std::net::IpAddr;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use crate::config::VirtualIp;
use crate::error::Error;

const EEXIST: i32 = 17;
const EADDRNOTAVAIL: i32 = 99;
const ENODEV: i32 = 19;

/// A connected rtnetlink socket.
#[derive(Debug)]
pub struct Netlink {
    socket: Socket,
    seq: u32,
}

fn nl(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Netlink(format!("{what}: {e}"))
}

/// The scope number of `scope` as written in keepalived.conf.
fn scope_of(name: Option<&str>, addr: &IpAddr) -> AddressScope {
    match name {
        Some("host") => AddressScope::Host,
        Some("link") => AddressScope::Link,
        Some("site") => AddressScope::Site,
        Some("nowhere") => AddressScope::Nowhere,
        Some(_) => AddressScope::Universe,
        // The kernel forces link scope on fe80::/10 anyway.
        None if matches!(addr, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80) => {
            AddressScope::Link
        }
        None => AddressScope::Universe,
    }
}

impl Netlink {
    /// Opens the socket.
    pub fn open() -> Result<Netlink, Error> {
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(|e| nl("socket", e))?;
        socket.bind_auto().map_err(|e| nl("bind", e))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(|e| nl("connect", e))?;
        Ok(Netlink { socket, seq: 1 })
    }

    fn message(vip: &VirtualIp, ifindex: u32) -> AddressMessage {
        let mut msg = AddressMessage::default();
        msg.header.family = if vip.addr.is_ipv6() {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        };
        msg.header.prefix_len = vip.prefix_len;
        msg.header.index = ifindex;
        msg.header.scope = scope_of(vip.scope.as_deref(), &vip.addr);
        msg.attributes.push(AddressAttribute::Local(vip.addr));
        msg.attributes.push(AddressAttribute::Address(vip.addr));
        if let Some(IpAddr::V4(b)) = vip.broadcast {
            msg.attributes.push(AddressAttribute::Broadcast(b));
        }
        if let Some(l) = &vip.label {
            msg.attributes.push(AddressAttribute::Label(l.clone()));
        }
        if vip.addr.is_ipv6() {
            // A VIP must work the moment we are master, not after duplicate detection.
            msg.attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        msg
    }

    /// Adds `vip` to interface `ifindex`; already present is success.
    pub fn add_address(&mut self, vip: &VirtualIp, ifindex: u32) -> Result<(), Error> {
        let msg = RouteNetlinkMessage::NewAddress(Self::message(vip, ifindex));
        match self.request(msg, NLM_F_CREATE | NLM_F_EXCL) {
            Err(Some(EEXIST)) | Ok(()) => Ok(()),
            Err(code) => Err(self.failure("adding", vip, code)),
        }
    }

    /// Removes `vip` from interface `ifindex`; already absent is success.
    pub fn remove_address(&mut self, vip: &VirtualIp, ifindex: u32) -> Result<(), Error> {
        let msg = RouteNetlinkMessage::DelAddress(Self::message(vip, ifindex));
        match self.request(msg, 0) {
            Err(Some(EADDRNOTAVAIL | ENODEV)) | Ok(()) => Ok(()),
            Err(code) => Err(self.failure("removing", vip, code)),
        }
    }

    fn failure(&self, what: &str, vip: &VirtualIp, code: Option<i32>) -> Error {
        let reason = match code {
            Some(c) => std::io::Error::from_raw_os_error(c).to_string(),
            None => "no acknowledgement".to_string(),
        };
        Error::Netlink(format!("{what} {}/{}: {reason}", vip.addr, vip.prefix_len))
    }

    /// Sends one request and waits for its ACK; `Err(Some(errno))` on a NACK, `Err(None)`
    /// when the socket failed or the reply made no sense.
    fn request(&mut self, msg: RouteNetlinkMessage, flags: u16) -> Result<(), Option<i32>> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket.send(&buf, 0).map_err(|_| None)?;
        loop {
            let (data, _) = self.socket.recv_from_full().map_err(|_| None)?;
            let mut offset = 0;
            while offset < data.len() {
                let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&data[offset..])
                    .map_err(|_| None)?;
                let len = reply.header.length as usize;
                if reply.header.sequence_number == self.seq
                    && let NetlinkPayload::Error(err) = reply.payload
                {
                    return match err.code {
                        None => Ok(()),
                        Some(code) => Err(Some(-code.get())),
                    };
                }
                if len == 0 {
                    break;
                }
                offset += len;
            }
        }
    }
}

//! UDP "echo": every datagram is answered with the server's name and a newline.
//!
//! The reply leaves from the address the datagram was sent to (IP_PKTINFO / IPV6_PKTINFO), so
//! a DR or TUN real server answers from the VIP on lo, not from its own address.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, sendmsg, setsockopt,
    sockopt,
};
use socket2::{Domain, Protocol, Socket, Type};

/// Binds a UDP socket that reports each datagram's destination address.
pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        // So that 0.0.0.0:P and [::]:P can both be bound, each family on its own socket.
        socket.set_only_v6(true)?;
        setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true)?;
    } else {
        setsockopt(&socket, sockopt::Ipv4PacketInfo, &true)?;
    }
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// Answers datagrams forever (run it on its own thread).
pub fn serve(socket: &UdpSocket, name: &str) -> io::Result<()> {
    let reply = format!("{name}\n");
    let fd = socket.as_raw_fd();
    let mut buf = [0u8; 2048];
    let mut cmsg = nix::cmsg_space!(libc::in6_pktinfo);
    loop {
        let (peer, dst4, dst6) = {
            let mut iov = [IoSliceMut::new(&mut buf)];
            let msg = recvmsg::<SockaddrStorage>(fd, &mut iov, Some(&mut cmsg), MsgFlags::empty())?;
            let (mut dst4, mut dst6) = (None, None);
            for c in msg.cmsgs()? {
                match c {
                    ControlMessageOwned::Ipv4PacketInfo(info) => dst4 = Some(info.ipi_addr),
                    ControlMessageOwned::Ipv6PacketInfo(info) => dst6 = Some(info.ipi6_addr),
                    _ => {}
                }
            }
            (msg.address, dst4, dst6)
        };
        let Some(peer) = peer else { continue };
        let iov = [IoSlice::new(reply.as_bytes())];
        // Source = the datagram's destination; interface left to the routing table.
        let sent = if let Some(dst) = dst4 {
            let info = libc::in_pktinfo {
                ipi_ifindex: 0,
                ipi_spec_dst: dst,
                ipi_addr: libc::in_addr { s_addr: 0 },
            };
            let cmsgs = [ControlMessage::Ipv4PacketInfo(&info)];
            sendmsg(fd, &iov, &cmsgs, MsgFlags::empty(), Some(&peer))
        } else if let Some(dst) = dst6 {
            let info = libc::in6_pktinfo {
                ipi6_addr: dst,
                ipi6_ifindex: 0,
            };
            let cmsgs = [ControlMessage::Ipv6PacketInfo(&info)];
            sendmsg(fd, &iov, &cmsgs, MsgFlags::empty(), Some(&peer))
        } else {
            sendmsg(fd, &iov, &[], MsgFlags::empty(), Some(&peer))
        };
        if let Err(e) = sent {
            // One unreachable peer must not stop the echo for everyone else.
            eprintln!("udp reply to {peer}: {e}");
        }
    }
}

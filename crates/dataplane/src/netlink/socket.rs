//! A blocking rtnetlink socket: one request at a time, answers collected until ACK/DONE.

use std::os::fd::{AsRawFd, RawFd};

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use crate::error::{Error, Result};

/// Receive buffer size: large enough for a dump chunk of the kernel (it uses up to 32 KiB).
const RECV_BUF: usize = 64 * 1024;

/// A synchronous rtnetlink socket.
#[derive(Debug)]
pub struct NlSocket {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl NlSocket {
    /// A socket for requests (no multicast groups).
    pub fn new() -> Result<Self> {
        Self::with_groups(&[])
    }

    /// A socket subscribed to the given RTNLGRP_* multicast groups (for events).
    pub fn with_groups(groups: &[u32]) -> Result<Self> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(|e| Error::sys("socket(netlink)", e))?;
        sock.bind(&SocketAddr::new(0, 0))
            .map_err(|e| Error::sys("bind(netlink)", e))?;
        for g in groups {
            sock.add_membership(*g)
                .map_err(|e| Error::sys("NETLINK_ADD_MEMBERSHIP", e))?;
        }
        Ok(NlSocket {
            sock,
            seq: 0,
            buf: vec![0; RECV_BUF],
        })
    }

    /// Make receives non-blocking (event sockets polled together with other fds).
    pub fn set_non_blocking(&self) -> Result<()> {
        self.sock
            .set_non_blocking(true)
            .map_err(|e| Error::sys("O_NONBLOCK(netlink)", e))
    }

    fn send(&mut self, msg: RouteNetlinkMessage, flags: u16) -> Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut nl = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        nl.finalize();
        let mut out = vec![0u8; nl.buffer_len()];
        nl.serialize(&mut out);
        let kernel = SocketAddr::new(0, 0);
        self.sock
            .send_to(&out, &kernel, 0)
            .map_err(|e| Error::sys("sendto(netlink)", e))?;
        Ok(self.seq)
    }

    /// Send a request expecting a single answer or an ACK; returns the answers.
    pub fn request(&mut self, msg: RouteNetlinkMessage) -> Result<Vec<RouteNetlinkMessage>> {
        let seq = self.send(msg, NLM_F_REQUEST | NLM_F_ACK)?;
        self.collect(seq)
    }

    /// Send a request with extra NLM_F_* flags (e.g. NLM_F_CREATE); returns the answers.
    pub fn request_with(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        let seq = self.send(msg, NLM_F_REQUEST | NLM_F_ACK | flags)?;
        self.collect(seq)
    }

    /// Send a dump request; returns every answer until NLMSG_DONE.
    pub fn dump(&mut self, msg: RouteNetlinkMessage) -> Result<Vec<RouteNetlinkMessage>> {
        let seq = self.send(msg, NLM_F_REQUEST | NLM_F_DUMP)?;
        self.collect(seq)
    }

    fn collect(&mut self, seq: u32) -> Result<Vec<RouteNetlinkMessage>> {
        let mut answers = Vec::new();
        loop {
            let n = self.recv_raw()?;
            let mut done = false;
            for_each_message(&self.buf[..n], |header, payload| {
                if header.sequence_number != seq {
                    return Ok(());
                }
                match payload {
                    NetlinkPayload::Done(_) => done = true,
                    NetlinkPayload::Error(e) => {
                        done = true;
                        if let Some(code) = e.code {
                            let err = std::io::Error::from_raw_os_error(-code.get());
                            return Err(Error::Netlink(err.to_string()));
                        }
                    }
                    // A single (non-dump) answer is followed by the ACK we asked for, so
                    // both kinds of request end on Done or Error.
                    NetlinkPayload::InnerMessage(m) => answers.push(m),
                    _ => {}
                }
                Ok(())
            })?;
            if done {
                return Ok(answers);
            }
        }
    }

    fn recv_raw(&mut self) -> Result<usize> {
        let sock = &self.sock;
        let n = sock
            .recv(&mut &mut self.buf[..], 0)
            .map_err(|e| Error::sys("recv(netlink)", e))?;
        Ok(n)
    }

    /// Read pending event messages (non-blocking socket): calls `f` for each, returns when
    /// nothing is pending. Err(Overrun) tells the caller events were lost (ENOBUFS).
    pub fn drain_events(&mut self, mut f: impl FnMut(RouteNetlinkMessage)) -> Result<(), Overrun> {
        loop {
            let n = match self.sock.recv(&mut &mut self.buf[..], 0) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Err(Overrun),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(Overrun),
            };
            let _ = for_each_message(&self.buf[..n], |_, payload| {
                if let NetlinkPayload::InnerMessage(m) = payload {
                    f(m);
                }
                Ok(())
            });
        }
    }
}

/// Events were lost: the receive buffer overflowed; state must be re-read with dumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overrun;

impl AsRawFd for NlSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

/// Split a datagram into netlink messages; malformed or unknown ones are skipped.
fn for_each_message(
    mut buf: &[u8],
    mut f: impl FnMut(&NetlinkHeader, NetlinkPayload<RouteNetlinkMessage>) -> Result<()>,
) -> Result<()> {
    while buf.len() >= 16 {
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len < 16 || len > buf.len() {
            break;
        }
        if let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[..len]) {
            let (header, payload) = msg.into_parts();
            f(&header, payload)?;
        }
        let aligned = (len + 3) & !3;
        buf = &buf[aligned.min(buf.len())..];
    }
    Ok(())
}

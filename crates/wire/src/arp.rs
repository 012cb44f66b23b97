//! ARP for IPv4 over Ethernet (RFC 826), and gratuitous ARP (RFC 5227 announcements).
//!
//! [`Packet::new_checked`] accepts only hardware type Ethernet (6-byte addresses) and
//! protocol IPv4 (4-byte addresses) — anything else is [`Error::Unsupported`] — and needs
//! the 28 bytes those imply. After it no accessor panics.

use core::net::Ipv4Addr;

use crate::ethernet::{self, Address};
use crate::{Error, Result};

mod field {
    pub type Field = core::ops::Range<usize>;
    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    pub const SHA: Field = 8..14;
    pub const SPA: Field = 14..18;
    pub const THA: Field = 18..24;
    pub const TPA: Field = 24..28;
}

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = field::TPA.end;
/// Length of a gratuitous ARP frame built by [`emit_gratuitous`] (Ethernet + ARP).
pub const GRATUITOUS_FRAME_LEN: usize = ethernet::HEADER_LEN + PACKET_LEN;

/// ARP operation codes.
pub mod operation {
    /// Request.
    pub const REQUEST: u16 = 1;
    /// Reply.
    pub const REPLY: u16 = 2;
}

/// A view of an Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks for Ethernet/IPv4 ARP and its 28-byte length.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let d = self.buffer.as_ref();
        if d.len() < field::OPER.end {
            return Err(Error::Truncated);
        }
        if self.hardware_type() != 1
            || self.protocol_type() != ethernet::ethertype::IPV4
            || d[field::HLEN] != 6
            || d[field::PLEN] != 4
        {
            return Err(Error::Unsupported);
        }
        if d.len() < PACKET_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Hardware type (1 = Ethernet).
    #[inline]
    pub fn hardware_type(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[0], d[1]])
    }

    /// Protocol type (0x0800 = IPv4).
    #[inline]
    pub fn protocol_type(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[2], d[3]])
    }

    /// Operation (see [`operation`]).
    #[inline]
    pub fn operation(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[6], d[7]])
    }

    /// Sender hardware address.
    #[inline]
    pub fn source_hardware_addr(&self) -> Address {
        let d = &self.buffer.as_ref()[field::SHA];
        Address([d[0], d[1], d[2], d[3], d[4], d[5]])
    }

    /// Sender protocol address.
    #[inline]
    pub fn source_protocol_addr(&self) -> Ipv4Addr {
        let d = &self.buffer.as_ref()[field::SPA];
        Ipv4Addr::new(d[0], d[1], d[2], d[3])
    }

    /// Target hardware address.
    #[inline]
    pub fn target_hardware_addr(&self) -> Address {
        let d = &self.buffer.as_ref()[field::THA];
        Address([d[0], d[1], d[2], d[3], d[4], d[5]])
    }

    /// Target protocol address.
    #[inline]
    pub fn target_protocol_addr(&self) -> Ipv4Addr {
        let d = &self.buffer.as_ref()[field::TPA];
        Ipv4Addr::new(d[0], d[1], d[2], d[3])
    }

    /// True for a gratuitous ARP: sender and target protocol addresses are equal.
    #[inline]
    pub fn is_gratuitous(&self) -> bool {
        self.source_protocol_addr() == self.target_protocol_addr()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes hardware type Ethernet, protocol IPv4 and the address lengths.
    #[inline]
    pub fn set_ethernet_ipv4(&mut self) {
        let d = self.buffer.as_mut();
        d[field::HTYPE].copy_from_slice(&1u16.to_be_bytes());
        d[field::PTYPE].copy_from_slice(&ethernet::ethertype::IPV4.to_be_bytes());
        d[field::HLEN] = 6;
        d[field::PLEN] = 4;
    }

    /// Sets the operation.
    #[inline]
    pub fn set_operation(&mut self, op: u16) {
        self.buffer.as_mut()[field::OPER].copy_from_slice(&op.to_be_bytes());
    }

    /// Sets the sender hardware address.
    #[inline]
    pub fn set_source_hardware_addr(&mut self, a: Address) {
        self.buffer.as_mut()[field::SHA].copy_from_slice(&a.0);
    }

    /// Sets the sender protocol address.
    #[inline]
    pub fn set_source_protocol_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SPA].copy_from_slice(&a.octets());
    }

    /// Sets the target hardware address.
    #[inline]
    pub fn set_target_hardware_addr(&mut self, a: Address) {
        self.buffer.as_mut()[field::THA].copy_from_slice(&a.0);
    }

    /// Sets the target protocol address.
    #[inline]
    pub fn set_target_protocol_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::TPA].copy_from_slice(&a.octets());
    }
}

/// A high-level Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Operation (see [`operation`]).
    pub operation: u16,
    /// Sender hardware address.
    pub source_hardware_addr: Address,
    /// Sender protocol address.
    pub source_protocol_addr: Ipv4Addr,
    /// Target hardware address.
    pub target_hardware_addr: Address,
    /// Target protocol address.
    pub target_protocol_addr: Ipv4Addr,
}

impl Repr {
    /// Reads a checked packet.
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Repr {
        Repr {
            operation: p.operation(),
            source_hardware_addr: p.source_hardware_addr(),
            source_protocol_addr: p.source_protocol_addr(),
            target_hardware_addr: p.target_hardware_addr(),
            target_protocol_addr: p.target_protocol_addr(),
        }
    }

    /// A gratuitous ARP announcement of `ip` at `mac` (RFC 5227 §3: a request whose sender
    /// and target protocol addresses are both `ip`, target hardware address zero).
    #[inline]
    pub fn gratuitous(mac: Address, ip: Ipv4Addr) -> Repr {
        Repr {
            operation: operation::REQUEST,
            source_hardware_addr: mac,
            source_protocol_addr: ip,
            target_hardware_addr: Address::default(),
            target_protocol_addr: ip,
        }
    }

    /// Writes the 28-byte ARP packet into `buf`. Errors: [`Error::NoSpace`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let b = buf.get_mut(..PACKET_LEN).ok_or(Error::NoSpace)?;
        let mut p = Packet::new_unchecked(b);
        p.set_ethernet_ipv4();
        p.set_operation(self.operation);
        p.set_source_hardware_addr(self.source_hardware_addr);
        p.set_source_protocol_addr(self.source_protocol_addr);
        p.set_target_hardware_addr(self.target_hardware_addr);
        p.set_target_protocol_addr(self.target_protocol_addr);
        Ok(())
    }
}

/// Builds a broadcast gratuitous ARP frame for `ip` at `mac` into `buf`; returns its
/// length ([`GRATUITOUS_FRAME_LEN`]). Errors: [`Error::NoSpace`].
pub fn emit_gratuitous(buf: &mut [u8], mac: Address, ip: Ipv4Addr) -> Result<usize> {
    let frame = buf.get_mut(..GRATUITOUS_FRAME_LEN).ok_or(Error::NoSpace)?;
    ethernet::emit_header(frame, Address::BROADCAST, mac, ethernet::ethertype::ARP)?;
    Repr::gratuitous(mac, ip).emit(&mut frame[ethernet::HEADER_LEN..])?;
    Ok(GRATUITOUS_FRAME_LEN)
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::fixtures::{self, l3};

    #[test]
    fn request_and_reply() {
        let p = Packet::new_checked(l3(fixtures::ARP_REQUEST)).unwrap();
        assert_eq!(p.operation(), operation::REQUEST);
        assert_eq!(p.source_hardware_addr(), Address([2, 0, 0, 0, 0, 1]));
        assert_eq!(p.source_protocol_addr(), Ipv4Addr::new(198, 51, 100, 1));
        assert_eq!(p.target_protocol_addr(), Ipv4Addr::new(198, 51, 100, 2));
        assert!(!p.is_gratuitous());
        let r = Packet::new_checked(l3(fixtures::ARP_REPLY)).unwrap();
        assert_eq!(r.operation(), operation::REPLY);
        assert_eq!(r.source_hardware_addr(), Address([2, 0, 0, 0, 0, 2]));
        assert_eq!(r.target_hardware_addr(), Address([2, 0, 0, 0, 0, 1]));
        let mut out = [0u8; PACKET_LEN];
        Repr::parse(&r).emit(&mut out).unwrap();
        assert_eq!(&out[..], l3(fixtures::ARP_REPLY));
    }

    #[test]
    fn gratuitous_frame() {
        let mac = Address([2, 0, 0, 0, 0, 9]);
        let vip = Ipv4Addr::new(198, 51, 100, 100);
        let mut buf = [0xaau8; 64];
        assert_eq!(
            emit_gratuitous(&mut buf, mac, vip),
            Ok(GRATUITOUS_FRAME_LEN)
        );
        let f = ethernet::Frame::new_checked(&buf[..GRATUITOUS_FRAME_LEN]).unwrap();
        assert!(f.dst_addr().is_broadcast());
        assert_eq!(
            (f.src_addr(), f.ethertype()),
            (mac, ethernet::ethertype::ARP)
        );
        let p = Packet::new_checked(f.payload()).unwrap();
        assert!(p.is_gratuitous());
        assert_eq!(Repr::parse(&p), Repr::gratuitous(mac, vip));
        assert_eq!(p.target_hardware_addr(), Address::default());
        assert_eq!(
            emit_gratuitous(&mut buf[..41], mac, vip),
            Err(Error::NoSpace)
        );
    }

    #[test]
    fn truncated_and_unsupported() {
        let b = l3(fixtures::ARP_REQUEST);
        for n in 0..b.len() {
            assert_eq!(
                Packet::new_checked(&b[..n]),
                Err(Error::Truncated),
                "prefix {n}"
            );
        }
        let mut x = b.to_vec();
        x[5] = 16; // IPv6-length protocol addresses
        assert_eq!(Packet::new_checked(&x[..]), Err(Error::Unsupported));
        let mut x = b.to_vec();
        x[1] = 6; // IEEE 802 hardware type
        assert_eq!(Packet::new_checked(&x[..]), Err(Error::Unsupported));
    }
}

//! Ethernet II frames and 802.1Q / 802.1ad VLAN tags.
//!
//! [`Frame::new_checked`] only guarantees the 14-byte header; use [`l3_offset`] to skip any
//! VLAN tags and find the network header and its ethertype.

use core::fmt;

use crate::{Error, Result};

/// Ethertype values used by rvs.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// 802.1Q VLAN tag (C-tag).
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service VLAN tag (S-tag, "QinQ").
    pub const QINQ: u16 = 0x88a8;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
}

/// A 48-bit Ethernet MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Address(pub [u8; 6]);

impl Address {
    /// The broadcast address ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: Address = Address([0xff; 6]);

    /// Builds an address from the first 6 bytes of `b`; `None` if shorter.
    #[inline]
    pub fn from_bytes(b: &[u8]) -> Option<Address> {
        b.get(..6)?.try_into().ok().map(Address)
    }

    /// The address bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// True for ff:ff:ff:ff:ff:ff.
    #[inline]
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// True if the group bit is set (multicast or broadcast).
    #[inline]
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 != 0
    }

    /// True for a unicast address (group bit clear).
    #[inline]
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// The 33:33:xx:xx:xx:xx multicast MAC for an IPv6 multicast address (RFC 2464 §7).
    #[inline]
    pub fn ipv6_multicast(addr: &core::net::Ipv6Addr) -> Address {
        let o = addr.octets();
        Address([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

mod field {
    pub type Field = core::ops::Range<usize>;
    pub const DESTINATION: Field = 0..6;
    pub const SOURCE: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const PAYLOAD: usize = 14;
    // Inside a VLAN tag (4 bytes, after the TPID that sits in the outer ethertype field).
    pub const TCI: Field = 0..2;
    pub const INNER_TYPE: Field = 2..4;
}

/// Length of an untagged Ethernet II header.
pub const HEADER_LEN: usize = field::PAYLOAD;
/// Length of one VLAN tag.
pub const VLAN_TAG_LEN: usize = 4;
/// At most this many stacked VLAN tags are skipped by [`l3_offset`].
pub const MAX_VLAN_TAGS: usize = 2;

/// A view of an Ethernet II frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking its length.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps a buffer, checking it holds at least the 14-byte header.
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Frame<T>> {
        let f = Self::new_unchecked(buffer);
        f.check_len()?;
        Ok(f)
    }

    /// Checks the buffer holds at least the header.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Returns the underlying buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Destination MAC address.
    #[inline]
    pub fn dst_addr(&self) -> Address {
        let d = self.buffer.as_ref();
        Address([d[0], d[1], d[2], d[3], d[4], d[5]])
    }

    /// Source MAC address.
    #[inline]
    pub fn src_addr(&self) -> Address {
        let d = &self.buffer.as_ref()[field::SOURCE];
        Address([d[0], d[1], d[2], d[3], d[4], d[5]])
    }

    /// The (outer) ethertype field; a VLAN TPID if the frame is tagged.
    #[inline]
    pub fn ethertype(&self) -> u16 {
        let d = &self.buffer.as_ref()[field::ETHERTYPE];
        u16::from_be_bytes([d[0], d[1]])
    }

    /// VLAN id of the outermost tag, if the frame carries one with enough bytes.
    #[inline]
    pub fn vlan_id(&self) -> Option<u16> {
        match self.ethertype() {
            ethertype::VLAN | ethertype::QINQ => {
                let t = self
                    .buffer
                    .as_ref()
                    .get(HEADER_LEN..HEADER_LEN + VLAN_TAG_LEN)?;
                Some(u16::from_be_bytes([t[0], t[1]]) & 0x0fff)
            }
            _ => None,
        }
    }

    /// Everything after the 14-byte header (including any VLAN tags).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Sets the destination MAC address.
    #[inline]
    pub fn set_dst_addr(&mut self, a: Address) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&a.0);
    }

    /// Sets the source MAC address.
    #[inline]
    pub fn set_src_addr(&mut self, a: Address) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&a.0);
    }

    /// Sets the (outer) ethertype.
    #[inline]
    pub fn set_ethertype(&mut self, t: u16) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&t.to_be_bytes());
    }

    /// Mutable access to everything after the 14-byte header.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// Where the network header of a frame starts, after any VLAN tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct L3 {
    /// Byte offset of the network header from the start of the frame.
    pub offset: usize,
    /// Ethertype of the network header (IPv4, IPv6, ARP...).
    pub ethertype: u16,
    /// VLAN id of the innermost tag, if any.
    pub vlan: Option<u16>,
}

/// Skips up to [`MAX_VLAN_TAGS`] 802.1Q/802.1ad tags and returns the L3 offset and ethertype.
///
/// Errors: [`Error::Truncated`] if the frame ends inside the header or a tag,
/// [`Error::Unsupported`] if more tags are stacked than rvs skips.
#[inline]
pub fn l3_offset(frame: &[u8]) -> Result<L3> {
    let f = Frame::new_checked(frame)?;
    let mut offset = HEADER_LEN;
    let mut ethertype = f.ethertype();
    let mut vlan = None;
    let mut tags = 0;
    while ethertype == ethertype::VLAN || ethertype == ethertype::QINQ {
        if tags == MAX_VLAN_TAGS {
            return Err(Error::Unsupported);
        }
        let tag = frame
            .get(offset..offset + VLAN_TAG_LEN)
            .ok_or(Error::Truncated)?;
        vlan = Some(u16::from_be_bytes([tag[field::TCI.start], tag[1]]) & 0x0fff);
        ethertype = u16::from_be_bytes([tag[field::INNER_TYPE.start], tag[3]]);
        offset += VLAN_TAG_LEN;
        tags += 1;
    }
    Ok(L3 {
        offset,
        ethertype,
        vlan,
    })
}

/// Writes an untagged Ethernet header into `buf[..14]`; returns [`HEADER_LEN`].
#[inline]
pub fn emit_header(buf: &mut [u8], dst: Address, src: Address, ethertype: u16) -> Result<usize> {
    let h = buf.get_mut(..HEADER_LEN).ok_or(Error::NoSpace)?;
    let mut f = Frame::new_unchecked(h);
    f.set_dst_addr(dst);
    f.set_src_addr(src);
    f.set_ethertype(ethertype);
    Ok(HEADER_LEN)
}

#[cfg(test)]
mod test {
    use super::*;

    use crate::fixtures;

    // The same frame with an 802.1ad S-tag (vid 100) and an 802.1Q C-tag (vid 42).
    static QINQ_HEADER: [u8; 22] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0xa8, //
        0x00, 0x64, 0x81, 0x00, 0x20, 0x2a, 0x08, 0x06,
    ];

    #[test]
    fn untagged() {
        let f = Frame::new_checked(&fixtures::ARP_REQUEST).unwrap();
        assert!(f.dst_addr().is_broadcast());
        assert_eq!(f.src_addr(), Address([2, 0, 0, 0, 0, 1]));
        assert_eq!(f.src_addr().to_string(), "02:00:00:00:00:01");
        assert_eq!(f.ethertype(), ethertype::ARP);
        assert_eq!(f.vlan_id(), None);
        assert_eq!(f.payload().len(), 28);
        let l3 = l3_offset(fixtures::ARP_REQUEST).unwrap();
        assert_eq!(
            l3,
            L3 {
                offset: 14,
                ethertype: ethertype::ARP,
                vlan: None
            }
        );
    }

    #[test]
    fn double_tagged() {
        let l3 = l3_offset(&QINQ_HEADER).unwrap();
        assert_eq!(
            l3,
            L3 {
                offset: 22,
                ethertype: ethertype::ARP,
                vlan: Some(42)
            }
        );
        assert_eq!(
            Frame::new_checked(&QINQ_HEADER[..]).unwrap().vlan_id(),
            Some(100)
        );
        for n in 0..QINQ_HEADER.len() {
            assert!(l3_offset(&QINQ_HEADER[..n]).is_err(), "prefix {n}");
        }
        let mut triple = [0u8; 26];
        triple[..12].copy_from_slice(&QINQ_HEADER[..12]);
        triple[12..].copy_from_slice(&[0x81, 0, 0, 1, 0x81, 0, 0, 2, 0x81, 0, 0, 3, 0x08, 0]);
        assert_eq!(l3_offset(&triple), Err(Error::Unsupported));
    }

    #[test]
    fn truncated_prefixes() {
        for frame in fixtures::ALL {
            for n in 0..HEADER_LEN {
                assert_eq!(Frame::new_checked(&frame[..n]), Err(Error::Truncated));
            }
            assert!(l3_offset(frame).is_ok());
        }
    }

    #[test]
    fn emit_round_trip() {
        let mut buf = [0u8; 42];
        emit_header(
            &mut buf,
            Address::BROADCAST,
            Address([2, 0, 0, 0, 0, 1]),
            ethertype::ARP,
        )
        .unwrap();
        assert_eq!(buf[..14], fixtures::ARP_REQUEST[..14]);
        assert_eq!(
            emit_header(&mut buf[..13], Address::BROADCAST, Address::BROADCAST, 0),
            Err(Error::NoSpace)
        );
        let m: core::net::Ipv6Addr = "ff02::1:ff00:2".parse().unwrap();
        assert_eq!(
            Address::ipv6_multicast(&m),
            Address([0x33, 0x33, 0xff, 0, 0, 2])
        );
    }
}

//! ICMP errors: building the ones IPVS sends (fragmentation needed, packet too big, port
//! unreachable, time exceeded, relayed tunnel errors) and rewriting received errors about
//! NAT connections.
//!
//! Built errors follow `icmp_send` / `icmp6_send`: source = the address the offending packet
//! was sent to (the VIP, a local address), TTL / hop limit 64, the offending packet quoted
//! from its IP header up to 576 bytes in all (IPv4) or 1280 (IPv6). They are written in place
//! in front of the quote (using headroom when the quote starts at the received packet), with
//! the received layer-2 header moved to the new front.

use core::net::IpAddr;

use rvs_wire::{checksum, ip_proto, ipv4, ipv6};

use super::nat::{Side, set_ip_addr};
use crate::director::packet::{Parsed, get_addr, get16, put_addr, put16};
use crate::verdict::DropReason;

/// ICMPv4 destination unreachable.
const ICMP_DEST_UNREACH: u8 = 3;
/// ICMPv4 source quench.
const ICMP_SOURCE_QUENCH: u8 = 4;
/// ICMPv4 time exceeded.
const ICMP_TIME_EXCEEDED: u8 = 11;
/// ICMPv4 code "fragmentation needed and DF set".
pub(crate) const ICMP_FRAG_NEEDED: u8 = 4;
/// ICMPv6 packet too big.
const ICMPV6_PKT_TOOBIG: u8 = 2;
/// ICMPv6 destination unreachable.
const ICMPV6_DEST_UNREACH: u8 = 1;
/// ICMPv6 time exceeded.
const ICMPV6_TIME_EXCEED: u8 = 3;

/// An ICMP error the director sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IcmpKind {
    /// IPv4 destination unreachable / fragmentation needed, with the next-hop MTU.
    FragNeeded(u16),
    /// ICMPv6 packet too big, with the MTU.
    PacketTooBig(u32),
    /// Destination unreachable / port unreachable (ICMPv6: type 1 code 4), as `ip_vs_leave`
    /// sends when a service has no usable destination.
    PortUnreachable,
    /// Time exceeded in transit: TTL (type 11 code 0) or hop limit (ICMPv6 type 3 code 0),
    /// as `decrement_ttl` in `ip_vs_xmit.c` and `ip_forward` send.
    TimeExceeded,
    /// Relay an error with this type, code and second header word (tunnel errors).
    Relay {
        /// ICMP type.
        icmp_type: u8,
        /// ICMP code.
        code: u8,
        /// Bytes 4..8 of the ICMP header.
        rest: [u8; 4],
    },
}

impl IcmpKind {
    /// Type, code and second header word of the message in the family `v6` says.
    fn header(self, v6: bool) -> (u8, u8, [u8; 4]) {
        match self {
            IcmpKind::FragNeeded(mtu) => {
                let m = mtu.to_be_bytes();
                (ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, [0, 0, m[0], m[1]])
            }
            IcmpKind::PacketTooBig(mtu) => (ICMPV6_PKT_TOOBIG, 0, mtu.to_be_bytes()),
            IcmpKind::PortUnreachable if v6 => (ICMPV6_DEST_UNREACH, 4, [0; 4]),
            IcmpKind::PortUnreachable => (ICMP_DEST_UNREACH, 3, [0; 4]),
            IcmpKind::TimeExceeded if v6 => (ICMPV6_TIME_EXCEED, 0, [0; 4]),
            IcmpKind::TimeExceeded => (ICMP_TIME_EXCEEDED, 0, [0; 4]),
            IcmpKind::Relay {
                icmp_type,
                code,
                rest,
            } => (icmp_type, code, rest),
        }
    }
}

/// Build an ICMP error quoting the packet at `quote..end` (an IP packet, possibly cut), in
/// front of it, from `src` to `dst`; the layer-2 header found at `l2_start..l2_end` is copied
/// to the new front. Returns the new frame's (start, len).
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_error(
    buf: &mut [u8],
    l2_start: usize,
    l2_end: usize,
    quote: usize,
    end: usize,
    src: IpAddr,
    dst: IpAddr,
    kind: IcmpKind,
) -> Result<(usize, usize), DropReason> {
    let v6 = src.is_ipv6();
    if dst.is_ipv6() != v6 {
        return Err(DropReason::Malformed);
    }
    let (hl, max_quote) = if v6 { (48, 1280 - 48) } else { (28, 576 - 28) };
    let l2 = l2_end - l2_start;
    let ip = quote.checked_sub(hl).ok_or(DropReason::NoHeadroom)?;
    let new_start = ip.checked_sub(l2).ok_or(DropReason::NoHeadroom)?;
    let qlen = (end - quote).min(max_quote);
    let (ty, code, rest) = kind.header(v6);
    let quoted_tos = if v6 { 0 } else { buf[quote + 1] };
    buf.copy_within(l2_start..l2_end, new_start);
    let icmp = ip + hl - 8;
    let icmp_len = 8 + qlen;
    buf[icmp] = ty;
    buf[icmp + 1] = code;
    buf[icmp + 2..icmp + 4].fill(0);
    buf[icmp + 4..icmp + 8].copy_from_slice(&rest);
    if v6 {
        put16(buf, new_start + l2 - 2, rvs_wire::ethernet::ethertype::IPV6);
        buf[ip..ip + 4].copy_from_slice(&[0x60, 0, 0, 0]);
        put16(buf, ip + 4, icmp_len as u16);
        buf[ip + 6] = ip_proto::ICMPV6;
        buf[ip + 7] = 64;
        put_addr(buf, ip + 8, src);
        put_addr(buf, ip + 24, dst);
        let ph = checksum::pseudo_header(&src, &dst, ip_proto::ICMPV6, icmp_len as u32);
        let c = checksum::finish(checksum::combine(&[
            ph,
            checksum::data(&buf[icmp..icmp + icmp_len]),
        ]));
        put16(buf, icmp + 2, c);
    } else {
        put16(buf, new_start + l2 - 2, rvs_wire::ethernet::ethertype::IPV4);
        let h = &mut buf[ip..ip + 20];
        h[0] = 0x45;
        h[1] = (quoted_tos & 0x1e) | 0xc0;
        h[2..4].copy_from_slice(&((20 + icmp_len) as u16).to_be_bytes());
        h[4..8].fill(0);
        h[8] = 64;
        h[9] = ip_proto::ICMP;
        h[10..12].fill(0);
        put_addr(h, 12, src);
        put_addr(h, 16, dst);
        let c = checksum::finish(checksum::data(&buf[ip..ip + 20]));
        put16(buf, ip + 10, c);
        let c = checksum::finish(checksum::data(&buf[icmp..icmp + icmp_len]));
        put16(buf, icmp + 2, c);
    }
    Ok((new_start, l2 + hl + qlen))
}

/// A received ICMP error and the packet it quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IcmpError {
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
    /// Offset of the quoted IP header.
    pub emb_l3: usize,
    /// Offset of the quoted transport header.
    pub emb_l4: usize,
    /// Protocol of the quoted packet (TCP, UDP, SCTP or IPIP).
    pub emb_proto: u8,
    /// Quoted source address.
    pub emb_src: IpAddr,
    /// Quoted destination address.
    pub emb_dst: IpAddr,
    /// Quoted source port (0 for IPIP).
    pub emb_sport: u16,
    /// Quoted destination port (0 for IPIP).
    pub emb_dport: u16,
}

/// Validate an ICMP / ICMPv6 message as an error IPVS associates with connections: types
/// 3, 4, 11 (IPv4) or < 128 (IPv6), checksum valid, quoting the first fragment of a TCP,
/// UDP, SCTP (or, IPv4, IP-in-IP) packet whose ports are present.
pub(crate) fn parse_error(buf: &[u8], p: &Parsed) -> Result<IcmpError, DropReason> {
    let msg = &buf[p.l4..p.end];
    let (ty, code) = (msg[0], msg[1]);
    if p.v6 {
        if ty >= 128 {
            return Err(DropReason::IcmpUnrelated);
        }
        let ph = checksum::pseudo_header(&p.src(), &p.dst(), ip_proto::ICMPV6, msg.len() as u32);
        if checksum::combine(&[ph, checksum::data(msg)]) != 0xffff {
            return Err(DropReason::BadChecksum);
        }
    } else {
        if !matches!(
            ty,
            ICMP_DEST_UNREACH | ICMP_SOURCE_QUENCH | ICMP_TIME_EXCEEDED
        ) {
            return Err(DropReason::IcmpUnrelated);
        }
        if checksum::data(msg) != 0xffff {
            return Err(DropReason::BadChecksum);
        }
    }
    let emb_l3 = p.l4 + 8;
    let quote = &buf[emb_l3..p.end];
    let (emb_l4, emb_proto, emb_src, emb_dst) = if p.v6 {
        let q = ipv6::Packet::new_checked_partial(quote).map_err(|_| DropReason::Malformed)?;
        let ul = rvs_wire::ipv6::walk_ext_headers(quote, q.next_header(), ipv6::HEADER_LEN)
            .map_err(|_| DropReason::Malformed)?;
        if !ul.has_transport_header() {
            return Err(DropReason::IcmpUnrelated);
        }
        (
            emb_l3 + ul.offset,
            ul.protocol,
            IpAddr::V6(q.src_addr()),
            IpAddr::V6(q.dst_addr()),
        )
    } else {
        let q = ipv4::Packet::new_checked_partial(quote).map_err(|_| DropReason::Malformed)?;
        if q.is_non_first_fragment() {
            return Err(DropReason::IcmpUnrelated);
        }
        (
            emb_l3 + q.header_len(),
            q.protocol(),
            IpAddr::V4(q.src_addr()),
            IpAddr::V4(q.dst_addr()),
        )
    };
    let (emb_sport, emb_dport) = match emb_proto {
        ip_proto::TCP | ip_proto::UDP | ip_proto::SCTP => {
            let (s, d) = rvs_wire::transport_ports(&buf[emb_l4..p.end])
                .map_err(|_| DropReason::Malformed)?;
            (s, d)
        }
        ip_proto::IPIP if !p.v6 => (0, 0),
        _ => return Err(DropReason::IcmpUnrelated),
    };
    Ok(IcmpError {
        icmp_type: ty,
        code,
        emb_l3,
        emb_l4,
        emb_proto,
        emb_src,
        emb_dst,
        emb_sport,
        emb_dport,
    })
}

/// `ip_vs_nat_icmp`: rewrite an ICMP error about a NAT connection. `outer` is the end of the
/// outer packet that changes (in: destination VIP → RIP; out: source RIP → VIP); the quoted
/// packet's opposite end changes to the same `addr:port`. The quoted IPv4 header checksum
/// and the ICMP checksum are recomputed, the outer IPv4 checksum patched.
pub(crate) fn nat_rewrite(
    buf: &mut [u8],
    p: &Parsed,
    e: &IcmpError,
    outer: Side,
    addr: IpAddr,
    port: u16,
) -> Result<(), DropReason> {
    if addr.is_ipv6() != p.v6 {
        return Err(DropReason::Malformed);
    }
    let (outer_old, emb_side, emb_old, port_at) = match outer {
        Side::Dst => (p.dst(), Side::Src, e.emb_src, e.emb_l4),
        Side::Src => (p.src(), Side::Dst, e.emb_dst, e.emb_l4 + 2),
    };
    set_ip_addr(buf, p.l3, p.v6, outer, outer_old, addr);
    set_ip_addr(buf, e.emb_l3, p.v6, emb_side, emb_old, addr);
    put16(buf, port_at, port);
    if !p.v6 {
        let hl = usize::from(buf[e.emb_l3] & 0x0f) * 4;
        put16(buf, e.emb_l3 + 10, 0);
        let c = checksum::finish(checksum::data(&buf[e.emb_l3..e.emb_l3 + hl]));
        put16(buf, e.emb_l3 + 10, c);
    }
    fill_icmp_checksum(buf, p);
    Ok(())
}

/// Recompute the checksum of the ICMP message `p.l4..p.end` (ICMPv6: with the pseudo header
/// of the addresses now in the IP header).
pub(crate) fn fill_icmp_checksum(buf: &mut [u8], p: &Parsed) {
    put16(buf, p.l4 + 2, 0);
    let msg = &buf[p.l4..p.end];
    let c = if p.v6 {
        let src = get_addr(buf, p.l3 + 8, true);
        let dst = get_addr(buf, p.l3 + 24, true);
        let ph = checksum::pseudo_header(&src, &dst, ip_proto::ICMPV6, msg.len() as u32);
        checksum::finish(checksum::combine(&[ph, checksum::data(msg)]))
    } else {
        checksum::finish(checksum::data(msg))
    };
    put16(buf, p.l4 + 2, c);
}

/// The client packet inside an IP-in-IP packet quoted by an ICMP error (IPv4 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TunnelQuote {
    /// Offset of the inner IPv4 header.
    pub l3: usize,
    /// Inner protocol.
    pub proto: u8,
    /// Client address.
    pub src: IpAddr,
    /// VIP.
    pub dst: IpAddr,
    /// Client port.
    pub sport: u16,
    /// Virtual port.
    pub dport: u16,
    /// DF of the inner packet.
    pub df: bool,
}

/// The inner client packet of a quoted IP-in-IP packet, if its ports are present.
pub(crate) fn tunnel_quote(buf: &[u8], p: &Parsed, e: &IcmpError) -> Option<TunnelQuote> {
    if e.emb_proto != ip_proto::IPIP || p.v6 {
        return None;
    }
    let q = ipv4::Packet::new_checked_partial(&buf[e.emb_l4..p.end]).ok()?;
    if q.is_non_first_fragment() {
        return None;
    }
    let l4 = e.emb_l4 + q.header_len();
    let (sport, dport) = rvs_wire::transport_ports(&buf[l4..p.end]).ok()?;
    Some(TunnelQuote {
        l3: e.emb_l4,
        proto: q.protocol(),
        src: IpAddr::V4(q.src_addr()),
        dst: IpAddr::V4(q.dst_addr()),
        sport,
        dport,
        df: q.dont_frag(),
    })
}

/// Relay an error about a packet the director tunnelled to the client, quoting the client's
/// own packet, as `ip_vs_in_icmp` does for IP-in-IP. A frag-needed error about an inner
/// packet without DF is consumed (`IcmpConsumed`); otherwise the next-hop MTU is lowered by
/// the 20-byte outer header when it is above 88. Returns the new frame's (start, len).
pub(crate) fn relay_tunnel_error(
    buf: &mut [u8],
    p: &Parsed,
    e: &IcmpError,
    q: &TunnelQuote,
) -> Result<(usize, usize), DropReason> {
    let mut rest = [0u8; 4];
    rest.copy_from_slice(&buf[p.l4 + 4..p.l4 + 8]);
    if e.icmp_type == ICMP_DEST_UNREACH && e.code == ICMP_FRAG_NEEDED {
        if !q.df {
            return Err(DropReason::IcmpConsumed);
        }
        let mut mtu = get16(buf, p.l4 + 6);
        if mtu > 88 {
            mtu -= 20;
        }
        rest[2..4].copy_from_slice(&mtu.to_be_bytes());
    }
    let kind = IcmpKind::Relay {
        icmp_type: e.icmp_type,
        code: e.code,
        rest,
    };
    build_error(buf, p.start, p.l3, q.l3, p.end, q.dst, q.src, kind)
}

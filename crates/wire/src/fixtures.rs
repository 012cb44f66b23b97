//! Packet fixtures for the unit tests: whole Ethernet frames captured with tcpdump on a
//! veth link of a throw-away namespace lab (`fixtures/lab.sh`, `fixtures/pings.py`), TX
//! checksum offload off, addresses from 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32.
//!
//! Client 198.51.100.1 / 2001:db8:1::1 (02:00:00:00:00:01), router .2 / ::2
//! (02:00:00:00:00:02), server 203.0.113.2 / 2001:db8:2::2 behind a 1280-byte MTU link.

macro_rules! fixture {
    ($name:ident, $file:literal, $doc:literal) => {
        #[doc = $doc]
        pub static $name: &[u8] = include_bytes!(concat!("fixtures/", $file, ".bin"));
    };
}

fixture!(
    ARP_REQUEST,
    "arp_request",
    "ARP who-has 198.51.100.2 tell 198.51.100.1."
);
fixture!(
    ARP_REPLY,
    "arp_reply",
    "ARP 198.51.100.2 is-at 02:00:00:00:00:02."
);
fixture!(
    ICMPV4_ECHO_REQUEST,
    "icmpv4_echo_request",
    "Echo request id 0x1234 seq 1, 56 data bytes, DF."
);
fixture!(
    ICMPV4_FRAG_NEEDED,
    "icmpv4_frag_needed",
    "Router's frag-needed (mtu 1280), 576-byte IP packet, TOS 0xc0."
);
fixture!(
    ICMPV4_PORT_UNREACH,
    "icmpv4_port_unreach",
    "Port unreachable quoting the UDP datagram to 5353."
);
fixture!(
    TCPV4_SYN,
    "tcpv4_syn",
    "SYN 198.51.100.1:59348 -> 203.0.113.2:8080 with MSS/SACK/TS/WS options."
);
fixture!(
    TCPV4_SYN_ACK,
    "tcpv4_syn_ack",
    "SYN-ACK 203.0.113.2:8080 -> 198.51.100.1:59348."
);
fixture!(
    TCPV4_PSH_DATA,
    "tcpv4_psh_data",
    "PSH-ACK carrying `GET / HTTP/1.0\\r\\n\\r\\n` (18 bytes)."
);
fixture!(TCPV4_RST, "tcpv4_rst", "Bare RST, no options, IP id 0.");
fixture!(
    UDPV4_DATAGRAM,
    "udpv4_datagram",
    "UDP 198.51.100.1:36589 -> 203.0.113.2:5353, 20 bytes of data."
);
fixture!(
    IPV6_HBH_MLD_REPORT,
    "ipv6_hbh_mld_report",
    "MLDv2 report behind a Hop-by-Hop router-alert header."
);
fixture!(
    ICMPV6_NEIGHBOR_SOLICIT,
    "icmpv6_neighbor_solicit",
    "NS who-has 2001:db8:1::2 with source link-layer option."
);
fixture!(
    ICMPV6_NEIGHBOR_ADVERT,
    "icmpv6_neighbor_advert",
    "Solicited NA (R,S,O) for 2001:db8:1::2 with target link-layer option."
);
fixture!(
    ICMPV6_ECHO_REQUEST,
    "icmpv6_echo_request",
    "Echo request id 0x1234 seq 1, flow label 0x2f39d."
);
fixture!(
    ICMPV6_PACKET_TOO_BIG,
    "icmpv6_packet_too_big",
    "Router's packet-too-big (mtu 1280), 1280-byte IPv6 packet."
);
fixture!(
    IPV6_FRAGMENT_FIRST,
    "ipv6_fragment_first",
    "First fragment (offset 0, M) of an echo request."
);
fixture!(
    IPV6_FRAGMENT_SECOND,
    "ipv6_fragment_second",
    "Last fragment (offset 1232) of the same echo request."
);
fixture!(
    ICMPV6_PORT_UNREACH,
    "icmpv6_port_unreach",
    "Port unreachable quoting the UDP datagram to 5353."
);
fixture!(
    UDPV6_DATAGRAM,
    "udpv6_datagram",
    "UDP 2001:db8:1::1:56568 -> 2001:db8:2::2:5353, 21 bytes of data."
);
fixture!(
    TCPV6_SYN,
    "tcpv6_syn",
    "SYN 2001:db8:1::1:59136 -> 2001:db8:2::2:81 with options."
);
fixture!(
    TCPV6_RST_ACK,
    "tcpv6_rst_ack",
    "RST-ACK answering the SYN (closed port)."
);

/// Every fixture frame, for the "every truncated prefix is rejected" tests.
pub static ALL: &[&[u8]] = &[
    ARP_REQUEST,
    ARP_REPLY,
    ICMPV4_ECHO_REQUEST,
    ICMPV4_FRAG_NEEDED,
    ICMPV4_PORT_UNREACH,
    TCPV4_SYN,
    TCPV4_SYN_ACK,
    TCPV4_PSH_DATA,
    TCPV4_RST,
    UDPV4_DATAGRAM,
    IPV6_HBH_MLD_REPORT,
    ICMPV6_NEIGHBOR_SOLICIT,
    ICMPV6_NEIGHBOR_ADVERT,
    ICMPV6_ECHO_REQUEST,
    ICMPV6_PACKET_TOO_BIG,
    IPV6_FRAGMENT_FIRST,
    IPV6_FRAGMENT_SECOND,
    ICMPV6_PORT_UNREACH,
    UDPV6_DATAGRAM,
    TCPV6_SYN,
    TCPV6_RST_ACK,
];

/// The IP packet of an untagged Ethernet frame.
pub fn l3(frame: &[u8]) -> &[u8] {
    &frame[14..]
}

//! Zero-copy typed views over packet bytes: Ethernet, ARP, IPv4/IPv6, TCP, UDP, SCTP, ICMP, checksums.

//! Forwarding methods: NAT, DR and TUN rewrites, ICMP error handling, TTL and MTU rules.

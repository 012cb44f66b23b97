/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The XDP fast path of rvs_steer: packets of established flows that a worker offloaded.
 *
 * A worker installs an entry in rvs_flows after the Rust core forwarded a packet of a TCP
 * connection in ESTABLISHED or a UDP flow, keyed by what this program sees on ingress. On a
 * hit the program does what the core would (TTL / hop limit, NAT rewrite with RFC 1624
 * checksum updates, new MACs) and redirects the frame to the egress interface through
 * rvs_egress. Everything the core must see is left to the AF_XDP path: TCP SYN/FIN/RST,
 * IP options, IPv6 extension headers, fragments, VLAN tags, TTL <= 1 (the core answers
 * or drops), packets bigger than the entry's MTU (the core sends the ICMP error), truncated
 * packets. The checks come before anything changes, so a fallback sees the packet as received.
 *
 * Counters per entry (packets, IP bytes, last seen) are harvested by the worker every tick
 * into the core's statistics and connection timers.
 */
#ifndef RVS_FASTPATH_H
#define RVS_FASTPATH_H

#include <linux/tcp.h>
#include <linux/udp.h>

/* Key: the packet as received. Addresses as in the steering maps (IPv4 v4-mapped). */
struct flow_key {
	__u32 ifindex;
	__u8 family; /* 4 or 6 */
	__u8 proto;
	__u16 sport; /* network byte order */
	__u16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};

enum {
	FLOW_DR = 1,      /* MACs and TTL only */
	FLOW_NAT_DST = 2, /* client -> real server: destination address and port */
	FLOW_NAT_SRC = 3, /* real server -> client: source address and port */
};

struct flow_action {
	__u8 dmac[6];
	__u8 smac[6];
	__u8 kind;
	__u8 pad0;
	__u16 port;    /* new port, network byte order (NAT) */
	__u8 addr[16]; /* new address (NAT), IPv4 v4-mapped */
	__u32 egress;  /* slot of the egress interface in rvs_egress */
	__u16 mtu;     /* largest IP packet sent here; bigger ones go to the core */
	__u16 pad1;
	__u64 packets; /* updated by the program */
	__u64 bytes;   /* IP bytes, as the core counts them */
	__u64 last_seen_ns; /* bpf_ktime_get_ns() of the last packet */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* set by the loader from the connection-table cap */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct flow_key);
	__type(value, struct flow_action);
} rvs_flows SEC(".maps");

/* slot -> egress interface (the same slots as rvs_ifslot). */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} rvs_egress SEC(".maps");

/* ~fold(~c + delta): checksum c after the changes summed in delta (same byte order). */
static __always_inline __u16 csum_patch32(__u16 c, __u32 delta)
{
	__u32 s = (__u32)(__u16)~c + delta;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static __always_inline __u16 csum_patch64(__u16 c, __u64 delta)
{
	__u64 s = (__u64)(__u16)~c + delta;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* IPv4: the raw (network order) words, summed as the core's rewrite_v4 does. */
static __always_inline void nat_v4(struct iphdr *ip, __u16 *ports, __u16 *cs, __u8 proto,
				   int src, const struct flow_action *a)
{
	__u32 new_addr;
	__builtin_memcpy(&new_addr, a->addr + 12, 4);
	__u32 *at = src ? &ip->saddr : &ip->daddr;
	__u16 *port = src ? &ports[0] : &ports[1];
	__u64 d = (__u64)(__u32)~*at + new_addr;
	__u32 addr_delta = (__u32)((d & 0xffffffff) + (d >> 32));
	addr_delta = (addr_delta & 0xffff) + (addr_delta >> 16);
	*at = new_addr;
	ip->check = csum_patch32(ip->check, addr_delta);
	__u32 port_delta = (__u32)(__u16)~*port + a->port;
	*port = a->port;
	__u16 c = *cs;
	if (proto == IPPROTO_TCP || c != 0) {
		__u16 n = csum_patch32(c, addr_delta + port_delta);
		if (proto == IPPROTO_UDP && n == 0)
			n = 0xffff;
		*cs = n;
	}
}

/* IPv6: big-endian words, as the core's general rewrite. */
static __always_inline void nat_v6(struct ipv6hdr *ip6, __u16 *ports, __u16 *cs, __u8 proto,
				   int src, const struct flow_action *a)
{
	__u16 *at = src ? (__u16 *)&ip6->saddr : (__u16 *)&ip6->daddr;
	const __u16 *nw = (const __u16 *)a->addr;
	__u64 d = 0;
#pragma unroll
	for (int i = 0; i < 8; i++) {
		d += (__u64)(__u16)~bpf_ntohs(at[i]) + bpf_ntohs(nw[i]);
		at[i] = nw[i];
	}
	__u16 *port = src ? &ports[0] : &ports[1];
	d += (__u64)(__u16)~bpf_ntohs(*port) + bpf_ntohs(a->port);
	*port = a->port;
	__u16 c = bpf_ntohs(*cs);
	/* The core keeps a UDP checksum of 0 as it is, also over IPv6. */
	if (proto == IPPROTO_TCP || c != 0) {
		__u16 n = csum_patch64(c, d);
		if (proto == IPPROTO_UDP && n == 0)
			n = 0xffff;
		*cs = bpf_htons(n);
	}
}

/* XDP_REDIRECT when the packet was forwarded, -1 when the steering path must see it. */
static __always_inline int fast_path(struct xdp_md *ctx, __u32 ifindex)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return -1;
	struct flow_key k = {};
	k.ifindex = ifindex;
	__u32 iplen, hlen;
	__u8 ttl;
	void *l4;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end)
			return -1;
		/* Options and fragments are the core's. */
		if (ip->version != 4 || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
			return -1;
		k.family = 4;
		k.proto = ip->protocol;
		set_v4(k.saddr, ip->saddr);
		set_v4(k.daddr, ip->daddr);
		iplen = bpf_ntohs(ip->tot_len);
		ttl = ip->ttl;
		hlen = 20;
		l4 = ip + 1;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			return -1;
		if (ip6->version != 6)
			return -1;
		k.family = 6;
		k.proto = ip6->nexthdr; /* extension headers: not TCP/UDP here, so a miss */
		__builtin_memcpy(k.saddr, &ip6->saddr, 16);
		__builtin_memcpy(k.daddr, &ip6->daddr, 16);
		iplen = bpf_ntohs(ip6->payload_len) + 40;
		ttl = ip6->hop_limit;
		hlen = 40;
		l4 = ip6 + 1;
	} else {
		return -1;
	}
	__u32 l4min;
	if (k.proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		if ((void *)(th + 1) > end)
			return -1;
		/* Every state change goes through the core. */
		if (th->syn || th->fin || th->rst)
			return -1;
		k.sport = th->source;
		k.dport = th->dest;
		l4min = sizeof(struct tcphdr);
	} else if (k.proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;
		if ((void *)(uh + 1) > end)
			return -1;
		k.sport = uh->source;
		k.dport = uh->dest;
		l4min = sizeof(struct udphdr);
	} else {
		return -1;
	}
	struct flow_action *a = bpf_map_lookup_elem(&rvs_flows, &k);
	if (!a)
		return -1;

	__u32 have = (__u32)(end - (void *)(eth + 1));
	if (ttl <= 1 || iplen > a->mtu || iplen > have || iplen < hlen + l4min ||
	    !bpf_map_lookup_elem(&rvs_egress, &a->egress)) {
		count(STAT_FAST_FALLBACK);
		return -1;
	}
	/* Ethernet padding after the IP packet: the core sends the IP length only. */
	if (have > iplen) {
		if (bpf_xdp_adjust_tail(ctx, -(int)(have - iplen))) {
			count(STAT_FAST_FALLBACK);
			return -1;
		}
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		eth = data;
	}
	/* Pointers are re-derived (adjust_tail invalidates them) and bounds re-checked. */
	if ((void *)(eth + 1) > end)
		return -1;
	void *l3 = eth + 1;
	void *l4p = l3 + hlen;
	__u16 *cs;
	if (k.proto == IPPROTO_TCP) {
		struct tcphdr *th = l4p;
		if ((void *)(th + 1) > end)
			return -1;
		cs = &th->check;
	} else {
		struct udphdr *uh = l4p;
		if ((void *)(uh + 1) > end)
			return -1;
		cs = &uh->check;
	}
	int nat = a->kind == FLOW_NAT_DST || a->kind == FLOW_NAT_SRC;
	int src = a->kind == FLOW_NAT_SRC;
	if (k.family == 4) {
		struct iphdr *ip = l3;
		if ((void *)(ip + 1) > end)
			return -1;
		/* ip_decrease_ttl: TTL is the high byte of its word. */
		ip->ttl--;
		__u32 c = bpf_ntohs(ip->check) + 0x0100;
		c = c + (c >= 0xffff);
		ip->check = bpf_htons((__u16)c);
		if (nat)
			nat_v4(ip, l4p, cs, k.proto, src, a);
	} else {
		struct ipv6hdr *ip6 = l3;
		if ((void *)(ip6 + 1) > end)
			return -1;
		ip6->hop_limit--;
		if (nat)
			nat_v6(ip6, l4p, cs, k.proto, src, a);
	}
	__builtin_memcpy(eth->h_dest, a->dmac, 6);
	__builtin_memcpy(eth->h_source, a->smac, 6);
	__sync_fetch_and_add(&a->packets, 1);
	__sync_fetch_and_add(&a->bytes, iplen);
	a->last_seen_ns = bpf_ktime_get_ns();
	count(STAT_FAST_HITS);
	return bpf_redirect_map(&rvs_egress, a->egress, 0);
}

#endif

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rvs_steer: the XDP steering program of rvsd.
 *
 * It takes exactly the packets the user-space data plane must see away from the kernel and
 * redirects them into the AF_XDP socket bound to the receiving interface and queue:
 *   (a) packets to a configured service: (protocol, VIP, port) in rvs_svc, or (protocol, VIP)
 *       in rvs_svc_any for VIP-wide (port 0) services;
 *   (b) NAT replies: packets from a configured NAT real server (protocol, RIP, port) in rvs_rs
 *       (port 0 there = any source port) whose destination is not an address of this host
 *       (rvs_local), so the director's own health checks and SSH still reach the kernel;
 *   (c) ICMP errors about (a) or (b): the quoted packet left a service (inner source is a
 *       service) or went to a NAT real server (inner destination) and the outer destination
 *       is not local;
 *   (d) fragments without ports (IPv4 offset != 0, IPv6 fragment header with offset != 0) whose
 *       destination is a VIP of that protocol (rvs_vip) or, for NAT replies, whose source is a
 *       NAT real server address (rvs_rs_addr) and destination not local. The core counts and
 *       drops them (IPVS does not balance fragments); the first fragment carries the ports and
 *       is steered like any packet.
 * Everything else (ARP, VRRP, SSH, ICMP echo, health checks) gets XDP_PASS untouched.
 *
 * Addresses are 16 bytes: IPv4 as ::ffff:a.b.c.d (v4-mapped) with family 4, IPv6 with
 * family 6. Ports are in network byte order in the keys.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_ENTRIES 65536
#define MAX_IFACES 64
#define MAX_QUEUES 64
#define MAX_EXT_HEADERS 6

struct steer_key {
	__u8 proto;  /* IP protocol number; 0 in rvs_local */
	__u8 family; /* 4 or 6 */
	__u16 port;  /* network byte order; 0 in the address-only maps */
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct steer_key);
	__type(value, __u32);
} rvs_svc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct steer_key);
	__type(value, __u32);
} rvs_svc_any SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct steer_key);
	__type(value, __u32);
} rvs_vip SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct steer_key);
	__type(value, __u32);
} rvs_rs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct steer_key);
	__type(value, __u32);
} rvs_rs_addr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct steer_key);
	__type(value, __u32);
} rvs_local SEC(".maps");

/* ifindex -> slot of the interface in the data plane (0..MAX_IFACES). An XSKMAP entry can
 * only deliver to a socket bound to the same device and queue, and one program serves all
 * interfaces, so the XSKMAP is keyed by slot * MAX_QUEUES + rx_queue_index. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} rvs_ifslot SEC(".maps");

/* ifindex -> the interface's own MAC (bytes 0..5 little-endian in the low 48 bits). Only
 * frames addressed to it are steered: a flooded frame for another host (a switch that has
 * not learnt the MAC, the old master after a VRRP failover) is the kernel's to drop, as it
 * is for IPVS; otherwise two directors would forward the same packet. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_IFACES);
	__type(key, __u32);
	__type(value, __u64);
} rvs_ifmac SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, MAX_IFACES * MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} rvs_xsks SEC(".maps");

enum {
	STAT_STEERED = 0,
	STAT_PASSED = 1,
	STAT_NO_SOCKET = 2,
	STAT_FRAGMENTS = 3,
	STAT_FAST_HITS = 4,     /* forwarded by the fast path */
	STAT_FAST_FALLBACK = 5, /* flow entry found, packet left to the core */
	STAT_MAX = 6,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} rvs_stats SEC(".maps");

/* What the parser found in one IP packet (outer or quoted). */
struct flow {
	__u8 proto;
	__u8 family;
	__u8 fragment; /* 1: no transport header (non-first fragment) */
	__u8 icmp_error;
	__u16 sport;
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
	void *l4;
};

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&rvs_stats, &idx);
	if (v)
		*v += 1;
}

static __always_inline void set_v4(__u8 *dst, __be32 a)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &a, 4);
}

static __always_inline int is_icmp_error(__u8 proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		/* unreachable, source quench, redirect, time exceeded, parameter problem */
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	if (proto == IPPROTO_ICMPV6)
		/* unreachable, packet too big, time exceeded, parameter problem */
		return type >= 1 && type <= 4;
	return 0;
}

#include "fastpath.h"

/* Parse an IP header at p (family from the EtherType or the ICMP quote) and the first
 * bytes of its transport header. Returns 0 on success, -1 when the packet is not ours to
 * judge (truncated or unknown). For a quoted packet only the first 8 transport bytes are
 * guaranteed, which is all we read. */
static __always_inline int parse_ip(void *p, void *end, int v6, struct flow *f)
{
	if (!v6) {
		struct iphdr *ip = p;
		if ((void *)(ip + 1) > end)
			return -1;
		if (ip->version != 4 || ip->ihl < 5)
			return -1;
		f->family = 4;
		f->proto = ip->protocol;
		set_v4(f->saddr, ip->saddr);
		set_v4(f->daddr, ip->daddr);
		if (ip->frag_off & bpf_htons(0x1fff)) {
			f->fragment = 1;
			return 0;
		}
		f->l4 = p + ip->ihl * 4;
	} else {
		struct ipv6hdr *ip6 = p;
		if ((void *)(ip6 + 1) > end)
			return -1;
		if (ip6->version != 6)
			return -1;
		f->family = 6;
		__builtin_memcpy(f->saddr, &ip6->saddr, 16);
		__builtin_memcpy(f->daddr, &ip6->daddr, 16);
		__u8 nh = ip6->nexthdr;
		void *q = ip6 + 1;
		/* Extension headers: a bounded walk, so the verifier sees a finite loop. */
#pragma unroll
		for (int i = 0; i < MAX_EXT_HEADERS; i++) {
			if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS) {
				__u8 *h = q;
				if ((void *)(h + 2) > end)
					return -1;
				nh = h[0];
				q += (h[1] + 1) * 8;
			} else if (nh == IPPROTO_FRAGMENT) {
				__u8 *h = q;
				if ((void *)(h + 8) > end)
					return -1;
				nh = h[0];
				__u16 off = ((__u16)h[2] << 8 | h[3]) & 0xfff8;
				if (off) {
					f->proto = nh;
					f->fragment = 1;
					return 0;
				}
				q += 8;
			} else if (nh == IPPROTO_AH) {
				__u8 *h = q;
				if ((void *)(h + 2) > end)
					return -1;
				nh = h[0];
				q += (h[1] + 2) * 4;
			} else {
				break;
			}
		}
		f->proto = nh;
		f->l4 = q;
	}
	switch (f->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP: {
		/* TCP, UDP and SCTP all start with source port, destination port. */
		__u16 *ports = f->l4;
		if ((void *)(ports + 2) > end)
			return -1;
		f->sport = ports[0];
		f->dport = ports[1];
		return 0;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		__u8 *icmp = f->l4;
		if ((void *)(icmp + 8) > end)
			return -1;
		f->icmp_error = is_icmp_error(f->proto, icmp[0]);
		return 0;
	}
	default:
		return 0;
	}
}

static __always_inline int lookup(void *map, __u8 proto, __u8 family, __u16 port, __u8 *addr)
{
	struct steer_key k = {};
	k.proto = proto;
	k.family = family;
	k.port = port;
	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(map, &k) != NULL;
}

static __always_inline int is_local(__u8 family, __u8 *addr)
{
	return lookup(&rvs_local, 0, family, 0, addr);
}

static __always_inline int is_service(__u8 proto, __u8 family, __u16 port, __u8 *vip)
{
	return lookup(&rvs_svc, proto, family, port, vip) ||
	       lookup(&rvs_svc_any, proto, family, 0, vip);
}

static __always_inline int is_nat_rs(__u8 proto, __u8 family, __u16 port, __u8 *rip)
{
	return lookup(&rvs_rs, proto, family, port, rip) || lookup(&rvs_rs, proto, family, 0, rip);
}

/* Decide whether the packet at l3 belongs to the data plane. */
static __always_inline int wanted(void *l3, void *end, int v6)
{
	struct flow f = {};
	if (parse_ip(l3, end, v6, &f) < 0)
		return 0;

	if (f.fragment) {
		if (lookup(&rvs_vip, f.proto, f.family, 0, f.daddr))
			return 2;
		if (lookup(&rvs_rs_addr, f.proto, f.family, 0, f.saddr) && !is_local(f.family, f.daddr))
			return 2;
		return 0;
	}

	if (f.proto == IPPROTO_TCP || f.proto == IPPROTO_UDP || f.proto == IPPROTO_SCTP) {
		if (is_service(f.proto, f.family, f.dport, f.daddr))
			return 1;
		if (is_nat_rs(f.proto, f.family, f.sport, f.saddr) && !is_local(f.family, f.daddr))
			return 1;
		return 0;
	}

	if (f.icmp_error) {
		/* The quoted packet follows the 8-byte ICMP header and has the same family. */
		struct flow in = {};
		if (parse_ip(f.l4 + 8, end, v6, &in) < 0 || in.fragment)
			return 0;
		if (in.proto != IPPROTO_TCP && in.proto != IPPROTO_UDP && in.proto != IPPROTO_SCTP)
			return 0;
		/* A packet sent from a service (reply to a client) was refused on its way. */
		if (is_service(in.proto, in.family, in.sport, in.saddr))
			return 1;
		/* A real server reports on a client's packet: the error goes to the client. */
		if (is_nat_rs(in.proto, in.family, in.dport, in.daddr) && !is_local(f.family, f.daddr))
			return 1;
	}
	return 0;
}

SEC("xdp")
int rvs_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		goto pass;

	__u32 ifindex = ctx->ingress_ifindex;
	__u64 *own = bpf_map_lookup_elem(&rvs_ifmac, &ifindex);
	if (!own)
		goto pass;
	__u64 dst = (__u64)eth->h_dest[0] | (__u64)eth->h_dest[1] << 8 | (__u64)eth->h_dest[2] << 16 |
		    (__u64)eth->h_dest[3] << 24 | (__u64)eth->h_dest[4] << 32 | (__u64)eth->h_dest[5] << 40;
	if (dst != *own)
		goto pass;

	int fast = fast_path(ctx, ifindex);
	if (fast >= 0)
		return fast;
	/* The packet pointers are re-derived after the fast path's helper calls. */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > end)
		goto pass;

	__u16 type = eth->h_proto;
	void *l3 = eth + 1;
	if (type == bpf_htons(ETH_P_8021Q) || type == bpf_htons(ETH_P_8021AD)) {
		__u16 *tag = l3; /* TCI, then the inner EtherType */
		if ((void *)(tag + 2) > end)
			goto pass;
		type = tag[1];
		l3 = tag + 2;
	}

	int w;
	if (type == bpf_htons(ETH_P_IP))
		w = wanted(l3, end, 0);
	else if (type == bpf_htons(ETH_P_IPV6))
		w = wanted(l3, end, 1);
	else
		goto pass;
	if (!w)
		goto pass;
	if (w == 2)
		count(STAT_FRAGMENTS);

	__u32 *slot = bpf_map_lookup_elem(&rvs_ifslot, &ifindex);
	__u32 queue = ctx->rx_queue_index;
	if (slot && *slot < MAX_IFACES && queue < MAX_QUEUES &&
	    bpf_redirect_map(&rvs_xsks, *slot * MAX_QUEUES + queue, XDP_PASS) == XDP_REDIRECT) {
		count(STAT_STEERED);
		return XDP_REDIRECT;
	}
	/* No socket on this queue (data plane not running there): the kernel keeps it. */
	count(STAT_NO_SOCKET);
	return XDP_PASS;
pass:
	count(STAT_PASSED);
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";

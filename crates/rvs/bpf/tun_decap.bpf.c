// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tun_decap: the real-server side of LVS tunnelling on kernels without ipip/ip6_tunnel.
 *
 * The director sends the client's packet (CIP -> VIP) inside an outer IP header
 * (DIP -> RIP). For IPv4 (protocol 4 = IP-in-IP, 41 = IPv6-in-IPv4) and IPv6
 * (next header 4 or 41, no extension headers) outer headers whose inner destination
 * is a VIP in the `vips` map, this program removes the outer header, fixes the
 * Ethernet type and passes the inner packet to the stack, which delivers it to the
 * VIP configured on lo. Everything else passes untouched.
 *
 * "Addressed to this host": only frames sent to a unicast MAC (ours, outside
 * promiscuous mode) are considered, and an IPv4 outer header must be unfragmented,
 * option-less and carry a valid checksum, as the kernel's own ipip would require.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Key: family (4 or 6), three zero bytes, the address (IPv4 in the first 4 bytes). */
struct vip_key {
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct vip_key);
	__type(value, __u8);
} vips SEC(".maps");

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

static __always_inline int ipv4_header_ok(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* Whether the inner packet at `inner` (protocol `proto`) is addressed to a VIP. */
static __always_inline int inner_is_vip(void *inner, void *end, __u8 proto, __u16 *eth_type)
{
	struct vip_key key = {};

	if (proto == IPPROTO_IPIP) {
		struct iphdr *ip = inner;

		if ((void *)(ip + 1) > end || ip->version != 4)
			return 0;
		key.family = 4;
		__builtin_memcpy(key.addr, &ip->daddr, 4);
		*eth_type = bpf_htons(ETH_P_IP);
	} else if (proto == IPPROTO_IPV6) {
		struct ipv6hdr *ip6 = inner;

		if ((void *)(ip6 + 1) > end || ip6->version != 6)
			return 0;
		key.family = 6;
		__builtin_memcpy(key.addr, &ip6->daddr, 16);
		*eth_type = bpf_htons(ETH_P_IPV6);
	} else {
		return 0;
	}
	return bpf_map_lookup_elem(&vips, &key) != NULL;
}

SEC("xdp")
int tun_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 outer_len;
	__u8 proto;
	__u16 eth_type = 0;
	unsigned char macs[2 * ETH_ALEN];

	if ((void *)(eth + 1) > end || (eth->h_dest[0] & 1))
		return XDP_PASS;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl != 5)
			return XDP_PASS;
		if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
			return XDP_PASS;
		if (!ipv4_header_ok(ip))
			return XDP_PASS;
		proto = ip->protocol;
		outer_len = sizeof(*ip);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->version != 6)
			return XDP_PASS;
		proto = ip6->nexthdr;
		outer_len = sizeof(*ip6);
	} else {
		return XDP_PASS;
	}

	if (!inner_is_vip((void *)(eth + 1) + outer_len, end, proto, &eth_type))
		return XDP_PASS;

	/* The new Ethernet header ends where the inner packet starts: same MACs, new type. */
	__builtin_memcpy(macs, eth, sizeof(macs));
	if (bpf_xdp_adjust_head(ctx, (int)outer_len))
		return XDP_PASS;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_DROP; /* cannot happen: the inner header was bounds-checked above */
	__builtin_memcpy(eth, macs, sizeof(macs));
	eth->h_proto = eth_type;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rvs_xmit_err / rvs_redirect_err: count the frames an XDP redirect through a DEVMAP failed
 * to hand to an egress device, per egress ifindex. A device that cannot take the frames (a
 * veth whose peer has neither an XDP program nor GRO, so no NAPI and no ndo_xdp_xmit
 * feature) refuses them when they are queued (xdp_redirect_err) or drops them in the devmap
 * flush (xdp_devmap_xmit), where the steering program never sees it. The workers read these
 * counters on every tick, stop offloading flows to such a device and send its flows through
 * AF_XDP. The key is (network namespace inode << 32 | ifindex): ifindexes repeat across
 * namespaces, and the program sees every namespace's redirects.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct bpf_prog;

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	possible_net_t nd_net;
	int ifindex;
} __attribute__((preserve_access_index));

/* The devmap entry a redirect targets (kernel/bpf/devmap.c): its device comes first. */
struct bpf_dtab_netdev {
	struct net_device *dev;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} rvs_xmit_drops SEC(".maps");

static __always_inline void add_drops(const struct net_device *dev, __u64 n)
{
	__u64 key = (__u64)BPF_CORE_READ(dev, nd_net.net, ns.inum) << 32 |
		    (__u32)BPF_CORE_READ(dev, ifindex);
	__u64 *v = bpf_map_lookup_elem(&rvs_xmit_drops, &key);
	if (v)
		__sync_fetch_and_add(v, n);
	else
		bpf_map_update_elem(&rvs_xmit_drops, &key, &n, BPF_NOEXIST);
}

SEC("tp_btf/xdp_devmap_xmit")
int BPF_PROG(rvs_xmit_err, const struct net_device *from_dev, const struct net_device *to_dev,
	     int sent, int drops, int err)
{
	if (drops > 0)
		add_drops(to_dev, (__u64)drops);
	return 0;
}

SEC("tp_btf/xdp_redirect_err")
int BPF_PROG(rvs_redirect_err, const struct net_device *dev, const struct bpf_prog *xdp,
	     const void *tgt, int err, enum bpf_map_type map_type, __u32 map_id, __u32 index)
{
	if (map_type != BPF_MAP_TYPE_DEVMAP || !tgt)
		return 0;
	const struct bpf_dtab_netdev *d = tgt;
	add_drops(BPF_CORE_READ(d, dev), 1);
	return 0;
}

char _license[] SEC("license") = "Dual BSD/GPL";

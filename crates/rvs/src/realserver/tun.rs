//! `rvs realserver tun --vip VIP`: accept IP-in-IP from a TUN director.
//!
//! With the kernel's ipip (ip6_tunnel for IPv6) the VIP goes on `tunl0` (`ip6tnl0`), the
//! classic LVS-TUN real server. Without it (this project's kernels) the VIP goes on lo and the
//! XDP program strips the outer header before the stack sees the packet. Either way the VIP
//! is hidden from ARP as for DR.

use std::net::IpAddr;
use std::path::Path;

use super::netlink::{self, Link};
use super::{add_vip, any_vip_left, hide_vips_from_arp, remove_vip, set_rp_filter, xdp};
use crate::error::{Error, Result};
use crate::exec::Netns;

/// The kernel's fallback IPv4-in-IPv4 device.
pub const IPIP_DEV: &str = "tunl0";
/// The kernel's fallback IPv6 tunnel device.
pub const IP6_TUNNEL_DEV: &str = "ip6tnl0";

/// How tunnelled packets are decapsulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// The kernel's tunnel device when the kernel has it, else XDP.
    Auto,
    /// The kernel's ipip / ip6_tunnel device.
    Kernel,
    /// The tun_decap XDP program.
    Xdp,
}

fn kernel_device(vip: IpAddr) -> (&'static str, &'static str) {
    if vip.is_ipv4() {
        (IPIP_DEV, "ipip")
    } else {
        (IP6_TUNNEL_DEV, "ip6_tunnel")
    }
}

/// The method used for `vip` when `method` is asked for.
pub fn resolve(method: Method, vip: IpAddr) -> Method {
    match method {
        Method::Auto => {
            let (_, module) = kernel_device(vip);
            if Path::new("/sys/module").join(module).exists() {
                Method::Kernel
            } else {
                Method::Xdp
            }
        }
        other => other,
    }
}

/// The links the XDP program goes on: `names`, or every Ethernet link but lo.
fn xdp_links(names: &[String]) -> Result<Vec<Link>> {
    let all = netlink::links()?;
    if names.is_empty() {
        let links: Vec<Link> = all
            .into_iter()
            .filter(|l| l.ethernet && !l.loopback)
            .collect();
        if links.is_empty() {
            return Err(Error::Invalid(
                "no Ethernet interface to attach XDP to".into(),
            ));
        }
        return Ok(links);
    }
    names
        .iter()
        .map(|n| {
            all.iter()
                .find(|l| &l.name == n)
                .cloned()
                .ok_or_else(|| Error::Invalid(format!("no interface named `{n}` here")))
        })
        .collect()
}

/// Configures this host to accept `vips` tunnelled by a TUN director.
pub fn setup(vips: &[IpAddr], method: Method, interfaces: &[String]) -> Result<()> {
    // Resolve the interfaces before changing anything, so a typo changes nothing.
    let uses_xdp = vips.iter().any(|&v| resolve(method, v) == Method::Xdp);
    let links = if uses_xdp {
        xdp_links(interfaces)?
    } else {
        Vec::new()
    };
    hide_vips_from_arp(true)?;
    let mut by_xdp = Vec::new();
    for &vip in vips {
        match resolve(method, vip) {
            Method::Kernel => {
                let (dev, module) = kernel_device(vip);
                let here = Netns::current();
                if here.ip(&["link", "show", dev]).is_err() {
                    let kind = if vip.is_ipv4() { "ipip" } else { "ip6tnl" };
                    here.ip(&["link", "add", "name", dev, "type", kind])
                        .map_err(|e| {
                            Error::Invalid(format!("no {dev} (kernel module {module}?): {e}"))
                        })?;
                }
                here.ip(&["link", "set", dev, "up"])?;
                add_vip(dev, vip)?;
                if vip.is_ipv4() {
                    // The decapsulated packet arrives on tunl0, not where the route to CIP points.
                    set_rp_filter(dev, 0)?;
                }
            }
            Method::Xdp | Method::Auto => {
                add_vip("lo", vip)?;
                by_xdp.push(vip);
            }
        }
    }
    if !by_xdp.is_empty() {
        xdp::add(&links, &by_xdp)?;
    }
    Ok(())
}

/// Undoes [`setup`] for `vips`: removes them from lo / the tunnel devices and the XDP map,
/// detaching the program where no VIP is left.
pub fn undo(vips: &[IpAddr], interfaces: &[String]) -> Result<Vec<String>> {
    for &vip in vips {
        let (dev, _) = kernel_device(vip);
        remove_vip(dev, vip)?;
        remove_vip("lo", vip)?;
    }
    let links: Vec<Link> = if interfaces.is_empty() {
        netlink::links()?
    } else {
        xdp_links(interfaces)?
    };
    let detached = xdp::remove(&links, vips)?;
    if !any_vip_left()? {
        hide_vips_from_arp(false)?;
    }
    Ok(detached)
}

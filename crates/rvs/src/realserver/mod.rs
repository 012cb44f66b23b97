//! `rvs realserver dr|tun`: prepare this host to be an LVS real server for a VIP.
//!
//! Both methods put the VIP where the host accepts it without announcing it: DR on `lo`
//! (the article's lo:0) with arp_ignore=1 / arp_announce=2 so only the director answers ARP
//! for it; TUN additionally needs decapsulation (kernel ipip, else the XDP program).
//! Everything acts on the current network namespace; `--undo` reverses it.

pub mod dr;
pub mod netlink;
pub mod tun;
pub mod xdp;

use std::fs;
use std::net::IpAddr;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::exec::Netns;

/// The prefix length of a host address of the VIP's family.
fn host_prefix(vip: IpAddr) -> u8 {
    if vip.is_ipv4() { 32 } else { 128 }
}

/// Adds `vip` as a host address on `dev` (idempotent).
pub fn add_vip(dev: &str, vip: IpAddr) -> Result<()> {
    let addr = format!("{vip}/{}", host_prefix(vip));
    Netns::current().ip(&["addr", "replace", addr.as_str(), "dev", dev])?;
    Ok(())
}

/// Removes `vip` from `dev` if it is there.
pub fn remove_vip(dev: &str, vip: IpAddr) -> Result<()> {
    if !addresses(dev)?.contains(&vip) {
        return Ok(());
    }
    let addr = format!("{vip}/{}", host_prefix(vip));
    Netns::current().ip(&["addr", "del", addr.as_str(), "dev", dev])?;
    Ok(())
}

/// Addresses on `dev` other than the loopback ones (127.0.0.0/8, ::1); empty if `dev` is absent.
pub fn addresses(dev: &str) -> Result<Vec<IpAddr>> {
    let Ok(out) = Netns::current().ip(&["-j", "addr", "show", "dev", dev]) else {
        return Ok(Vec::new());
    };
    let json: Value = serde_json::from_str(&out)
        .map_err(|e| Error::Invalid(format!("parsing `ip -j addr show dev {dev}`: {e}")))?;
    let mut found = Vec::new();
    for link in json.as_array().into_iter().flatten() {
        for info in link["addr_info"].as_array().into_iter().flatten() {
            if let Some(addr) = info["local"]
                .as_str()
                .and_then(|s| s.parse::<IpAddr>().ok())
                && !addr.is_loopback()
            {
                found.push(addr);
            }
        }
    }
    Ok(found)
}

fn write_sysctl(key: &str, value: u8) -> Result<()> {
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    fs::write(&path, format!("{value}\n")).map_err(|e| Error::io(format!("writing {path}"), e))
}

/// arp_ignore=1 (answer ARP only for addresses of the receiving interface) and
/// arp_announce=2 (use the best local source in ARP requests) on `all` and `lo`, or back to 0.
pub fn hide_vips_from_arp(hide: bool) -> Result<()> {
    let (ignore, announce) = if hide { (1, 2) } else { (0, 0) };
    for dev in ["all", "lo"] {
        write_sysctl(&format!("net.ipv4.conf.{dev}.arp_ignore"), ignore)?;
        write_sysctl(&format!("net.ipv4.conf.{dev}.arp_announce"), announce)?;
    }
    Ok(())
}

/// Sets `rp_filter` of `dev` (decapsulated packets arrive on a tunnel device).
pub fn set_rp_filter(dev: &str, value: u8) -> Result<()> {
    write_sysctl(&format!("net.ipv4.conf.{dev}.rp_filter"), value)
}

/// Whether any VIP is still configured (on lo or a kernel tunnel device).
pub fn any_vip_left() -> Result<bool> {
    for dev in ["lo", tun::IPIP_DEV, tun::IP6_TUNNEL_DEV] {
        if !addresses(dev)?.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

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

fn sysctl_path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

fn write_sysctl(key: &str, value: u8) -> Result<()> {
    let path = sysctl_path(key);
    fs::write(&path, format!("{value}\n")).map_err(|e| Error::io(format!("writing {path}"), e))
}

fn read_sysctl(key: &str) -> Result<u8> {
    let path = sysctl_path(key);
    let text = fs::read_to_string(&path).map_err(|e| Error::io(format!("reading {path}"), e))?;
    text.trim()
        .parse()
        .map_err(|_| Error::Invalid(format!("{path}: unexpected value {:?}", text.trim())))
}

/// The ARP sysctls the DR/TUN set-up changes, with the values that hide the VIPs:
/// arp_ignore=1 (answer ARP only for addresses of the receiving interface) and
/// arp_announce=2 (use the best local source in ARP requests), on `all` and `lo`.
const ARP_HIDING: [(&str, u8); 4] = [
    ("net.ipv4.conf.all.arp_ignore", 1),
    ("net.ipv4.conf.all.arp_announce", 2),
    ("net.ipv4.conf.lo.arp_ignore", 1),
    ("net.ipv4.conf.lo.arp_announce", 2),
];

/// Where the values the host had before the set-up are kept (per network namespace, on
/// /run so a reboot, which resets the sysctls too, forgets them).
/// The namespace's inode names the file; an inode number can be reused once a namespace
/// is gone, so whoever deletes a namespace that had a set-up forgets it first
/// ([`forget_saved_arp_in`]; `--undo` does too).
fn saved_arp_path() -> Result<String> {
    use std::os::unix::fs::MetadataExt as _;
    let ns = fs::metadata("/proc/thread-self/ns/net")
        .map_err(|e| Error::io("reading /proc/thread-self/ns/net".to_string(), e))?
        .ino();
    Ok(format!("/run/rvs/realserver-arp-{ns}"))
}

/// Forgets the recorded ARP sysctls of namespace `netns` (the lab calls it before deleting
/// a real server's namespace, whose sysctls go with it).
pub fn forget_saved_arp_in(netns: &str) -> Result<()> {
    let path = format!("/run/netns/{netns}");
    let file = fs::File::open(&path).map_err(|e| Error::io(format!("opening {path}"), e))?;
    std::thread::spawn(move || -> Result<()> {
        // Only this thread moves into the namespace.
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| Error::Invalid(format!("entering {path}: {e}")))?;
        let saved = saved_arp_path()?;
        match fs::remove_file(&saved) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io(format!("removing {saved}"), e))
            }
            _ => Ok(()),
        }
    })
    .join()
    .map_err(|_| Error::Invalid("the namespace thread panicked".into()))?
}

/// Hides the VIPs from ARP (see [`ARP_HIDING`]), or gives the host back the values it had
/// before the first set-up (the kernel's 0 if they were not recorded).
pub fn hide_vips_from_arp(hide: bool) -> Result<()> {
    let saved = saved_arp_path()?;
    if hide {
        if fs::metadata(&saved).is_err() {
            let mut before = String::new();
            for (key, _) in ARP_HIDING {
                before.push_str(&format!("{key}={}\n", read_sysctl(key)?));
            }
            let dir = std::path::Path::new(&saved)
                .parent()
                .unwrap_or(std::path::Path::new("/"));
            fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
            fs::write(&saved, before).map_err(|e| Error::io(format!("writing {saved}"), e))?;
        }
        for (key, value) in ARP_HIDING {
            write_sysctl(key, value)?;
        }
        return Ok(());
    }
    let before = fs::read_to_string(&saved).unwrap_or_default();
    for (key, _) in ARP_HIDING {
        let value = before
            .lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        write_sysctl(key, value)?;
    }
    if fs::metadata(&saved).is_ok() {
        fs::remove_file(&saved).map_err(|e| Error::io(format!("removing {saved}"), e))?;
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

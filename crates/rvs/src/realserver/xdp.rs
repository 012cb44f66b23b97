//! The XDP decapsulation program (bpf/tun_decap.bpf.c) on a real server without ipip.
//!
//! The program is attached through netlink, so it stays after `rvs realserver tun` exits; its
//! `vips` map is found again from the attached program's id (no bpffs needed, which also works
//! inside `ip netns exec`, where /sys is remounted).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd};

use aya::maps::{HashMap, Map, MapData};
use aya::programs::{Xdp, loaded_programs};
use aya::{Ebpf, include_bytes_aligned};

use super::netlink::{
    self, Link, XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE, XDP_FLAGS_UPDATE_IF_NOEXIST,
};
use crate::error::{Error, Result};

/// The program's name in the kernel (also its ELF section function name).
pub const PROGRAM: &str = "tun_decap";
/// The map of VIPs whose tunnelled packets are decapsulated.
const VIPS_MAP: &str = "vips";

static OBJECT: &[u8] = include_bytes_aligned!(concat!(env!("OUT_DIR"), "/tun_decap.bpf.o"));

/// The map key for `vip`: family (4 or 6), three zero bytes, the address (IPv4 first 4 bytes).
pub fn vip_key(vip: IpAddr) -> [u8; 20] {
    let mut key = [0u8; 20];
    match vip {
        IpAddr::V4(a) => {
            key[0] = 4;
            key[4..8].copy_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            key[0] = 6;
            key[4..20].copy_from_slice(&a.octets());
        }
    }
    key
}

fn bpf(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Bpf(format!("{what}: {e}"))
}

/// The `vips` map of the program with id `prog_id`, if that program is ours.
fn vips_of(link: &Link, prog_id: u32) -> Result<HashMap<MapData, [u8; 20], u8>> {
    let info = loaded_programs()
        .filter_map(std::result::Result::ok)
        .find(|p| p.id() == prog_id)
        .ok_or_else(|| Error::Bpf(format!("program {prog_id} on {} vanished", link.name)))?;
    let name = info.name_as_str().unwrap_or("?");
    if name != PROGRAM {
        return Err(Error::Invalid(format!(
            "{} already has XDP program `{name}` (id {prog_id}); not replacing it",
            link.name
        )));
    }
    let ids = info
        .map_ids()
        .map_err(|e| bpf("reading the program's maps", e))?
        .unwrap_or_default();
    for id in ids {
        let data = MapData::from_id(id).map_err(|e| bpf("opening a map", e))?;
        let is_vips = data.info().is_ok_and(|i| i.name_as_str() == Some(VIPS_MAP));
        if is_vips {
            let map = Map::from_map_data(data).map_err(|e| bpf("map type", e))?;
            return HashMap::try_from(map).map_err(|e| bpf("map layout", e));
        }
    }
    Err(Error::Bpf(format!(
        "program {prog_id} has no `{VIPS_MAP}` map"
    )))
}

/// Attaches a freshly loaded program to `link`: native mode, else generic.
fn attach(ebpf: &mut Ebpf, link: &Link) -> Result<()> {
    let program: &mut Xdp = ebpf
        .program_mut(PROGRAM)
        .ok_or_else(|| Error::Bpf(format!("object has no program `{PROGRAM}`")))?
        .try_into()
        .map_err(|e| bpf("program type", e))?;
    if program.fd().is_err() {
        program.load().map_err(|e| bpf("loading tun_decap", e))?;
    }
    let fd = program.fd().map_err(|e| bpf("program fd", e))?;
    let raw = fd.as_fd().as_raw_fd();
    let native = netlink::set_xdp(
        link.index,
        raw,
        XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_DRV_MODE,
    );
    if let Err(native) = native {
        netlink::set_xdp(
            link.index,
            raw,
            XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_SKB_MODE,
        )
        .map_err(|generic| {
            Error::Bpf(format!(
                "attaching to {}: native mode: {native}; generic mode: {generic}",
                link.name
            ))
        })?;
    }
    Ok(())
}

/// Decapsulates tunnelled packets for `vips` arriving on `links` (attaching where needed).
pub fn add(links: &[Link], vips: &[IpAddr]) -> Result<()> {
    let mut loaded: Option<Ebpf> = None;
    for link in links {
        let mut current = link.clone();
        if current.xdp.is_none() {
            if loaded.is_none() {
                loaded = Some(Ebpf::load(OBJECT).map_err(|e| bpf("parsing tun_decap.bpf.o", e))?);
            }
            if let Some(ebpf) = loaded.as_mut() {
                attach(ebpf, &current)?;
            }
            current = netlink::link(&link.name)?;
        }
        let Some((prog_id, _)) = current.xdp else {
            return Err(Error::Bpf(format!(
                "no XDP program on {} after attaching",
                link.name
            )));
        };
        let mut map = vips_of(&current, prog_id)?;
        for &vip in vips {
            map.insert(vip_key(vip), 1, 0)
                .map_err(|e| bpf(&format!("adding {vip} on {}", link.name), e))?;
        }
    }
    Ok(())
}

/// Stops decapsulating for `vips` on `links`; detaches the program where no VIP is left.
/// Returns the names of the links the program was detached from.
pub fn remove(links: &[Link], vips: &[IpAddr]) -> Result<Vec<String>> {
    let mut detached = Vec::new();
    for link in links {
        let Some((prog_id, mode)) = link.xdp else {
            continue;
        };
        let mut map = match vips_of(link, prog_id) {
            Ok(map) => map,
            // Someone else's program: not ours to touch.
            Err(Error::Invalid(_)) => continue,
            Err(e) => return Err(e),
        };
        for &vip in vips {
            // Absent keys are fine: undo is idempotent.
            let _ = map.remove(&vip_key(vip));
        }
        let left: BTreeSet<[u8; 20]> = map.keys().filter_map(std::result::Result::ok).collect();
        if left.is_empty() {
            netlink::set_xdp(link.index, -1, mode)?;
            detached.push(link.name.clone());
        }
    }
    Ok(detached)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn keys_match_the_c_struct_layout() {
        let k = vip_key(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10)));
        assert_eq!(&k[..8], &[4, 0, 0, 0, 198, 51, 100, 10]);
        assert!(k[8..].iter().all(|b| *b == 0));
        let v6 = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0x10);
        let k = vip_key(IpAddr::V6(v6));
        assert_eq!(k[0], 6);
        assert_eq!(&k[4..], &v6.octets());
    }
}

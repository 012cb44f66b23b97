//! The XDP steering program: loading, attaching, map updates, counters.
//!
//! The program (`bpf/steer.bpf.c`, built by build.rs) is embedded in the crate. It redirects
//! exactly the packets of configured services and NAT replies into the AF_XDP socket of the
//! receiving (interface, queue); everything else goes to the kernel untouched.
//!
//! Attachment uses a bpf_link, so the kernel detaches the program when the link's last fd
//! closes, also when the process dies. A program of ours attached the legacy way (netlink,
//! e.g. by an older build or by hand) is detected by name at start and replaced.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::os::fd::AsRawFd;

use aya::maps::xdp::DevMap;
use aya::maps::{HashMap as BpfHashMap, MapData, PerCpuArray, XskMap};
use aya::programs::xdp::XdpLinkId;
use aya::programs::{BtfTracePoint, ProgramFd, Xdp, XdpMode as AyaXdpMode, loaded_programs};
use aya::{Btf, Ebpf, EbpfLoader};
use rvs_core::Protocol;

use crate::error::{Error, Result};
use crate::netlink::{self, NlSocket};
use crate::sys::if_index;

/// The compiled steering program.
static STEER_OBJ: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/steer.bpf.o"));
/// The redirect-error counter (a BTF tracepoint program).
static XMIT_ERR_OBJ: &[u8] =
    aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/xmit_err.bpf.o"));

/// Default size of the fast path's flow map.
pub const DEFAULT_FLOW_ENTRIES: u32 = 65_536;

/// Name of the XDP program (the kernel keeps the first 15 bytes).
pub const PROGRAM_NAME: &str = "rvs_steer";
/// Interfaces one program can serve (XSKMAP slots).
pub const MAX_INTERFACES: usize = 64;
/// Queues per interface the program can redirect from.
pub const MAX_QUEUES: usize = 64;

const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;

/// How to attach the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XdpMode {
    /// Native (driver) mode where the driver supports it, generic otherwise.
    #[default]
    Auto,
    /// Native mode (XDP_FLAGS_DRV_MODE); fails where the driver lacks XDP support.
    Native,
    /// Generic mode (XDP_FLAGS_SKB_MODE): works everywhere, slower.
    Generic,
}

/// What one steering entry makes the program redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SteerEntry {
    /// Packets to a virtual service; port 0 = every port of the VIP (VIP-wide service).
    Service {
        /// Transport protocol.
        protocol: Protocol,
        /// Virtual IP.
        vip: IpAddr,
        /// Virtual port, 0 for a VIP-wide service.
        port: u16,
    },
    /// Replies from a NAT real server (to a non-local destination); port 0 = any port.
    NatRealServer {
        /// Transport protocol.
        protocol: Protocol,
        /// Real server address.
        rip: IpAddr,
        /// Real server port, 0 for any.
        port: u16,
    },
}

/// Counters of the program, summed over CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SteerStats {
    /// Packets redirected to an AF_XDP socket.
    pub steered: u64,
    /// Packets left to the kernel because they are not ours.
    pub passed: u64,
    /// Packets of ours left to the kernel because no socket serves their queue.
    pub no_socket: u64,
    /// Port-less fragments matched (steered or no-socket).
    pub fragments: u64,
    /// Packets forwarded by the XDP fast path.
    pub fast_hits: u64,
    /// Packets of a fast-path flow left to the core (TTL, MTU, padding trouble).
    pub fast_fallbacks: u64,
    /// Frames lost by XDP redirects to a device that could not take them (counted by the
    /// tracing program; the workers then fall back to AF_XDP for that device).
    pub fast_redirect_errors: u64,
}

/// Key of every steering map; must match `struct steer_key` in steer.bpf.c.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct SteerKey {
    proto: u8,
    family: u8,
    /// Network byte order.
    port: u16,
    addr: [u8; 16],
}

// SAFETY: SteerKey is repr(C), Copy, has no padding (1+1+2+16 bytes) and any bit pattern is
// a valid value, so it can be read from and written to the kernel as bytes.
unsafe impl aya::Pod for SteerKey {}

impl SteerKey {
    fn new(proto: u8, addr: IpAddr, port: u16) -> Self {
        let (family, addr) = match addr {
            IpAddr::V4(a) => (4, a.to_ipv6_mapped().octets()),
            IpAddr::V6(a) => (6, a.octets()),
        };
        SteerKey {
            proto,
            family,
            port: port.to_be(),
            addr,
        }
    }
}

/// Which interfaces got the program in which mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Interface name.
    pub iface: String,
    /// Interface index.
    pub ifindex: u32,
    /// The mode actually used (Native or Generic).
    pub mode: XdpMode,
}

/// The loaded and attached steering program with its maps.
pub struct Steering {
    ebpf: Ebpf,
    links: Vec<XdpLinkId>,
    attachments: Vec<Attachment>,
    svc: BpfHashMap<MapData, SteerKey, u32>,
    svc_any: BpfHashMap<MapData, SteerKey, u32>,
    vip: BpfHashMap<MapData, SteerKey, u32>,
    rs: BpfHashMap<MapData, SteerKey, u32>,
    rs_addr: BpfHashMap<MapData, SteerKey, u32>,
    local: BpfHashMap<MapData, SteerKey, u32>,
    ifslot: BpfHashMap<MapData, u32, u32>,
    /// ifindex -> the interface's MAC: only frames addressed to it are steered.
    ifmac: BpfHashMap<MapData, u32, u64>,
    xsks: XskMap<MapData>,
    stats: PerCpuArray<MapData, u64>,
    /// The fast path's flow map (the workers open their own handles by id).
    flows: MapData,
    /// slot -> egress interface for the fast path's redirects.
    egress: DevMap<MapData>,
    /// The redirect-error counter, when the kernel lets us attach it.
    xmit_err: Option<XmitErr>,
}

/// The loaded redirect-error tracing programs and their drop map, keyed by
/// (network namespace inode << 32 | ifindex).
struct XmitErr {
    _ebpf: Ebpf,
    drops: BpfHashMap<MapData, u64, u64>,
}

impl std::fmt::Debug for Steering {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Steering")
            .field("attachments", &self.attachments)
            .finish_non_exhaustive()
    }
}

fn bpf_err(e: impl std::fmt::Display) -> Error {
    Error::Bpf(e.to_string())
}

impl Steering {
    /// Load the program and attach it to `interfaces` (slot i = interfaces[i]).
    pub fn attach(interfaces: &[String], mode: XdpMode) -> Result<Self> {
        Self::attach_with(interfaces, mode, DEFAULT_FLOW_ENTRIES)
    }

    /// [`Steering::attach`] with a flow map of `flow_entries` entries (at least 1).
    pub fn attach_with(interfaces: &[String], mode: XdpMode, flow_entries: u32) -> Result<Self> {
        if interfaces.len() > MAX_INTERFACES {
            return Err(Error::Config(format!(
                "at most {MAX_INTERFACES} interfaces"
            )));
        }
        let mut ebpf = EbpfLoader::new()
            .map_max_entries("rvs_flows", flow_entries.max(1))
            .load(STEER_OBJ)
            .map_err(bpf_err)?;
        let mut take = |name: &str| {
            ebpf.take_map(name)
                .ok_or_else(|| Error::Bpf(format!("map {name} missing")))
        };
        let svc = BpfHashMap::try_from(take("rvs_svc")?).map_err(bpf_err)?;
        let svc_any = BpfHashMap::try_from(take("rvs_svc_any")?).map_err(bpf_err)?;
        let vip = BpfHashMap::try_from(take("rvs_vip")?).map_err(bpf_err)?;
        let rs = BpfHashMap::try_from(take("rvs_rs")?).map_err(bpf_err)?;
        let rs_addr = BpfHashMap::try_from(take("rvs_rs_addr")?).map_err(bpf_err)?;
        let local = BpfHashMap::try_from(take("rvs_local")?).map_err(bpf_err)?;
        let ifslot = BpfHashMap::try_from(take("rvs_ifslot")?).map_err(bpf_err)?;
        let ifmac = BpfHashMap::try_from(take("rvs_ifmac")?).map_err(bpf_err)?;
        let xsks = XskMap::try_from(take("rvs_xsks")?).map_err(bpf_err)?;
        let stats = PerCpuArray::try_from(take("rvs_stats")?).map_err(bpf_err)?;
        let flows = take("rvs_flows")?;
        let flows = match flows {
            aya::maps::Map::HashMap(m) => m,
            _ => return Err(Error::Bpf("rvs_flows is not a hash map".into())),
        };
        let egress = DevMap::try_from(take("rvs_egress")?).map_err(bpf_err)?;
        let prog: &mut Xdp = ebpf
            .program_mut(PROGRAM_NAME)
            .ok_or_else(|| Error::Bpf("program rvs_steer missing".into()))?
            .try_into()
            .map_err(bpf_err)?;
        prog.load().map_err(bpf_err)?;

        let mut s = Steering {
            ebpf,
            links: Vec::new(),
            attachments: Vec::new(),
            svc,
            svc_any,
            vip,
            rs,
            rs_addr,
            local,
            ifslot,
            ifmac,
            xsks,
            stats,
            flows,
            egress,
            xmit_err: load_xmit_err(),
        };
        let mut nl = NlSocket::new()?;
        for (slot, iface) in interfaces.iter().enumerate() {
            let ifindex = if_index(iface)?;
            remove_stale(&mut nl, iface, ifindex)?;
            s.attach_one(iface, ifindex, mode)?;
            let mac = crate::netlink::link(&mut nl, ifindex)?.mac.ok_or_else(|| {
                Error::Bpf(format!(
                    "{iface} has no MAC address: only Ethernet links are served"
                ))
            })?;
            s.register_interface(slot, ifindex, mac)?;
        }
        Ok(s)
    }

    fn attach_one(&mut self, iface: &str, ifindex: u32, mode: XdpMode) -> Result<()> {
        let prog: &mut Xdp = self
            .ebpf
            .program_mut(PROGRAM_NAME)
            .ok_or_else(|| Error::Bpf("program rvs_steer missing".into()))?
            .try_into()
            .map_err(bpf_err)?;
        let tries: &[(AyaXdpMode, XdpMode)] = match mode {
            XdpMode::Auto => &[
                (AyaXdpMode::Driver, XdpMode::Native),
                (AyaXdpMode::Skb, XdpMode::Generic),
            ],
            XdpMode::Native => &[(AyaXdpMode::Driver, XdpMode::Native)],
            XdpMode::Generic => &[(AyaXdpMode::Skb, XdpMode::Generic)],
        };
        let mut last = None;
        for (aya_mode, used) in tries {
            match prog.attach_to_if_index(ifindex, *aya_mode) {
                Ok(link) => {
                    self.links.push(link);
                    self.attachments.push(Attachment {
                        iface: iface.to_string(),
                        ifindex,
                        mode: *used,
                    });
                    tracing::info!(iface, mode = ?used, "XDP steering program attached");
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        Err(Error::Bpf(format!(
            "attaching to {iface}: {}",
            last.map(|e| format!("{e:?}")).unwrap_or_default()
        )))
    }

    /// Serve `ifindex` (MAC `mac`) as interface `slot`: its frames addressed to `mac` are
    /// steered, and the fast path may redirect to it. [`Steering::attach`] does this for
    /// every interface; tests call it for interfaces they run the program on unattached.
    pub fn register_interface(&mut self, slot: usize, ifindex: u32, mac: [u8; 6]) -> Result<()> {
        if slot >= MAX_INTERFACES {
            return Err(Error::Config(format!(
                "slot {slot} beyond {MAX_INTERFACES}"
            )));
        }
        self.ifslot
            .insert(ifindex, slot as u32, 0)
            .map_err(bpf_err)?;
        self.ifmac
            .insert(ifindex, mac_key(mac), 0)
            .map_err(bpf_err)?;
        self.egress
            .set(slot as u32, ifindex, None, 0)
            .map_err(bpf_err)?;
        Ok(())
    }

    /// Id of the fast path's flow map (workers and tools open it by id).
    pub fn flow_map_id(&self) -> Result<u32> {
        Ok(self.flows.info().map_err(bpf_err)?.id())
    }

    /// Id of the redirect-error map, when the tracing program is attached.
    pub fn xmit_drops_map_id(&self) -> Option<u32> {
        let x = self.xmit_err.as_ref()?;
        x.drops_id()
    }

    /// The loaded XDP program (e.g. for BPF_PROG_TEST_RUN).
    pub fn program_fd(&self) -> Result<&ProgramFd> {
        let prog: &Xdp = self
            .ebpf
            .program(PROGRAM_NAME)
            .ok_or_else(|| Error::Bpf("program missing".into()))?
            .try_into()
            .map_err(bpf_err)?;
        prog.fd().map_err(bpf_err)
    }

    /// Where the program is attached.
    pub fn attachments(&self) -> &[Attachment] {
        &self.attachments
    }

    /// Id of the loaded program (as `bpftool prog` shows it).
    pub fn program_id(&self) -> Result<u32> {
        let prog: &Xdp = self
            .ebpf
            .program(PROGRAM_NAME)
            .ok_or_else(|| Error::Bpf("program missing".into()))?
            .try_into()
            .map_err(bpf_err)?;
        Ok(prog.info().map_err(bpf_err)?.id())
    }

    /// Make the maps hold exactly `entries`: only the difference to what the maps hold is
    /// written. Returns (inserted, removed) key counts over all maps.
    pub fn apply(&mut self, entries: &[SteerEntry]) -> Result<(usize, usize)> {
        let mut svc = BTreeSet::new();
        let mut svc_any = BTreeSet::new();
        let mut vip = BTreeSet::new();
        let mut rs = BTreeSet::new();
        let mut rs_addr = BTreeSet::new();
        for e in entries {
            match *e {
                SteerEntry::Service {
                    protocol,
                    vip: addr,
                    port,
                } => {
                    let p = protocol.number();
                    if port == 0 {
                        svc_any.insert(SteerKey::new(p, addr, 0));
                    } else {
                        svc.insert(SteerKey::new(p, addr, port));
                    }
                    vip.insert(SteerKey::new(p, addr, 0));
                }
                SteerEntry::NatRealServer {
                    protocol,
                    rip,
                    port,
                } => {
                    let p = protocol.number();
                    rs.insert(SteerKey::new(p, rip, port));
                    rs_addr.insert(SteerKey::new(p, rip, 0));
                }
            }
        }
        let mut total = (0, 0);
        for (map, want) in [
            (&mut self.svc, svc),
            (&mut self.svc_any, svc_any),
            (&mut self.vip, vip),
            (&mut self.rs, rs),
            (&mut self.rs_addr, rs_addr),
        ] {
            let (a, r) = sync_map(map, &want)?;
            total.0 += a;
            total.1 += r;
        }
        Ok(total)
    }

    /// Make the local-address map hold exactly `addrs` (NAT replies to these stay with the
    /// kernel).
    pub fn set_local_addresses(&mut self, addrs: &[IpAddr]) -> Result<(usize, usize)> {
        let want: BTreeSet<SteerKey> = addrs.iter().map(|a| SteerKey::new(0, *a, 0)).collect();
        sync_map(&mut self.local, &want)
    }

    /// Register the AF_XDP socket serving (`slot`, `queue`).
    pub fn set_socket(&mut self, slot: usize, queue: u32, socket: &impl AsRawFd) -> Result<()> {
        let key = xsk_key(slot, queue)?;
        self.xsks.set(key, socket.as_raw_fd(), 0).map_err(bpf_err)
    }

    /// Unregister the socket of (`slot`, `queue`); its packets go to the kernel again.
    pub fn clear_socket(&mut self, slot: usize, queue: u32) -> Result<()> {
        let key = xsk_key(slot, queue)?;
        self.xsks.unset(key).map_err(bpf_err)
    }

    /// The program's counters summed over CPUs.
    pub fn stats(&self) -> Result<SteerStats> {
        let sum =
            |i: u32| -> Result<u64> { Ok(self.stats.get(&i, 0).map_err(bpf_err)?.iter().sum()) };
        Ok(SteerStats {
            steered: sum(0)?,
            passed: sum(1)?,
            no_socket: sum(2)?,
            fragments: sum(3)?,
            fast_hits: sum(4)?,
            fast_fallbacks: sum(5)?,
            fast_redirect_errors: self.xmit_err.as_ref().map_or(0, XmitErr::total),
        })
    }

    /// Detach from every interface now (dropping does the same).
    pub fn detach(&mut self) {
        if let Some(p) = self.ebpf.program_mut(PROGRAM_NAME)
            && let Ok(prog) = <&mut Xdp>::try_from(p)
        {
            for link in self.links.drain(..) {
                if let Err(e) = prog.detach(link) {
                    tracing::warn!(error = %e, "detaching XDP program");
                }
            }
        }
        self.attachments.clear();
    }
}

impl Drop for Steering {
    fn drop(&mut self) {
        self.detach();
    }
}

fn xsk_key(slot: usize, queue: u32) -> Result<u32> {
    if slot >= MAX_INTERFACES || queue as usize >= MAX_QUEUES {
        return Err(Error::Config(format!(
            "slot {slot} / queue {queue} beyond {MAX_INTERFACES} interfaces x {MAX_QUEUES} queues"
        )));
    }
    Ok((slot * MAX_QUEUES) as u32 + queue)
}

fn sync_map(
    map: &mut BpfHashMap<MapData, SteerKey, u32>,
    want: &BTreeSet<SteerKey>,
) -> Result<(usize, usize)> {
    let have: BTreeSet<SteerKey> = map.keys().filter_map(|k| k.ok()).collect();
    let mut removed = 0;
    for k in have.difference(want) {
        map.remove(k).map_err(bpf_err)?;
        removed += 1;
    }
    let mut added = 0;
    for k in want.difference(&have) {
        map.insert(k, 1, 0).map_err(bpf_err)?;
        added += 1;
    }
    Ok((added, removed))
}

/// Detach a program of ours left on `ifindex` by a netlink attachment; refuse anything else.
fn remove_stale(nl: &mut NlSocket, iface: &str, ifindex: u32) -> Result<()> {
    let Some(id) = netlink::link(nl, ifindex)?.xdp_prog_id else {
        return Ok(());
    };
    let name = loaded_programs()
        .filter_map(|p| p.ok())
        .find(|p| p.id() == id)
        .and_then(|p| p.name_as_str().map(str::to_string))
        .unwrap_or_default();
    if name != PROGRAM_NAME {
        return Err(Error::ForeignProgram {
            iface: iface.to_string(),
            name,
            id,
        });
    }
    tracing::warn!(iface, id, "replacing a stale rvs_steer program");
    // The mode must match the attachment; try both (a mismatch is a no-op or an error).
    for flags in [XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE] {
        let _ = netlink::set_xdp_fd(nl, ifindex, -1, flags);
    }
    if netlink::link(nl, ifindex)?.xdp_prog_id.is_some() {
        // Still there: attached through a bpf_link held by a live process (another rvsd).
        return Err(Error::ForeignProgram {
            iface: iface.to_string(),
            name,
            id,
        });
    }
    Ok(())
}

/// The compiled steering program (an ELF object), e.g. to load it with aya in a tool.
pub fn program_object() -> &'static [u8] {
    STEER_OBJ
}

impl XmitErr {
    /// Drops towards devices of our own network namespace.
    fn total(&self) -> u64 {
        let ns = netns_inode();
        self.drops
            .iter()
            .filter_map(|r| r.ok())
            .filter(|(k, _)| k >> 32 == ns)
            .map(|(_, v)| v)
            .sum()
    }

    fn drops_id(&self) -> Option<u32> {
        use aya::maps::IterableMap as _;
        self.drops.map().info().ok().map(|i| i.id())
    }
}

/// Inode of this thread's network namespace (the high half of the redirect-error keys).
pub(crate) fn netns_inode() -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/thread-self/ns/net").map_or(0, |m| m.ino())
}

/// Load and attach the redirect-error counter; `None` (logged) where the kernel lacks BTF
/// or refuses it: the fast path then cannot notice failing redirects.
fn load_xmit_err() -> Option<XmitErr> {
    let attempt = || -> Result<XmitErr> {
        let btf = Btf::from_sys_fs().map_err(bpf_err)?;
        let mut ebpf = EbpfLoader::new()
            .btf(Some(&btf))
            .load(XMIT_ERR_OBJ)
            .map_err(bpf_err)?;
        for (name, tracepoint) in [
            ("rvs_xmit_err", "xdp_devmap_xmit"),
            ("rvs_redirect_err", "xdp_redirect_err"),
        ] {
            let prog: &mut BtfTracePoint = ebpf
                .program_mut(name)
                .ok_or_else(|| Error::Bpf(format!("program {name} missing")))?
                .try_into()
                .map_err(bpf_err)?;
            prog.load(tracepoint, &btf).map_err(bpf_err)?;
            prog.attach().map_err(bpf_err)?;
        }
        let drops = BpfHashMap::try_from(
            ebpf.take_map("rvs_xmit_drops")
                .ok_or_else(|| Error::Bpf("map rvs_xmit_drops missing".into()))?,
        )
        .map_err(bpf_err)?;
        Ok(XmitErr { _ebpf: ebpf, drops })
    };
    match attempt() {
        Ok(x) => Some(x),
        Err(e) => {
            tracing::warn!(error = %e, "redirect-error counter not attached: failing fast-path redirects go unnoticed");
            None
        }
    }
}

/// A MAC as the steering program compares it: bytes 0..5 little-endian in the low 48 bits.
fn mac_key(mac: [u8; 6]) -> u64 {
    u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0, 0])
}

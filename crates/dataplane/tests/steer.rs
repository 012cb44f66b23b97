//! Root tests of the steering program: load (verifier), attach native and generic, detach on
//! drop, replacement of a stale program of ours.

mod common;

use rvs_dataplane::netlink::{self, NlSocket};
use rvs_dataplane::{Steering, XdpMode};
use rvs_testkit::{NetNs, root_or_skip, veth};

fn xdp_prog(ifname: &str) -> Option<u32> {
    let idx = rvs_dataplane::netlink::links(&mut NlSocket::new().unwrap())
        .unwrap()
        .into_iter()
        .find(|l| l.name == ifname)
        .expect("link exists");
    idx.xdp_prog_id
}

/// Whether `ifname` loses its XDP program within 2 s of the link being dropped. The release
/// is not always immediate in a test binary: a child forked by another test thread holds a
/// copy of the link's fd until its exec closes it.
fn detached(ifname: &str) -> bool {
    for _ in 0..40 {
        if xdp_prog(ifname).is_none() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

fn attach_and_detach(mode: XdpMode, tag: &str) {
    let a = NetNs::unique("rvsdp", &format!("{tag}a"));
    let b = NetNs::unique("rvsdp", &format!("{tag}b"));
    veth(&a, "d0", &b, "c0");
    let _in = a.enter();
    let steering = Steering::attach(&["d0".to_string()], mode).expect("load + attach");
    assert_eq!(steering.attachments().len(), 1);
    assert_eq!(steering.attachments()[0].mode, mode);
    let id = steering.program_id().unwrap();
    assert_eq!(
        xdp_prog("d0"),
        Some(id),
        "the kernel reports our program on d0"
    );
    drop(steering);
    assert!(detached("d0"), "nothing stays attached after drop");
}

#[test]
fn attaches_native_on_veth_and_detaches_on_drop() {
    if !root_or_skip("attaches_native_on_veth_and_detaches_on_drop") {
        return;
    }
    attach_and_detach(XdpMode::Native, "nat");
}

#[test]
fn attaches_generic_on_veth_and_detaches_on_drop() {
    if !root_or_skip("attaches_generic_on_veth_and_detaches_on_drop") {
        return;
    }
    attach_and_detach(XdpMode::Generic, "gen");
}

#[test]
fn stale_program_of_ours_is_replaced() {
    if !root_or_skip("stale_program_of_ours_is_replaced") {
        return;
    }
    let a = NetNs::unique("rvsdp", "stla");
    let b = NetNs::unique("rvsdp", "stlb");
    veth(&a, "d0", &b, "c0");
    let _in = a.enter();
    let ifindex = netlink::links(&mut NlSocket::new().unwrap())
        .unwrap()
        .into_iter()
        .find(|l| l.name == "d0")
        .unwrap()
        .index;
    // Attach our program the legacy way (netlink), as an older rvsd or a crash could leave.
    let stale_id = {
        let mut ebpf = aya::EbpfLoader::new()
            .load(rvs_dataplane::steer::program_object())
            .unwrap();
        let prog: &mut aya::programs::Xdp =
            ebpf.program_mut("rvs_steer").unwrap().try_into().unwrap();
        prog.load().unwrap();
        let fd = prog.fd().unwrap();
        let raw = std::os::fd::AsRawFd::as_raw_fd(&std::os::fd::AsFd::as_fd(fd));
        netlink::set_xdp_fd(&mut NlSocket::new().unwrap(), ifindex, raw, 1 << 1).unwrap();
        prog.info().unwrap().id()
    };
    assert_eq!(
        xdp_prog("d0"),
        Some(stale_id),
        "the stale program survives its loader"
    );
    let steering = Steering::attach(&["d0".to_string()], XdpMode::Generic).expect("replaces it");
    let id = steering.program_id().unwrap();
    assert_ne!(id, stale_id);
    assert_eq!(xdp_prog("d0"), Some(id));
    drop(steering);
    assert!(detached("d0"));
}

#[test]
fn foreign_program_is_not_replaced() {
    if !root_or_skip("foreign_program_is_not_replaced") {
        return;
    }
    let a = NetNs::unique("rvsdp", "fora");
    let b = NetNs::unique("rvsdp", "forb");
    veth(&a, "d0", &b, "c0");
    let _in = a.enter();
    // Our own program held through a live bpf_link counts as taken (another rvsd running).
    let first = Steering::attach(&["d0".to_string()], XdpMode::Generic).unwrap();
    let second = Steering::attach(&["d0".to_string()], XdpMode::Generic);
    assert!(
        second.is_err(),
        "a second instance must not steal the interface"
    );
    drop(first);
    assert!(detached("d0"));
}

//! BPF_PROG_TEST_RUN of the steering program on one frame: what the program returns and the
//! frame as it would leave. Used by the differential tests (the same packets through the
//! core and through the program give the same bytes).

use std::os::fd::{AsFd, AsRawFd};

use crate::error::{Error, Result};
use crate::steer::Steering;

const BPF_PROG_TEST_RUN: libc::c_long = 10;

/// `struct xdp_md` as the test run's context.
#[repr(C)]
#[derive(Default)]
struct XdpMd {
    data: u32,
    data_end: u32,
    data_meta: u32,
    ingress_ifindex: u32,
    rx_queue_index: u32,
    egress_ifindex: u32,
}

/// The `test` member of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
    ctx_size_in: u32,
    ctx_size_out: u32,
    ctx_in: u64,
    ctx_out: u64,
    flags: u32,
    cpu: u32,
    batch_size: u32,
    _pad: u32,
}

/// XDP action numbers.
pub mod action {
    /// XDP_PASS.
    pub const PASS: u32 = 2;
    /// XDP_REDIRECT.
    pub const REDIRECT: u32 = 4;
}

/// Run the loaded steering program once on `frame` as if received on `ifindex` (which must
/// exist in the caller's network namespace), queue 0. Returns the XDP action and the frame
/// after the program.
pub fn test_run(steering: &Steering, frame: &[u8], ifindex: u32) -> Result<(u32, Vec<u8>)> {
    let fd = steering.program_fd()?.as_fd().as_raw_fd();
    let mut out = vec![0u8; frame.len() + 256];
    let ctx = XdpMd {
        data_end: frame.len() as u32,
        ingress_ifindex: ifindex,
        ..XdpMd::default()
    };
    let mut attr = TestRunAttr {
        prog_fd: fd as u32,
        data_size_in: frame.len() as u32,
        data_size_out: out.len() as u32,
        data_in: frame.as_ptr() as u64,
        data_out: out.as_mut_ptr() as u64,
        repeat: 1,
        ctx_size_in: std::mem::size_of::<XdpMd>() as u32,
        ctx_in: &ctx as *const XdpMd as u64,
        ..TestRunAttr::default()
    };
    // SAFETY: bpf(BPF_PROG_TEST_RUN) reads `frame` (data_size_in bytes) and `ctx`, writes at
    // most data_size_out bytes into `out`, and fills `attr`; all outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_TEST_RUN,
            &mut attr as *mut TestRunAttr,
            std::mem::size_of::<TestRunAttr>(),
        )
    };
    if rc < 0 {
        return Err(Error::sys(
            "bpf(BPF_PROG_TEST_RUN)",
            std::io::Error::last_os_error(),
        ));
    }
    out.truncate(attr.data_size_out as usize);
    Ok((attr.retval, out))
}

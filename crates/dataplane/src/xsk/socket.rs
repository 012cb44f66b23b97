//! An AF_XDP socket bound to one (interface, queue), with its four rings.
//!
//! The first socket of a UMEM registers it (XDP_UMEM_REG); later sockets bind with
//! XDP_SHARED_UMEM to the first one's fd. Every socket gets its own fill and completion ring:
//! the kernel requires one pair per (device, queue), and it keeps the free-frame bookkeeping
//! simple (frames go back to the UMEM's free list whatever ring they come from).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::ring::Ring;
use super::umem::Umem;
use crate::error::{Error, Result};
use crate::sys::{getsockopt, setsockopt};

/// How to bind: copy mode, zero-copy, or zero-copy with a fall back to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BindMode {
    /// Try zero-copy, use copy mode if the driver does not support it.
    #[default]
    Auto,
    /// XDP_COPY: the kernel copies packets into the UMEM (veth, virtio, generic XDP).
    Copy,
    /// XDP_ZEROCOPY: the NIC writes into the UMEM directly; fails where unsupported.
    ZeroCopy,
}

/// Ring sizes of one socket (powers of two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingSizes {
    /// Fill ring entries.
    pub fill: u32,
    /// Completion ring entries.
    pub completion: u32,
    /// RX ring entries.
    pub rx: u32,
    /// TX ring entries.
    pub tx: u32,
}

impl Default for RingSizes {
    fn default() -> Self {
        RingSizes {
            fill: 2048,
            completion: 2048,
            rx: 2048,
            tx: 2048,
        }
    }
}

/// Kernel statistics of one socket (XDP_STATISTICS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct XskStats {
    /// Packets dropped for reasons other than an invalid descriptor.
    pub rx_dropped: u64,
    /// Invalid RX descriptors.
    pub rx_invalid_descs: u64,
    /// Invalid TX descriptors.
    pub tx_invalid_descs: u64,
    /// Times the RX ring was full.
    pub rx_ring_full: u64,
    /// Times the fill ring was empty when the kernel needed a frame.
    pub rx_fill_ring_empty_descs: u64,
    /// Times the TX ring was empty when the kernel looked for work.
    pub tx_ring_empty_descs: u64,
}

impl XskStats {
    /// Add `o` into `self`.
    pub fn merge(&mut self, o: &XskStats) {
        self.rx_dropped += o.rx_dropped;
        self.rx_invalid_descs += o.rx_invalid_descs;
        self.tx_invalid_descs += o.tx_invalid_descs;
        self.rx_ring_full += o.rx_ring_full;
        self.rx_fill_ring_empty_descs += o.rx_fill_ring_empty_descs;
        self.tx_ring_empty_descs += o.tx_ring_empty_descs;
    }
}

/// One bound AF_XDP socket.
#[derive(Debug)]
pub struct XskSocket {
    // Rings are unmapped before the fd closes (field order = drop order).
    fill: Ring<u64>,
    completion: Ring<u64>,
    rx: Ring<libc::xdp_desc>,
    tx: Ring<libc::xdp_desc>,
    fd: OwnedFd,
    ifindex: u32,
    queue: u32,
    zero_copy: bool,
}

impl XskSocket {
    /// Open and bind a socket on (`ifindex`, `queue`) using `umem`. With `shared` set to a
    /// socket that already registered `umem`, the UMEM is shared with it
    /// (`mode` and `need_wakeup` then follow that socket).
    pub fn open(
        umem: &Umem,
        shared: Option<&XskSocket>,
        ifindex: u32,
        queue: u32,
        sizes: RingSizes,
        mode: BindMode,
        need_wakeup: bool,
    ) -> Result<Self> {
        // The kernel lets go of a queue's previous socket (e.g. of an rvsd that just exited
        // or restarted) in deferred work; until then bind fails with EBUSY. Wait for it,
        // boundedly: a queue held by a live process stays busy and the error is reported.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        loop {
            match Self::open_any(umem, shared, ifindex, queue, sizes, mode, need_wakeup) {
                Err(e) if e.is_busy() && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                r => return r,
            }
        }
    }

    fn open_any(
        umem: &Umem,
        shared: Option<&XskSocket>,
        ifindex: u32,
        queue: u32,
        sizes: RingSizes,
        mode: BindMode,
        need_wakeup: bool,
    ) -> Result<Self> {
        if shared.is_some() || mode != BindMode::Auto {
            let zc = match shared {
                Some(s) => s.zero_copy,
                None => mode == BindMode::ZeroCopy,
            };
            return Self::open_once(umem, shared, ifindex, queue, sizes, zc, need_wakeup);
        }
        // A failed bind consumes the socket's fill/completion rings, so each attempt starts
        // from a fresh socket.
        Self::open_once(umem, None, ifindex, queue, sizes, true, need_wakeup)
            .or_else(|_| Self::open_once(umem, None, ifindex, queue, sizes, false, need_wakeup))
    }

    fn open_once(
        umem: &Umem,
        shared: Option<&XskSocket>,
        ifindex: u32,
        queue: u32,
        sizes: RingSizes,
        zero_copy: bool,
        need_wakeup: bool,
    ) -> Result<Self> {
        for s in [sizes.fill, sizes.completion, sizes.rx, sizes.tx] {
            if !s.is_power_of_two() {
                return Err(Error::Config(format!(
                    "ring size {s} is not a power of two"
                )));
            }
        }
        // SAFETY: plain socket(2) call; the result is checked.
        let raw = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(Error::last_os("socket(AF_XDP)"));
        }
        // SAFETY: raw is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let f = fd.as_raw_fd();
        const SOL: i32 = libc::SOL_XDP;
        if shared.is_none() {
            setsockopt(
                f,
                SOL,
                libc::XDP_UMEM_REG,
                &umem.registration(),
                "XDP_UMEM_REG",
            )?;
        }
        setsockopt(
            f,
            SOL,
            libc::XDP_UMEM_FILL_RING,
            &sizes.fill,
            "XDP_UMEM_FILL_RING",
        )?;
        let cr = libc::XDP_UMEM_COMPLETION_RING;
        setsockopt(f, SOL, cr, &sizes.completion, "XDP_UMEM_COMPLETION_RING")?;
        setsockopt(f, SOL, libc::XDP_RX_RING, &sizes.rx, "XDP_RX_RING")?;
        setsockopt(f, SOL, libc::XDP_TX_RING, &sizes.tx, "XDP_TX_RING")?;

        // SAFETY: xdp_mmap_offsets is plain data; all-zero is a valid value.
        let mut off: libc::xdp_mmap_offsets = unsafe { std::mem::zeroed() };
        let n = getsockopt(f, SOL, libc::XDP_MMAP_OFFSETS, &mut off, "XDP_MMAP_OFFSETS")?;
        if n != std::mem::size_of::<libc::xdp_mmap_offsets>() {
            return Err(Error::Config(
                "kernel too old: no ring flags in XDP_MMAP_OFFSETS".into(),
            ));
        }
        let fill = Ring::map(f, sizes.fill, libc::XDP_UMEM_PGOFF_FILL_RING, &off.fr, true)?;
        let pg_cr = libc::XDP_UMEM_PGOFF_COMPLETION_RING;
        let completion = Ring::map(f, sizes.completion, pg_cr, &off.cr, false)?;
        let rx = Ring::map(f, sizes.rx, libc::XDP_PGOFF_RX_RING as u64, &off.rx, false)?;
        let tx = Ring::map(f, sizes.tx, libc::XDP_PGOFF_TX_RING as u64, &off.tx, true)?;

        let mut flags: u16 = 0;
        let mut shared_fd: u32 = 0;
        match shared {
            Some(s) => {
                flags |= libc::XDP_SHARED_UMEM;
                shared_fd = s.fd.as_raw_fd() as u32;
            }
            None => {
                flags |= if zero_copy {
                    libc::XDP_ZEROCOPY
                } else {
                    libc::XDP_COPY
                };
                if need_wakeup {
                    flags |= libc::XDP_USE_NEED_WAKEUP;
                }
            }
        }
        let addr = libc::sockaddr_xdp {
            sxdp_family: libc::AF_XDP as u16,
            sxdp_flags: flags,
            sxdp_ifindex: ifindex,
            sxdp_queue_id: queue,
            sxdp_shared_umem_fd: shared_fd,
        };
        // SAFETY: addr is a live sockaddr_xdp of the size passed.
        let rc = unsafe {
            libc::bind(
                f,
                (&addr as *const libc::sockaddr_xdp).cast(),
                std::mem::size_of::<libc::sockaddr_xdp>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(Error::last_os("bind(AF_XDP)"));
        }
        Ok(XskSocket {
            fill,
            completion,
            rx,
            tx,
            fd,
            ifindex,
            queue,
            zero_copy,
        })
    }

    /// Interface index the socket is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Queue the socket is bound to.
    pub fn queue(&self) -> u32 {
        self.queue
    }

    /// Whether the socket is in zero-copy mode.
    pub fn is_zero_copy(&self) -> bool {
        self.zero_copy
    }

    /// Kernel statistics (XDP_STATISTICS).
    pub fn statistics(&self) -> Result<XskStats> {
        // SAFETY: xdp_statistics is plain data; all-zero is a valid value.
        let mut s: libc::xdp_statistics = unsafe { std::mem::zeroed() };
        getsockopt(
            self.fd.as_raw_fd(),
            libc::SOL_XDP,
            libc::XDP_STATISTICS,
            &mut s,
            "XDP_STATISTICS",
        )?;
        Ok(XskStats {
            rx_dropped: s.rx_dropped,
            rx_invalid_descs: s.rx_invalid_descs,
            tx_invalid_descs: s.tx_invalid_descs,
            rx_ring_full: s.rx_ring_full,
            rx_fill_ring_empty_descs: s.rx_fill_ring_empty_descs,
            tx_ring_empty_descs: s.tx_ring_empty_descs,
        })
    }

    /// Ask the kernel to send what is on the TX ring (needed in copy mode and whenever the
    /// TX ring asks for a wake-up). EAGAIN/EBUSY/ENOBUFS mean "try again later".
    pub fn kick_tx(&self) {
        // SAFETY: a zero-length send with no buffer; the kernel reads nothing from us.
        unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                std::ptr::null(),
                0,
                libc::MSG_DONTWAIT,
                std::ptr::null(),
                0,
            );
        }
    }

    /// Wake the driver to refill from the fill ring (needed when it asks, in wake-up mode).
    pub fn kick_rx(&self) {
        // SAFETY: a zero-length receive into no buffer; the kernel writes nothing to us.
        unsafe {
            libc::recvfrom(
                self.fd.as_raw_fd(),
                std::ptr::null_mut(),
                0,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
        }
    }

    /// Move up to `max` free frames of `umem` onto the fill ring; returns how many.
    pub fn refill(&mut self, umem: &mut Umem, max: u32) -> u32 {
        let n = self.fill.free(max).min(max).min(umem.free_frames() as u32);
        for _ in 0..n {
            if let Some(f) = umem.alloc() {
                self.fill.push(f);
            }
        }
        if n > 0 {
            self.fill.submit();
        }
        n
    }

    /// Move finished TX frames from the completion ring back to `umem`'s free list.
    pub fn reclaim(&mut self, umem: &mut Umem) -> u32 {
        let n = self.completion.available(u32::MAX);
        for _ in 0..n {
            let addr = self.completion.pop();
            umem.release(addr);
        }
        if n > 0 {
            self.completion.release();
        }
        n
    }

    /// Take up to `max` received packets as (address, length); their frames are then held
    /// by the caller, who must hand each back (TX or [`Umem::release`]).
    pub fn receive(&mut self, max: u32, out: &mut Vec<(u64, u32)>) -> u32 {
        let n = self.rx.available(max).min(max);
        for _ in 0..n {
            let d = self.rx.pop();
            out.push((d.addr, d.len));
        }
        if n > 0 {
            self.rx.release();
        }
        n
    }

    /// Queue one frame for transmission; false when the TX ring is full (the caller still
    /// holds the frame). Call [`XskSocket::flush_tx`] after a batch.
    pub fn transmit(&mut self, addr: u64, len: u32) -> bool {
        if self.tx.free(1) == 0 {
            return false;
        }
        self.tx.push(libc::xdp_desc {
            addr,
            len,
            options: 0,
        });
        true
    }

    /// Publish queued TX frames and wake the kernel when it asks (or always in copy mode,
    /// where sending happens in the send call). Returns the frames still unsent.
    pub fn flush_tx(&mut self) -> u32 {
        self.tx.submit();
        let mut left = self.tx.outstanding();
        // Copy mode sends at most a small batch per call: kick a few times, then leave the
        // rest for the next loop iteration (which polls with a zero timeout meanwhile).
        let mut kicks = 0;
        while left > 0 && kicks < 4 && (!self.zero_copy || self.tx.needs_wakeup()) {
            self.kick_tx();
            kicks += 1;
            left = self.tx.outstanding();
        }
        left
    }

    /// Whether the fill ring asks for a wake-up (XDP_USE_NEED_WAKEUP).
    pub fn fill_needs_wakeup(&self) -> bool {
        self.fill.needs_wakeup()
    }

    /// Set socket options for busy polling (best effort: older kernels lack some of them).
    pub fn enable_busy_poll(&self, budget: u32) {
        let f = self.fd.as_raw_fd();
        let one: i32 = 1;
        let usecs: i32 = 20;
        let budget = budget as i32;
        let _ = setsockopt(
            f,
            libc::SOL_SOCKET,
            libc::SO_PREFER_BUSY_POLL,
            &one,
            "SO_PREFER_BUSY_POLL",
        );
        let _ = setsockopt(
            f,
            libc::SOL_SOCKET,
            libc::SO_BUSY_POLL,
            &usecs,
            "SO_BUSY_POLL",
        );
        let _ = setsockopt(
            f,
            libc::SOL_SOCKET,
            libc::SO_BUSY_POLL_BUDGET,
            &budget,
            "SO_BUSY_POLL_BUDGET",
        );
    }
}

impl AsRawFd for XskSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

//! The UMEM: one mmap'ed area of equal frames shared by all sockets of a worker, and the
//! list of frames user space currently holds (neither in a fill/RX nor a TX/completion ring).
//!
//! A frame's life: free list → fill ring → (kernel writes a packet) → RX ring → processor →
//! either TX ring → completion ring → free list, or straight back to the free list (drop).
//! Because every socket of the worker shares this UMEM, a frame received on interface A is
//! transmitted on interface B without a copy.

use crate::error::{Error, Result};
use crate::sys::Mmap;

/// Size of one frame (chunk). AF_XDP allows 2048 or 4096 in aligned mode.
pub const FRAME_SIZE: u32 = 4096;

/// Bytes the kernel leaves in front of a received packet (XDP_PACKET_HEADROOM). The RX
/// descriptor's address already points past them, in copy and in zero-copy mode.
pub const KERNEL_HEADROOM: u32 = 256;

/// The UMEM area and its free frames.
#[derive(Debug)]
pub struct Umem {
    area: Mmap,
    frames: u32,
    free: Vec<u64>,
}

impl Umem {
    /// An area of `frames` frames of [`FRAME_SIZE`] bytes, all free.
    pub fn new(frames: u32) -> Result<Self> {
        if frames == 0 {
            return Err(Error::Config("a UMEM needs at least one frame".into()));
        }
        let area = Mmap::anonymous(frames as usize * FRAME_SIZE as usize)?;
        let free = (0..frames)
            .rev()
            .map(|i| u64::from(i) * u64::from(FRAME_SIZE))
            .collect();
        Ok(Umem { area, frames, free })
    }

    /// Number of frames in the area.
    pub fn frames(&self) -> u32 {
        self.frames
    }

    /// Frames currently on the free list.
    pub fn free_frames(&self) -> usize {
        self.free.len()
    }

    /// The XDP_UMEM_REG request describing this area.
    pub(crate) fn registration(&self) -> libc::xdp_umem_reg {
        libc::xdp_umem_reg {
            addr: self.area.as_ptr() as u64,
            len: self.area.len() as u64,
            chunk_size: FRAME_SIZE,
            // Our own headroom stays 0: the kernel's 256 bytes already leave room for a
            // tunnel header in front of every received packet.
            headroom: 0,
            flags: 0,
            tx_metadata_len: 0,
        }
    }

    /// The chunk start of any address inside it (aligned mode).
    pub fn chunk_of(addr: u64) -> u64 {
        addr & !(u64::from(FRAME_SIZE) - 1)
    }

    /// Take a free frame (its chunk start).
    pub fn alloc(&mut self) -> Option<u64> {
        self.free.pop()
    }

    /// Return a frame, given any address inside it.
    pub fn release(&mut self, addr: u64) {
        debug_assert!(
            self.free.len() < self.frames as usize,
            "frame released twice"
        );
        self.free.push(Self::chunk_of(addr));
    }

    /// The whole frame containing `addr`, writable, or None if `addr` is outside the area.
    pub fn frame_mut(&mut self, addr: u64) -> Option<&mut [u8]> {
        let chunk = Self::chunk_of(addr);
        if chunk >= u64::from(self.frames) * u64::from(FRAME_SIZE) {
            return None;
        }
        // SAFETY: chunk..chunk+FRAME_SIZE lies inside the mapping (checked above). The frame
        // is held by user space (it came off an RX ring or the free list), so the kernel does
        // not touch it while the returned borrow of `self` lives.
        Some(unsafe {
            std::slice::from_raw_parts_mut(
                self.area.as_ptr().add(chunk as usize),
                FRAME_SIZE as usize,
            )
        })
    }
}

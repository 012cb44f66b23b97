//! AF_XDP in-house: UMEM, rings and sockets (libc only).
//!
//! xdpilone is EUPL (not allowed here) and the `xdp` crate cannot share a UMEM between
//! sockets, which zero-copy forwarding between interfaces needs.

mod ring;
mod socket;
mod umem;

pub use socket::{BindMode, RingSizes, XskSocket, XskStats};
pub use umem::{FRAME_SIZE, KERNEL_HEADROOM, Umem};

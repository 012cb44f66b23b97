//! Sans-I/O LVS core: services, destinations, schedulers, connection table, NAT/DR/TUN rewrites.
//!
//! The core never reads a clock, a socket or the environment: a frame and `now` come in, a
//! [`Verdict`] and counters come out.

pub mod config;
pub mod conn;
pub mod director;
pub mod forward;
pub mod model;
pub mod sched;
pub mod stats;
pub mod time;
pub mod verdict;

pub use model::*;
pub use time::Instant;
pub use verdict::{DropReason, Verdict};

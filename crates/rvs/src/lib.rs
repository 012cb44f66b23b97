//! rvs: the companion tool of the Rust Virtual Server.
//!
//! - [`lab`]: the seed article's NAT, DR, TUN and HA topologies in network namespaces;
//! - [`realserver`]: set up a real server for DR or TUN (VIP on lo, ARP hiding, decapsulation);
//! - [`serve`]: the built-in HTTP / UDP servers the lab runs in each real server;
//! - [`demo`]: `rvs demo`, the seed article told on the labs with real output;
//! - [`bench`]: the lab benchmark (rvsd against direct, nftables DNAT and HAProxy).

pub mod bench;
pub mod demo;
pub mod error;
pub mod exec;
pub mod lab;
pub mod realserver;
pub mod serve;

pub use error::{Error, Result};

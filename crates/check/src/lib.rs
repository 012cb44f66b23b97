//! Real-server health checkers as keepalived runs them: TCP, HTTP(S), script, DNS, UDP, ping.
//!
//! Input is rvs-kaconf's typed configuration ([`rvs_kaconf::VirtualServer`] with its
//! real servers and checkers, timing already inherited VS → RS → checker). Output is, per
//! virtual server, the **desired destination set** ([`pool::DesiredPool`]: address, port,
//! weight, forwarding method, thresholds) for the daemon to diff against rvsd's table, plus
//! notifications (notify_up/down, quorum_up/down) with their scripts run.
//!
//! # Layers
//! * [`checker`] — one checker's retry/transition rules (keepalived's per-type epilogs):
//!   `retry` failures after the first, spaced by `delay_before_retry`, take an up checker
//!   down; while down it is probed every `delay_loop` and one success brings it up;
//!   `alpha` starts it down. MISC_CHECK exit codes: 0 ok, 1 fail, 2..=255 with
//!   `misc_dynamic` = ok and weight = code − 2.
//! * [`pool`] — one virtual server: real server alive ⇔ no checker down; removal or weight
//!   0 (`inhibit_on_failure`); quorum (Σ alive weights) with hysteresis; sorry server.
//! * [`engine`] — the sans-I/O core over all virtual servers: `now` and probe results in,
//!   [`engine::Action`]s out (start probe, pool changed, notify). Reload and shutdown
//!   (omega) follow keepalived's ipwrapper.c.
//! * [`probe`] — the async probes (tokio), [`script`] — script vetting
//!   (`enable_script_security`, `script_user`) and running, [`runner`] — the tokio driver.
//!
//! # Using it from the daemon
//! ```no_run
//! # async fn demo(cfg: rvs_kaconf::Config) {
//! use rvs_check::runner::{CheckConfig, Checks, Event};
//! let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
//! let checks = Checks::spawn(
//!     CheckConfig { virtual_servers: cfg.virtual_servers.clone(), global: cfg.global.clone() },
//!     tx,
//! );
//! while let Some(ev) = rx.recv().await {
//!     match ev {
//!         Event::Pool { vs, pool } => { /* diff pool.destinations into rvsd's service */ }
//!         Event::ServiceRemoved { pool } => { /* delete the service */ }
//!         Event::Notify { notification, script } => { /* log */ }
//!         Event::ScriptRefused { what, reason } => { /* log */ }
//!     }
//! #   break;
//! }
//! checks.shutdown().await; // empties the pools, runs omega scripts
//! # }
//! ```
//! Reload with [`runner::Checks::reload`]. `virtual_server group` keys are passed through
//! unexpanded: the daemon installs one IPVS service per group member with the same
//! destinations.
//!
//! # Timing bound
//! A real server whose service dies just after a passing probe is out of the pool after at
//! most `delay_loop + (retry + 1) × connect_timeout + retry × delay_before_retry` (the
//! probes that time out); a refused connection is detected faster.
//!
//! # Not supported
//! HTTP `regex` (warned and ignored), SSL client certificates/CA (`SSL {}` block: the
//! server certificate is never verified, see [`probe::tls`]), `ha_suspend`, BFD_CHECK,
//! FILE_CHECK, UDP_CHECK `X` wildcard nibbles, SMTP `host` sub-blocks.

pub mod checker;
pub mod dns_wire;
pub mod engine;
pub mod http_wire;
pub mod pool;
pub mod probe;
mod rand;
pub mod runner;
pub mod script;

pub use checker::ProbeResult;
pub use engine::{Action, CheckerId, Engine};
pub use pool::{DesiredPool, Destination, Notification, NotifyKind};
pub use runner::{CheckConfig, Checks, Event};

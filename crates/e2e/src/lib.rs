//! Support for rvs's end-to-end tests: rvsd forwarding for real between the network
//! namespaces of an `rvs lab`, driven by rvsadm, with real peers (curl, nginx, wrk, tcpdump).
//!
//! The tests live in `tests/`; this library holds what they share: the root gate, where the
//! binaries under test are, a [`Lab`] guard that starts rvsd and always cleans up, clients
//! ([`client`]), peers ([`peers`]) and hand-made frames ([`frames`]).
//!
//! The binaries are taken from the target directory next to the test executable
//! (`target/<profile>/rvsd`, `rvsadm`, `rvs`): build them first with `cargo build --bins`.
//!
//! Root only (they skip with a message otherwise, and fail when CI=true or
//! RVS_REQUIRE_ROOT_TESTS=1). `RVS_E2E_LOG=debug` raises rvsd's log level (its log is printed
//! when a test fails); `RVS_E2E_HOLD=SECONDS` keeps a failed test's lab that long to look at.

pub mod client;
pub mod frames;
pub mod lab;
pub mod peers;

pub use lab::Lab;
// The generic pieces (root gate, binaries, commands, namespaces, waits) are shared with the
// other crates' root tests.
pub use rvs_testkit::{bin, bin_dir, in_netns, ns_cmd, root_or_skip, run, run_ok, wait_until};

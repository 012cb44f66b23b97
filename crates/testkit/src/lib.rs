//! What the root tests of every crate share: the root gate (required under CI), network
//! namespaces with unique names that are deleted on drop (also on panic), veth pairs with TX
//! checksum offload off, running code inside a namespace, bounded waits and command helpers.
//!
//! A dev-dependency only; nothing here is part of the product.

mod netns;
mod process;

use std::time::{Duration, Instant};

pub use netns::{NetNs, NsGuard, in_netns, spawn_in_netns, veth};
pub use process::{bin, bin_dir, ns_cmd, ns_exec, run, run_ok, sh, sh_ok};

/// Whether root tests must run rather than skip: `CI=true` or `RVS_REQUIRE_ROOT_TESTS=1`.
pub fn root_required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("RVS_REQUIRE_ROOT_TESTS").is_ok_and(|v| v == "1")
}

/// Whether this process runs as root (effective uid 0).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// True when root test `test` may run here; prints why it is skipped otherwise, and panics
/// when root tests are required ([`root_required`]) but this is not root.
pub fn root_or_skip(test: &str) -> bool {
    if is_root() {
        return true;
    }
    assert!(
        !root_required(),
        "{test}: needs root (CI=true or RVS_REQUIRE_ROOT_TESTS=1 make it required)"
    );
    eprintln!("skipping {test}: needs root (set RVS_REQUIRE_ROOT_TESTS=1 to make this an error)");
    false
}

/// A name unique to this process and call: `<prefix><pid><tag><n>`.
pub fn unique_name(prefix: &str, tag: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}{}{tag}{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Polls `ready` every 50 ms until it holds; panics with `what` after `limit`. Returns how
/// long it took (for messages, never for assertions).
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if ready() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

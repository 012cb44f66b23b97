#!/usr/bin/env bash
# The whole test suite: installs what it needs, then format, lints and every test
# (unit, property, golden, fuzz-corpus replay and the root network-namespace tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export RVS_REQUIRE_ROOT_TESTS=1
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The end-to-end tests run the real binaries (rvsd, rvsadm, rvs, rvs-keepalived).
cargo build --workspace --bins --locked
cargo test --workspace --locked --no-fail-fast -- --test-threads=2

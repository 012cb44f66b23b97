#!/usr/bin/env bash
# The demo: installs what it needs, builds rvs, and walks through the seed article's
# experiments (NAT, DR, TUN, schedulers, HA) on built-in network-namespace labs.
# Extra arguments go to `rvs demo` (e.g. --step 2, --keep).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --locked --bins -q
export PATH="$PWD/target/release:$PATH"
exec rvs demo "$@"

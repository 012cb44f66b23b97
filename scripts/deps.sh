#!/usr/bin/env bash
# Install the Debian packages the build, the tests, the demo and the benchmarks need.
# Idempotent: does nothing when everything is present. Needs root (apt-get).
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for p in clang-19 llvm-19 libbpf-dev ethtool iproute2 nftables nginx wrk haproxy keepalived curl tcpdump procps; do
  have "$p" || need+=("$p")
done
if ((${#need[@]})); then
  echo "rvs: installing Debian packages: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # The peers (nginx, haproxy, keepalived) run only inside our own namespaces: keep the
  # package scripts from starting host-wide copies.
  policy=/usr/sbin/policy-rc.d
  [ -e "$policy" ] || { printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; trap 'rm -f "$policy"' EXIT; }
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

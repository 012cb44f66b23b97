#!/usr/bin/env bash
# Regenerates corpus/*.expected from the real keepalived (`keepalived -t`).
# Each expected file holds "exit N" on its first line, then keepalived's stderr.
# The config-id is fixed to lb1 so `@lb1` lines are deterministic. keepalived runs in a
# network namespace of its own holding exactly lo and eth0 (as the corpus test's live oracle
# does), so the verdicts do not depend on this host's interfaces. Needs root.
set -euo pipefail
cd "$(dirname "$0")/corpus"
command -v keepalived >/dev/null || { echo "keepalived not installed" >&2; exit 1; }
ns="rvskac-oracle-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip -n "$ns" link set lo up
ip -n "$ns" link add eth0 type veth peer name kac1
for dev in eth0 kac1; do
    ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null
    ip -n "$ns" link set "$dev" up
done
for conf in *.conf; do
    name="${conf%.conf}"
    set +e
    err="$(ip netns exec "$ns" keepalived -t -i lb1 -f "$conf" 2>&1 >/dev/null)"
    rc=$?
    set -e
    { echo "exit $rc"; [ -n "$err" ] && printf '%s\n' "$err"; } > "$name.expected"
done
echo "regenerated $(ls *.expected | wc -l) expected files with $(keepalived -v 2>&1 | head -1)"

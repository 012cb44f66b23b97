#!/usr/bin/env bash
# Regenerates corpus/*.expected from the real keepalived (`keepalived -t`).
# Each expected file holds "exit N" on its first line, then keepalived's stderr.
# The config-id is fixed to lb1 so `@lb1` lines are deterministic.
set -euo pipefail
cd "$(dirname "$0")/corpus"
command -v keepalived >/dev/null || { echo "keepalived not installed" >&2; exit 1; }
for conf in *.conf; do
    name="${conf%.conf}"
    set +e
    err="$(keepalived -t -i lb1 -f "$conf" 2>&1 >/dev/null)"
    rc=$?
    set -e
    { echo "exit $rc"; [ -n "$err" ] && printf '%s\n' "$err"; } > "$name.expected"
done
echo "regenerated $(ls *.expected | wc -l) expected files with $(keepalived -v 2>&1 | head -1)"

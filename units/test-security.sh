#!/bin/sh
# SPDX-License-Identifier: MIT
# Every service unit must be rated 1.5 or lower by systemd-analyze's
# exposure score (Debian's postfix@.service and opendkim.service: 9.6).
# Usage: test-security.sh SYSTEMD-ANALYZE UNIT...
set -eu
analyze=$1
shift
rc=0
for unit in "$@"; do
        out=$("$analyze" security --offline=true --no-pager "$unit" 2>&1) || true
        score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
        if [ -z "$score" ]; then
                echo "$unit: no score: $out"
                rc=1
        elif ! "$analyze" security --offline=true --threshold=15 "$unit" >/dev/null 2>&1; then
                echo "$unit: $score, above 1.5"
                rc=1
        else
                echo "$unit: $score"
        fi
done
exit $rc

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# DESIGN.md principle 1: the library has no writable global or static data.
# Fails when nm shows a symbol in a writable data section of any archive given
# (default build/libkite.a): B/b (.bss), D/d (.data), C (common), G/g and S/s
# (small data/bss on targets that have them). Constant tables (R/r) are fine.
#
#   scripts/check-no-globals.sh [archive...]      NM=arm-none-eabi-nm to cross-check
set -eu

NM=${NM:-nm}
OBJDUMP=${OBJDUMP:-objdump}
[ $# -gt 0 ] || set -- "$(dirname "$0")/../build/libkite.a"

status=0
for lib in "$@"; do
    if [ ! -f "$lib" ]; then
        echo "check-no-globals: $lib not found (build first)" >&2
        status=1
        continue
    fi
    # nm -A prints "archive:member: value type name"; undefined symbols have no value.
    # Constant tables of pointers (a const ops table) land in .data.rel.ro in
    # position-independent code: read-only once relocated, so they are allowed.
    relro=$("$OBJDUMP" -t "$lib" 2>/dev/null | awk '$0 ~ /[.]data[.]rel[.]ro/ { print $NF }' |
        sort -u)
    bad=$("$NM" -A "$lib" 2>/dev/null | awk -v relro="$relro" '
        BEGIN { n = split(relro, names, "\n"); for (i = 1; i <= n; i++) ok[names[i]] = 1 }
        NF >= 3 && $(NF-1) ~ /^[BbDdCGgSs]$/ && !($(NF-1) ~ /^[Dd]$/ && ($NF in ok)) { print }')
    if [ -n "$bad" ]; then
        echo "check-no-globals: FAIL: writable data in $lib:"
        echo "$bad" | sed 's/^/    /'
        status=1
    else
        echo "check-no-globals: OK: $lib has only constant data"
    fi
done
exit $status

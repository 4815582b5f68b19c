#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The socket suite's Linux build under kite-run with a ThreadSanitizer build
# of libkite-preload.so (TSan's runtime preloaded first): the preload, the
# stack thread, the TAP driver thread and the program's threads race-free.
#
#   tests/kite-run/tsan_suite.sh TSAN_BUILD PLAIN_BUILD
#
# TSAN_BUILD has lib/libkite-preload.so built with -DKITE_TSAN=ON (and
# bin/kite-host, for lib.sh); PLAIN_BUILD has bin/sock_suite_linux, an
# uninstrumented program, as any program run under kite-run. The one race
# TSan reports in the suite itself (a descriptor closed, by the suite's
# S_close, while another thread waits on it, which close_while_blocked_* do
# on purpose; TSan sees it at the C library's interface) is suppressed by
# name; any other report fails. Root only (a network namespace); exit 77
# when not root, as the interop tests.
set -u
TSAN_BUILD=$(cd "${1:?TSAN_BUILD}" && pwd)
PLAIN_BUILD=$(cd "${2:?PLAIN_BUILD}" && pwd)
# shellcheck source=../interop/lib.sh disable=SC1091
. "$(dirname "$0")/../interop/lib.sh" "$TSAN_BUILD/bin/kite-host"
KITE_TEST=kite_run_tsan
LIBTSAN=$(gcc -print-file-name=libtsan.so)
PRELOAD="$TSAN_BUILD/lib/libkite-preload.so"
SUITE="$PLAIN_BUILD/bin/sock_suite_linux"
[ -f "$LIBTSAN" ] || fail "no libtsan.so ($LIBTSAN)"
[ -f "$PRELOAD" ] || fail "$PRELOAD not built"
[ -x "$SUITE" ] || fail "$SUITE not built"
kite_setup
printf 'race:S_close\n' >"$KITE_DIR/tsan.supp"
log "the socket suite under kite-run, TSan build of the preload"
ns env KITE_TAP="$KITE_IF" KITE_IPV4="$KITE_IP/24" LD_PRELOAD="$LIBTSAN $PRELOAD" \
    TSAN_OPTIONS="halt_on_error=1:suppressions=$KITE_DIR/tsan.supp" \
    timeout 400 "$SUITE" >"$KITE_DIR/suite.log" 2>&1
rc=$?
passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$KITE_DIR/suite.log")
total=$(grep -c '^\[ RUN' "$KITE_DIR/suite.log")
if [ "$rc" -ne 0 ] || [ "${passed:-0}" -ne "$total" ] || grep -q 'ThreadSanitizer' "$KITE_DIR/suite.log"; then
    grep -B2 -A30 'ThreadSanitizer\|FAILED' "$KITE_DIR/suite.log" | head -80
    fail "suite under kite-run with TSan: exit $rc, $passed of $total passed"
fi
log "$passed of $total cases passed, no race reported"

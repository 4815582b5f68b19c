#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The socket suite's Linux build under kite-run with a sanitizer build of
# libkite-preload.so, the sanitizer's runtime preloaded first:
#   tsan  the preload, the stack thread, the TAP driver thread and the
#         program's threads race-free (ThreadSanitizer);
#   asan  no invalid access, undefined behaviour or leak (ASan + UBSan).
#
#   tests/kite-run/sanitizer_suite.sh tsan|asan SAN_BUILD PLAIN_BUILD
#
# SAN_BUILD has lib/libkite-preload.so built with -DKITE_TSAN=ON or
# -DKITE_SANITIZE=ON (and bin/kite-host, for lib.sh); PLAIN_BUILD has
# bin/sock_suite_linux, an uninstrumented program as any run under
# kite-run. The one race TSan reports in the suite itself (a descriptor
# closed, by the suite's S_close, while another thread waits on it, which
# close_while_blocked_* do on purpose; TSan sees it at the C library's
# interface) is suppressed by name; any other report fails. Root only (a
# network namespace); exit 77 when not root, as the interop tests.
set -u
KIND=${1:?tsan or asan}
SAN_BUILD=$(cd "${2:?SAN_BUILD}" && pwd)
PLAIN_BUILD=$(cd "${3:?PLAIN_BUILD}" && pwd)
# shellcheck source=../interop/lib.sh disable=SC1091
. "$(dirname "$0")/../interop/lib.sh" "$SAN_BUILD/bin/kite-host"
KITE_TEST=kite_run_$KIND
PRELOAD="$SAN_BUILD/lib/libkite-preload.so"
SUITE="$PLAIN_BUILD/bin/sock_suite_linux"
[ -f "$PRELOAD" ] || fail "$PRELOAD not built"
[ -x "$SUITE" ] || fail "$SUITE not built"
kite_setup
case "$KIND" in
tsan)
    RUNTIME=$(gcc -print-file-name=libtsan.so)
    printf 'race:S_close\n' >"$KITE_DIR/tsan.supp"
    OPTS=(TSAN_OPTIONS="halt_on_error=1:suppressions=$KITE_DIR/tsan.supp")
    ;;
asan)
    RUNTIME=$(gcc -print-file-name=libasan.so)
    OPTS=(ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1)
    ;;
*) fail "unknown sanitizer $KIND" ;;
esac
[ -f "$RUNTIME" ] || fail "no sanitizer runtime ($RUNTIME)"
log "the socket suite under kite-run, $KIND build of the preload"
ns env KITE_TAP="$KITE_IF" KITE_IPV4="$KITE_IP/24" LD_PRELOAD="$RUNTIME $PRELOAD" "${OPTS[@]}" \
    timeout 400 "$SUITE" >"$KITE_DIR/suite.log" 2>&1
rc=$?
passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$KITE_DIR/suite.log")
total=$(grep -c '^\[ RUN' "$KITE_DIR/suite.log")
if [ "$rc" -ne 0 ] || [ "${passed:-0}" -ne "$total" ] ||
    grep -qE 'Sanitizer|runtime error' "$KITE_DIR/suite.log"; then
    grep -B2 -A30 -E 'Sanitizer|runtime error|FAILED' "$KITE_DIR/suite.log" | head -80
    fail "suite under kite-run ($KIND): exit $rc, ${passed:-0} of $total passed"
fi
log "$passed of $total cases passed, nothing reported"

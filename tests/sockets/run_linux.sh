#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Runs the socket suite against Linux's own sockets in a network namespace of
# its own (only lo, up), so the oracle never touches the host's network.
#   run_linux.sh path/to/sock_suite_linux
# Exit 77 (skipped) when not root; as root, failing to make the namespace fails.
set -e
if [ "$(id -u)" -ne 0 ]; then
    echo "run_linux.sh: needs root for unshare -n; skipped"
    exit 77
fi
if [ "${KITE_SOCK_NETNS:-}" != 1 ]; then
    KITE_SOCK_NETNS=1 exec unshare -n -- "$0" "$@"
fi
ip link set lo up
exec "$@"

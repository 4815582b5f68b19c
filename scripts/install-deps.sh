#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Install the Debian packages the test rings need (docs/testing.md).
# Idempotent and quiet: apt-get runs only when a package is missing.
set -eu

PACKAGES="cmake gcc clang clang-format libcmocka-dev libclang-rt-14-dev tshark arping socat
netcat-openbsd iputils-ping iproute2 curl iperf python3 nftables
gcc-arm-none-eabi libnewlib-arm-none-eabi binutils liblwip-dev wget iperf nginx-light"

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps: not a Debian system; install by hand: $PACKAGES" >&2
    exit 1
fi

missing=""
for pkg in $PACKAGES; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "installed" ]; then
        missing="$missing $pkg"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all test dependencies are installed"
    exit 0
fi

echo "install-deps: installing$missing"
as_root=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        as_root="sudo"
    else
        echo "install-deps: run as root (or install sudo) to install:$missing" >&2
        exit 1
    fi
fi

# tshark asks whether non-root users may capture; noninteractive takes the default (no).
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# Packages with a daemon (nginx) must not start it: the tests run nginx
# themselves, in a network namespace. Where the machine has no policy-rc.d,
# one that refuses every start is in place during the installation only.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $as_root tee "$policy" >/dev/null
    $as_root chmod 755 "$policy"
    own_policy=1
fi
rc=0
# shellcheck disable=SC2086 # the package list is meant to split
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Use-Pty=0 $missing >/dev/null || rc=$?
[ -z "$own_policy" ] || $as_root rm -f "$policy"
[ "$rc" -eq 0 ] || exit "$rc"
echo "install-deps: done"

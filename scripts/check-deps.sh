#!/usr/bin/env bash
# Checks what Ferry needs to build: a Swift 6 toolchain and zlib's headers. Installs
# zlib1g-dev with apt when running as root; otherwise says exactly what to install.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
    echo "ferry: 'swift' is not on PATH: install a Swift 6 toolchain from swift.org" >&2
    exit 1
fi

has_zlib() { echo '#include <zlib.h>' | ${CC:-cc} -E - >/dev/null 2>&1 || [ -f /usr/include/zlib.h ]; }

if ! has_zlib; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "ferry: zlib.h not found; installing zlib1g-dev with apt-get" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zlib1g-dev >/dev/null
    else
        echo "ferry: zlib.h not found. Install the zlib headers, then run make again:" >&2
        echo "  Debian/Ubuntu: sudo apt-get install zlib1g-dev" >&2
        echo "  Fedora/RHEL:   sudo dnf install zlib-devel" >&2
        exit 1
    fi
    has_zlib || { echo "ferry: zlib.h still not found after installing zlib1g-dev" >&2; exit 1; }
fi

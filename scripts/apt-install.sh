#!/usr/bin/env bash
# Install Debian packages with apt-get, as root or through sudo:
#   scripts/apt-install.sh PACKAGE...
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 PACKAGE..." >&2
    exit 2
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "apt-install: need root (or sudo) to install: $*" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-install: apt-get not found; install manually: $*" >&2
    exit 1
fi

echo "apt-install: installing $*" >&2
apt_get=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120)
"${as_root[@]}" "${apt_get[@]}" update -qq
"${as_root[@]}" "${apt_get[@]}" install -y -qq --no-install-recommends "$@"

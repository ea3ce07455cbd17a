#!/usr/bin/env bash
# Install the system tools used by the real-registry tests and the dev registry:
#   docker-registry (CNCF distribution 2.8), skopeo, umoci, htpasswd (apache2-utils), zstd.
# More can be asked for as arguments of the form binary:debian-package (the benchmarks add
# curl:curl). Idempotent: does nothing (and prints nothing) when every binary is present.
set -euo pipefail

# binary:debian-package
REQUIRED=(
    "docker-registry:docker-registry"
    "skopeo:skopeo"
    "umoci:umoci"
    "htpasswd:apache2-utils"
    "zstd:zstd"
    "$@"
)

missing=()
for entry in "${REQUIRED[@]}"; do
    binary="${entry%%:*}"
    package="${entry#*:}"
    if ! command -v "$binary" >/dev/null 2>&1 && [ ! -x "/usr/bin/$binary" ]; then
        missing+=("$package")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-system-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: apt-get not found; install manually: ${missing[*]}" >&2
    exit 1
fi

echo "install-system-deps: installing ${missing[*]}" >&2
apt_get=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120)
"${as_root[@]}" "${apt_get[@]}" update -qq
"${as_root[@]}" "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}"

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

bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" "${missing[@]}"

#!/usr/bin/env bash
# Install uv into .tools/ in the project root, so that nothing outside the project changes:
#
#   scripts/bootstrap-uv.sh          installs uv==$UV_VERSION (or the latest) when .tools/bin/uv is missing
#
# uv comes from PyPI through pip: into a virtual environment in .tools/ when python3 can
# make one, else with `pip install --target .tools` (which puts the binary at the same place).
# When python3 has neither venv nor pip (a bare Debian python3), python3-venv is installed
# with apt-get. pip's cache is not used, so nothing is written under $HOME.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
UV="$TOOLS/bin/uv"
SPEC="uv${UV_VERSION:+==$UV_VERSION}"
PIP_FLAGS=(--quiet --no-cache-dir --disable-pip-version-check --no-input --root-user-action=ignore)

log() { echo "bootstrap-uv: $*" >&2; }

into_venv() {
    python3 -m venv "$TOOLS" >/dev/null 2>&1 && "$TOOLS/bin/python" -m pip --version >/dev/null 2>&1
}

if [ -x "$UV" ]; then
    exit 0
fi
command -v python3 >/dev/null 2>&1 || {
    log "python3 is required (3.11 or newer)"
    exit 1
}

log "installing $SPEC into ${TOOLS#"$ROOT"/}/"
rm -rf "$TOOLS"
if into_venv; then
    "$TOOLS/bin/python" -m pip install "${PIP_FLAGS[@]}" "$SPEC"
elif python3 -m pip --version >/dev/null 2>&1; then
    rm -rf "$TOOLS"
    # --target skips the externally-managed check: it writes only into .tools/.
    python3 -m pip install "${PIP_FLAGS[@]}" --target "$TOOLS" "$SPEC"
else
    rm -rf "$TOOLS"
    bash "$ROOT/scripts/apt-install.sh" python3-venv
    into_venv || {
        log "python3 -m venv still fails after installing python3-venv"
        exit 1
    }
    "$TOOLS/bin/python" -m pip install "${PIP_FLAGS[@]}" "$SPEC"
fi
"$UV" --version >&2

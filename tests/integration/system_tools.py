"""Find the system tools the real-registry tests and the demo run, installing them once if missing.

The tools (``docker-registry``, ``skopeo``, ``umoci``, ``htpasswd``, ``zstd``) are Debian
packages installed by ``scripts/install-system-deps.sh``. This module uses only the standard
library, so the demo can import it with the runtime dependencies alone.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

INSTALL_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-system-deps.sh"

_install_lock = threading.Lock()
_install_done = False


class MissingToolError(RuntimeError):
    """A system tool is missing and could not be installed."""


def ensure_system_deps(*binaries: str) -> None:
    """Run ``scripts/install-system-deps.sh`` once if any of ``binaries`` is missing."""
    global _install_done
    if all(find_binary(name) is not None for name in binaries):
        return
    with _install_lock:
        if _install_done:
            return
        _install_done = True
        subprocess.run(["bash", str(INSTALL_SCRIPT)], check=True, stdin=subprocess.DEVNULL)


def find_binary(name: str) -> str | None:
    """Locate ``name`` on PATH, falling back to ``/usr/bin`` and ``/usr/sbin``."""
    found = shutil.which(name)
    if found is not None:
        return found
    for directory in ("/usr/bin", "/usr/sbin"):
        candidate = Path(directory) / name
        if candidate.is_file():
            return str(candidate)
    return None


def require_binary(name: str) -> str:
    """Return the path of ``name``, installing the system dependencies if needed."""
    ensure_system_deps(name)
    found = find_binary(name)
    if found is None:
        raise MissingToolError(f"{name!r} is not installed and could not be installed")
    return found

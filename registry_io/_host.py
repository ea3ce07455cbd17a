"""The platform of this machine, in image terms (`linux/amd64`, `linux/arm/v7`)."""

from __future__ import annotations

import functools
import platform
import sys

from registry_proto import Platform

__all__ = ["host_platform"]

# platform.machine() spellings -> (GOARCH, variant), as image configs name architectures.
_ARCHITECTURES: dict[str, tuple[str, str | None]] = {
    "x86_64": ("amd64", None),
    "amd64": ("amd64", None),
    "aarch64": ("arm64", None),
    "arm64": ("arm64", None),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", None),
    "i686": ("386", None),
    "ppc64le": ("ppc64le", None),
    "s390x": ("s390x", None),
    "riscv64": ("riscv64", None),
}


@functools.cache
def host_platform() -> Platform:
    """This machine's platform. Images run in Linux even on macOS hosts, so the OS is Linux
    except on Windows."""
    machine = platform.machine().lower()
    architecture, variant = _ARCHITECTURES.get(machine, (machine, None))
    os_name = "windows" if sys.platform.startswith("win") else "linux"
    return Platform(os_name, architecture, variant)

"""The peer libraries, each installed from PyPI into its own virtual environment.

registry-api-v2-client 1.2.0 has this project's import name (``registry_api_v2_client``) and
python-dxf pins its own ``requests`` stack, so neither can share the project's environment. Each
gets a venv under ``.bench/venvs/`` (git-ignored), made with uv from the interpreter running the
benchmark and reused while its pinned requirement is unchanged.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from _common import PROJECT_ROOT, log, run_tool

__all__ = ["DXF", "RAV2", "Peer", "peer_python"]

VENVS_DIR = PROJECT_ROOT / ".bench" / "venvs"
STAMP = "bench-requirement.txt"


@dataclass(frozen=True)
class Peer:
    """A peer library: its venv's directory name, its pinned requirement, its table name."""

    venv: str
    requirement: str
    name: str


RAV2 = Peer(
    "registry-api-v2-client", "registry-api-v2-client==1.2.0", "registry-api-v2-client 1.2.0"
)
DXF = Peer("python-dxf", "python-dxf==12.1.1", "python-dxf 12.1.1")


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else shlex.split("python3 -m uv")


def peer_python(peer: Peer) -> Path:
    """The interpreter of ``peer``'s venv, created and installed first if needed."""
    venv = VENVS_DIR / peer.venv
    python = venv / "bin" / "python"
    stamp = venv / STAMP
    if python.exists() and stamp.exists() and stamp.read_text() == peer.requirement:
        return python
    log(f"installing {peer.requirement} into {venv.relative_to(PROJECT_ROOT)} ...")
    shutil.rmtree(venv, ignore_errors=True)
    uv = _uv()
    run_tool([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    run_tool([*uv, "pip", "install", "--quiet", "--python", str(python), peer.requirement])
    stamp.write_text(peer.requirement)
    return python

"""The contenders' Python environments: this project as a user installs it, and each peer.

Every Python contender runs in a virtual environment of its own under ``.bench/venvs/``
(git-ignored), made with uv from the interpreter running the benchmark:

- this project, installed from this checkout as a user would install it (no development
  tools, and no trio unless asked for): httpcore imports trio at its first client whenever trio
  is installed, which costs a fifth of a second on a small machine, so the trio row has an
  environment of its own. These two are reinstalled at every benchmark run, from the source as
  it is then.
- registry-api-v2-client 1.2.0, which has this project's import name
  (``registry_api_v2_client``), and python-dxf, with its own ``requests`` stack; both are
  reused while their pinned requirement is unchanged.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from _common import PROJECT_ROOT, log, run_tool

__all__ = ["DXF", "PROJECT", "PROJECT_TRIO", "RAV2", "Venv", "venv_python"]

VENVS_DIR = PROJECT_ROOT / ".bench" / "venvs"
STAMP = "bench-requirement.txt"


@dataclass(frozen=True)
class Venv:
    """An environment: its directory name, what is installed in it, its name in the tables.

    ``local`` ones are built from this checkout, so they are reinstalled once per run.
    """

    directory: str
    requirement: str
    name: str
    local: bool = False


PROJECT = Venv("project", str(PROJECT_ROOT), "registry-api-v2-client (this checkout)", local=True)
PROJECT_TRIO = Venv("project-trio", f"{PROJECT_ROOT}[trio]", "with trio", local=True)
RAV2 = Venv(
    "registry-api-v2-client", "registry-api-v2-client==1.2.0", "registry-api-v2-client 1.2.0"
)
DXF = Venv("python-dxf", "python-dxf==12.1.1", "python-dxf 12.1.1")

_ready: set[Venv] = set()


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else shlex.split("python3 -m uv")


def venv_python(venv: Venv) -> Path:
    """The interpreter of ``venv``, created and installed first if needed."""
    directory = VENVS_DIR / venv.directory
    python = directory / "bin" / "python"
    if venv in _ready:
        return python
    stamp = directory / STAMP
    current = python.exists() and stamp.exists() and stamp.read_text() == venv.requirement
    uv = _uv()
    if not current:
        log(f"creating {directory.relative_to(PROJECT_ROOT)} ...")
        shutil.rmtree(directory, ignore_errors=True)
        run_tool([*uv, "venv", "--quiet", "--python", sys.executable, str(directory)])
    if not current or venv.local:
        log(f"installing {venv.requirement} into {directory.relative_to(PROJECT_ROOT)} ...")
        reinstall = ["--reinstall-package", "registry-api-v2-client"] if venv.local else []
        install = [*uv, "pip", "install", "--quiet", "--python", str(python), *reinstall]
        run_tool([*install, venv.requirement])
        stamp.write_text(venv.requirement)
    _ready.add(venv)
    return python

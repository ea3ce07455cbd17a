"""What the benchmarks share: building the test image, throwaway registries, timed processes.

Importing this module puts the project root on ``sys.path`` (the scripts run as plain files,
with ``benchmarks/`` as ``sys.path[0]``), so ``tests.integration.registry_server`` imports after it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:  # for the test harness, when run as a plain script
    sys.path.insert(0, str(PROJECT_ROOT))

from tests.integration.registry_server import RegistryServer  # noqa: E402
from tests.integration.system_tools import require_binary  # noqa: E402

__all__ = [
    "BASELINE",
    "BENCH_DIR",
    "MIB",
    "PROJECT_ROOT",
    "RESULTS_DIR",
    "Timing",
    "add_common_arguments",
    "build_archive",
    "check_common_arguments",
    "contender_env",
    "default_storage_dir",
    "fresh_registry",
    "machine_info",
    "ratio",
    "require_binary",
    "rotated_rounds",
    "run_timed",
    "run_tool",
    "write_json",
]

BENCH_DIR = PROJECT_ROOT / "benchmarks"
RESULTS_DIR = BENCH_DIR / "results"
TIMED_EXEC = BENCH_DIR / "_timed_exec.py"
MIB = 1024 * 1024
FILE_CHUNK = 16 * MIB
TOOL_TIMEOUT = 900.0
BASELINE = "skopeo"

T = TypeVar("T")


# -- tools -----------------------------------------------------------------------------------


def run_tool(argv: Sequence[str]) -> str:
    """Run a tool to completion; return its stdout, or raise with its output on failure."""
    done = subprocess.run(
        list(argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed with status {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done.stdout


# -- building the archive --------------------------------------------------------------------


def _write_random_files(directory: Path, size: int) -> None:
    """Fill ``directory`` with ``size`` bytes of incompressible data, in files of 16 MiB."""
    directory.mkdir(parents=True, exist_ok=True)
    number = 0
    while size > 0:
        length = min(FILE_CHUNK, size)
        (directory / f"random-{number:04d}.bin").write_bytes(os.urandom(length))
        size -= length
        number += 1


def build_archive(dest: Path, *, size_mib: int, layers: int, reference: str) -> Path:
    """Build an image of ``layers`` layers of random data with umoci, save it with skopeo."""
    umoci = require_binary("umoci")
    skopeo = require_binary("skopeo")
    per_layer = size_mib * MIB // layers
    with tempfile.TemporaryDirectory(prefix="bench-image-") as tmp:
        layout, bundle = Path(tmp) / "layout", Path(tmp) / "bundle"
        image = f"{layout}:build"
        run_tool([umoci, "init", "--layout", str(layout)])
        run_tool([umoci, "new", "--image", image])
        run_tool([umoci, "unpack", "--rootless", "--image", image, str(bundle)])
        for index in range(layers):
            _write_random_files(bundle / "rootfs" / "data" / f"layer-{index}", per_layer)
            run_tool(
                [
                    umoci,
                    "repack",
                    "--refresh-bundle",
                    "--history.created_by",
                    f"bench layer {index}",
                    "--image",
                    image,
                    str(bundle),
                ]
            )
        dest.unlink(missing_ok=True)
        run_tool(
            [
                skopeo,
                "--insecure-policy",
                "copy",
                f"oci:{image}",
                f"docker-archive:{dest}:{reference}",
            ]
        )
    return dest


# -- registries and processes ----------------------------------------------------------------


def default_storage_dir() -> Path | None:
    """``/dev/shm`` when it is a writable directory (memory-backed), else None (system temp)."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


@contextlib.contextmanager
def fresh_registry(storage_dir: Path | None) -> Iterator[RegistryServer]:
    """A new, empty registry whose work directory (so its storage) is in ``storage_dir``."""
    saved, tempfile.tempdir = tempfile.tempdir, None if storage_dir is None else str(storage_dir)
    try:
        server = RegistryServer().start()
    finally:
        tempfile.tempdir = saved
    try:
        yield server
    finally:
        server.stop()


def contender_env(pycache: Path) -> dict[str, str]:
    """The environment for the contenders: bytecode cached in ``pycache``, as after an install.

    Without it, a Python contender run with ``PYTHONDONTWRITEBYTECODE`` set (or from a venv
    installed without compiling) would compile its dependencies at every start.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


@dataclass(frozen=True)
class Timing:
    """One process's wall time (spawn to exit), its own CPU time and its peak RSS."""

    seconds: float
    cpu_seconds: float
    peak_rss_mib: float


def run_timed(argv: Sequence[str], env: dict[str, str], name: str) -> Timing:
    """Run ``argv`` as a child process, timed from spawn to exit; raise if it fails.

    It is spawned by ``_timed_exec.py`` so that its peak RSS is its own, not this process's.
    """
    with (
        tempfile.TemporaryFile() as output,
        tempfile.NamedTemporaryFile(mode="r", prefix="bench-timing-") as result,
    ):
        os.sync()  # no writeback left over from the previous run competes with this one
        launcher = [sys.executable, "-I", "-S", str(TIMED_EXEC), result.name]
        returncode = subprocess.call(
            [*launcher, *argv],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env=env,
        )
        if returncode != 0:
            output.seek(0)
            log = output.read().decode(errors="replace")
            raise RuntimeError(f"{name} failed ({returncode}):\n{log}")
        seconds, cpu_seconds, peak_rss_kib = result.read().split()
    return Timing(
        seconds=float(seconds),
        cpu_seconds=float(cpu_seconds),
        peak_rss_mib=int(peak_rss_kib) / 1024,  # KiB on Linux
    )


def rotated_rounds(contenders: Sequence[T], repeat: int) -> Iterator[tuple[int, T]]:
    """``(round, contender)`` for ``repeat`` rounds, the order rotated by one each round.

    So no contender always runs first or last.
    """
    for round_number in range(repeat):
        shift = round_number % len(contenders)
        for contender in [*contenders[shift:], *contenders[:shift]]:
            yield round_number, contender


# -- options and reporting -------------------------------------------------------------------


def add_common_arguments(parser: argparse.ArgumentParser, *, kind: str, keys: str) -> None:
    """The options every benchmark takes; ``kind`` names the results file, ``keys`` --only."""
    parser.add_argument("--size-mib", type=int, default=256, help="image size (default 256)")
    parser.add_argument("--layers", type=int, default=4, help="number of layers (default 4)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender (default 3)")
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help=f"where to write the results (default: benchmarks/results/{kind}-<timestamp>.json)",
    )
    parser.add_argument(
        "--storage-dir",
        type=Path,
        default=default_storage_dir(),
        help="where the registries store blobs (default: /dev/shm, so the disk is not measured)",
    )
    parser.add_argument(
        "--only",
        default=None,
        help=f"comma-separated contenders to run: {keys} (default: all)",
    )


def check_common_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse sizes, layer counts and round counts below one."""
    if args.size_mib < 1 or args.layers < 1 or args.repeat < 1:
        parser.error("--size-mib, --layers and --repeat must be at least 1")


def ratio(value: float | None) -> str:
    """A ratio for the table, ``-`` when there is no baseline."""
    return "-" if value is None else f"{value:.2f}"


def _tool_version(argv: Sequence[str]) -> str:
    try:
        return run_tool(argv).strip()
    except (OSError, RuntimeError):
        return "unknown"


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "skopeo": _tool_version([require_binary("skopeo"), "--version"]),
        "registry": _tool_version([require_binary("docker-registry"), "--version"]),
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` as indented JSON, creating the directory if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")

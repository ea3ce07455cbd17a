"""What every scenario shares: tools, throwaway registries, timed processes, interleaved rounds.

Importing this module puts the project root (for ``tests.integration.registry_server``) and
``benchmarks/contenders`` (for ``docker_save``) on ``sys.path``: the benchmark runs as a plain
script, with only ``benchmarks/`` there.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = PROJECT_ROOT / "benchmarks"
CONTENDERS_DIR = BENCH_DIR / "contenders"
for _path in (PROJECT_ROOT, CONTENDERS_DIR):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from tests.integration.registry_server import RegistryServer  # noqa: E402
from tests.integration.system_tools import require_binary  # noqa: E402

__all__ = [
    "BENCH_DIR",
    "CONTENDERS_DIR",
    "MIB",
    "PROJECT_ROOT",
    "Contender",
    "Role",
    "Sample",
    "Suite",
    "Timing",
    "contender_env",
    "copy_tree",
    "fresh_registry",
    "log",
    "machine_info",
    "require_binary",
    "run_rounds",
    "run_timed",
    "run_tool",
    "write_json",
]

TIMED_EXEC = BENCH_DIR / "_timed_exec.py"
MIB = 1024 * 1024
TOOL_TIMEOUT = 900.0

T = TypeVar("T")
Role = Literal["ours", "peer", "limit", "floor"]


def log(message: str) -> None:
    """Progress, on stderr (stdout gets the tables)."""
    print(message, file=sys.stderr, flush=True)


# -- tools -----------------------------------------------------------------------------------


def run_tool(argv: Sequence[str], *, env: dict[str, str] | None = None) -> str:
    """Run a tool to completion; return its stdout, or raise with its output on failure."""
    done = subprocess.run(
        list(argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed with status {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def copy_tree(source: Path, dest: Path) -> None:
    """Copy a directory tree, hard-linking the files when both are on one filesystem.

    A registry only reads the files of a seeded storage (pull, catalog), so links are as good
    as copies and much faster for 5,000 repositories.
    """

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, dest, copy_function=link_or_copy, dirs_exist_ok=True)


@contextlib.contextmanager
def fresh_registry(storage_dir: Path | None, seed: Path | None = None) -> Iterator[RegistryServer]:
    """A new registry whose storage is in ``storage_dir``: empty, or a copy of ``seed``."""
    saved, tempfile.tempdir = tempfile.tempdir, None if storage_dir is None else str(storage_dir)
    try:
        server = RegistryServer().start()
    finally:
        tempfile.tempdir = saved
    try:
        if seed is not None:
            copy_tree(seed, server.storage_dir)
        yield server
    finally:
        server.stop()


# -- timed processes -------------------------------------------------------------------------


def contender_env(pycache: Path) -> dict[str, str]:
    """The environment for the contenders: bytecode cached in ``pycache``, as after an install.

    Without it, a Python contender run with ``PYTHONDONTWRITEBYTECODE`` set (or from a venv
    installed without compiling) would compile its dependencies at every start. Proxy settings
    and ``PYTHONPATH`` are dropped: every request goes straight to loopback, and each
    interpreter imports only what its own environment holds.
    """
    dropped = {"PYTHONDONTWRITEBYTECODE", "PYTHONPATH"}
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.lower().endswith("_proxy")
    }
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


@dataclass(frozen=True)
class Timing:
    """One process's wall time (spawn to exit), its own CPU time, peak RSS and stdout."""

    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    stdout: bytes


def run_timed(argv: Sequence[str], env: dict[str, str], name: str) -> Timing:
    """Run ``argv`` as a child process, timed from spawn to exit; raise if it fails.

    It is spawned by ``_timed_exec.py`` so that its peak RSS is its own, not this process's,
    in the system temporary directory: ``python -c`` puts its working directory on
    ``sys.path``, and in the project root that would import this checkout's packages instead
    of each environment's own (registry-api-v2-client 1.2.0 has this project's import name).
    """
    with (
        tempfile.TemporaryFile() as stdout,
        tempfile.TemporaryFile() as stderr,
        tempfile.NamedTemporaryFile(mode="r", prefix="bench-timing-") as result,
    ):
        os.sync()  # no writeback left over from the previous run competes with this one
        launcher = [sys.executable, "-I", "-S", str(TIMED_EXEC), result.name]
        returncode = subprocess.call(
            [*launcher, *argv],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            cwd=tempfile.gettempdir(),
            env=env,
        )
        stdout.seek(0)
        stderr.seek(0)
        if returncode != 0:
            output = (stdout.read() + stderr.read()).decode(errors="replace")
            raise RuntimeError(f"{name} failed ({returncode}):\n{output[-4000:]}")
        seconds, cpu_seconds, peak_rss_kib = result.read().split()
        output_bytes = stdout.read()
    return Timing(
        seconds=float(seconds),
        cpu_seconds=float(cpu_seconds),
        peak_rss_mib=int(peak_rss_kib) / 1024,  # KiB on Linux
        stdout=output_bytes,
    )


# -- contenders and rounds -------------------------------------------------------------------


@dataclass(frozen=True)
class Contender(Generic[T]):
    """One tool in a scenario: a key, a name for the tables, its role, its command line."""

    key: str
    name: str
    role: Role
    command: Callable[[T], list[str]]


@dataclass(frozen=True)
class Sample:
    """One measured run: from ``Timing``, plus what the scenario's check saw (``note``)."""

    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    note: str = ""


def run_rounds(
    contenders: Sequence[Contender[T]],
    *,
    repeat: int,
    warm_up: bool,
    measure: Callable[[Contender[T], str], Sample],
) -> dict[str, list[Sample]]:
    """Every contender ``repeat`` times, interleaved: round by round, the order rotated by one
    each round so no contender always runs first or last. An untimed warm-up round first when
    ``warm_up`` (bytecode compiled, binaries and inputs in the page cache)."""
    if warm_up:
        for contender in contenders:
            measure(contender, "warm-up")
    samples: dict[str, list[Sample]] = {c.name: [] for c in contenders}
    for round_number in range(repeat):
        shift = round_number % len(contenders)
        for contender in [*contenders[shift:], *contenders[:shift]]:
            sample = measure(contender, f"run-{round_number}")
            samples[contender.name].append(sample)
            log(
                f"  round {round_number + 1}/{repeat}  {contender.name:<40} "
                f"{sample.seconds:7.2f} s  {sample.peak_rss_mib:6.0f} MiB"
            )
    return samples


# -- reporting -------------------------------------------------------------------------------


def _tool_version(argv: Sequence[str]) -> str:
    try:
        return run_tool(argv).strip().splitlines()[0]
    except (OSError, RuntimeError, IndexError):
        return "unknown"


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory / 1024**3, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "skopeo": _tool_version([require_binary("skopeo"), "--version"]),
        # "/usr/bin/docker-registry github.com/docker/distribution 2.8.2+ds1": its last word
        "registry": "distribution "
        + _tool_version([require_binary("docker-registry"), "--version"]).split()[-1],
        # "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 ...": its first two words
        "curl": " ".join(_tool_version([require_binary("curl"), "--version"]).split()[:2]),
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` as indented JSON, creating the directory if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


@dataclass(frozen=True)
class Suite:
    """What every scenario of one benchmark run shares."""

    work: Path  # archives and other inputs (the system temporary directory)
    storage_dir: Path | None  # where registries keep blobs (/dev/shm when there is one)
    seeds: Path  # seeded registry storages, next to storage_dir so copies can be hard links
    dest_dir: Path  # where pulls write their archives (local disk)
    env: dict[str, str]  # the contenders' environment (see contender_env)
    repeat: int
    quick: bool

"""Side-by-side benchmark: push one docker-archive tar to a real local registry.

Contenders: ``registry_async`` under asyncio and under trio, ``registry_sync``, ``skopeo copy``
and a raw-httpx lower bound (``benchmarks/raw_httpx_push.py``). Every run is a fresh
subprocess pushing to a fresh ``docker-registry`` (so every blob is uploaded), timed from
spawn to exit; its peak RSS and CPU time come from ``os.wait4``. Results are reported as
ratios to skopeo, never checked against fixed times.

Usage: ``uv run python benchmarks/bench_push.py [--size-mib N] [--layers N] [--repeat N]
[--json PATH] [--storage-dir DIR] [--only NAMES]`` (``make bench`` runs it with the defaults).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:  # for the test harness, when run as a plain script
    sys.path.insert(0, str(PROJECT_ROOT))

from raw_httpx_push import read_image  # noqa: E402  (benchmarks/ is sys.path[0])

from tests.integration.registry_server import RegistryServer, require_binary  # noqa: E402

BENCH_DIR = PROJECT_ROOT / "benchmarks"
RESULTS_DIR = BENCH_DIR / "results"
REFERENCE = "bench.example/push-bench:latest"
MIB = 1024 * 1024
FILE_CHUNK = 16 * MIB
TOOL_TIMEOUT = 900.0
BASELINE = "skopeo"

# Each Python contender is a one-liner run as `python -c CODE ARCHIVE URL REPOSITORY TAG`.
_ASYNCIO = (
    "import asyncio, sys, registry_async; "
    "asyncio.run(registry_async.push_docker_tar(*sys.argv[1:5]))"
)
_TRIO = (
    "import sys, anyio, registry_async; "
    "anyio.run(registry_async.push_docker_tar, *sys.argv[1:5], backend='trio')"
)
_SYNC = "import sys, registry_sync; registry_sync.push_docker_tar(*sys.argv[1:5])"


# -- contenders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where one run pushes to."""

    archive: Path
    url: str
    host: str
    repository: str
    tag: str


@dataclass(frozen=True)
class Contender:
    """A push tool: a short key for ``--only``, a name for the table, its command line."""

    key: str
    name: str
    command: Callable[[Target], list[str]]


def _python(code: str) -> Callable[[Target], list[str]]:
    def command(t: Target) -> list[str]:
        return [sys.executable, "-c", code, str(t.archive), t.url, t.repository, t.tag]

    return command


def _skopeo(t: Target) -> list[str]:
    return [
        require_binary("skopeo"),
        "--insecure-policy",
        "copy",
        "--dest-tls-verify=false",
        f"docker-archive:{t.archive}",
        f"docker://{t.host}/{t.repository}:{t.tag}",
    ]


def _raw_httpx(t: Target) -> list[str]:
    script = BENCH_DIR / "raw_httpx_push.py"
    return [sys.executable, str(script), str(t.archive), t.url, t.repository, t.tag]


CONTENDERS = (
    Contender("asyncio", "registry_async (asyncio)", _python(_ASYNCIO)),
    Contender("trio", "registry_async (trio)", _python(_TRIO)),
    Contender("sync", "registry_sync", _python(_SYNC)),
    Contender("skopeo", BASELINE, _skopeo),
    Contender("raw", "raw httpx (lower bound)", _raw_httpx),
)


# -- building the archive --------------------------------------------------------------------


def _run_tool(argv: Sequence[str]) -> str:
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


def _write_random_files(directory: Path, size: int) -> None:
    """Fill ``directory`` with ``size`` bytes of incompressible data, in files of 16 MiB."""
    directory.mkdir(parents=True, exist_ok=True)
    number = 0
    while size > 0:
        length = min(FILE_CHUNK, size)
        (directory / f"random-{number:04d}.bin").write_bytes(os.urandom(length))
        size -= length
        number += 1


def build_archive(dest: Path, *, size_mib: int, layers: int) -> Path:
    """Build an image of ``layers`` layers of random data with umoci, save it with skopeo."""
    umoci = require_binary("umoci")
    skopeo = require_binary("skopeo")
    per_layer = size_mib * MIB // layers
    with tempfile.TemporaryDirectory(prefix="bench-image-") as tmp:
        layout, bundle = Path(tmp) / "layout", Path(tmp) / "bundle"
        image = f"{layout}:build"
        _run_tool([umoci, "init", "--layout", str(layout)])
        _run_tool([umoci, "new", "--image", image])
        _run_tool([umoci, "unpack", "--rootless", "--image", image, str(bundle)])
        for index in range(layers):
            _write_random_files(bundle / "rootfs" / "data" / f"layer-{index}", per_layer)
            _run_tool(
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
        _run_tool(
            [
                skopeo,
                "--insecure-policy",
                "copy",
                f"oci:{image}",
                f"docker-archive:{dest}:{REFERENCE}",
            ]
        )
    return dest


def image_bytes(archive: Path) -> int:
    """Total size of the blobs (config and layers) of the archive's image."""
    _config, blobs = read_image(str(archive))
    return sum(blob.size for blob in blobs)


# -- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One measured run."""

    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    pushed_mib: float
    layer_media_type: str


def verify_push(target: Target) -> tuple[float, str]:
    """Check with skopeo that the tag exists; return (pushed MiB, layer media type)."""
    raw = _run_tool(
        [
            require_binary("skopeo"),
            "inspect",
            "--tls-verify=false",
            "--raw",
            f"docker://{target.host}/{target.repository}:{target.tag}",
        ]
    )
    manifest: dict[str, Any] = json.loads(raw)
    blobs = [manifest["config"], *manifest["layers"]]
    media_types = sorted({str(layer["mediaType"]) for layer in manifest["layers"]})
    return sum(int(blob["size"]) for blob in blobs) / MIB, ",".join(media_types)


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


@dataclass(frozen=True)
class Setup:
    """What every run shares: the archive, where registries store blobs, the environment."""

    archive: Path
    storage_dir: Path | None
    env: dict[str, str]


def contender_env(pycache: Path) -> dict[str, str]:
    """The environment for the contenders: bytecode cached in ``pycache``, as after an install.

    Without it, a Python contender run with ``PYTHONDONTWRITEBYTECODE`` set (or from a venv
    installed without compiling) would compile its dependencies at every start.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def measure(contender: Contender, setup: Setup, run: str) -> Sample:
    """Push the archive with ``contender`` to a fresh registry, timed from spawn to exit."""
    with fresh_registry(setup.storage_dir) as server, tempfile.TemporaryFile() as output:
        target = Target(setup.archive, server.url, server.host, f"bench/{run}", "latest")
        argv = contender.command(target)
        os.sync()  # no writeback left over from the previous run competes with this one
        start = time.perf_counter()
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env=setup.env,
        )
        _pid, status, usage = os.wait4(process.pid, 0)  # this child's own rusage
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            output.seek(0)
            log = output.read().decode(errors="replace")
            raise RuntimeError(f"{contender.name} failed ({process.returncode}):\n{log}")
        pushed_mib, media_type = verify_push(target)
    return Sample(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        pushed_mib=pushed_mib,
        layer_media_type=media_type,
    )


@dataclass(frozen=True)
class Result:
    """A contender's runs and their summary."""

    name: str
    median_seconds: float
    mib_per_second: float
    median_cpu_seconds: float
    peak_rss_mib: float
    pushed_mib: float
    layer_media_type: str
    time_vs_skopeo: float | None
    rss_vs_skopeo: float | None
    runs: list[Sample]


def summarise(samples: dict[str, list[Sample]], image_mib: float) -> list[Result]:
    """Medians per contender (peak RSS is the maximum), with ratios to skopeo."""
    medians = {name: statistics.median(s.seconds for s in runs) for name, runs in samples.items()}
    peaks = {name: max(s.peak_rss_mib for s in runs) for name, runs in samples.items()}
    results = []
    for name, runs in samples.items():
        results.append(
            Result(
                name=name,
                median_seconds=medians[name],
                mib_per_second=image_mib / medians[name],
                median_cpu_seconds=statistics.median(s.cpu_seconds for s in runs),
                peak_rss_mib=peaks[name],
                pushed_mib=runs[-1].pushed_mib,
                layer_media_type=runs[-1].layer_media_type,
                time_vs_skopeo=medians[name] / medians[BASELINE] if BASELINE in medians else None,
                rss_vs_skopeo=peaks[name] / peaks[BASELINE] if BASELINE in peaks else None,
                runs=runs,
            )
        )
    return results


# -- reporting -------------------------------------------------------------------------------


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def markdown_table(results: Sequence[Result]) -> str:
    """The results as a markdown table."""
    lines = [
        "| contender | median s | MiB/s | CPU s | peak RSS MiB | time vs skopeo "
        "| RSS vs skopeo | layers sent as |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        media = r.layer_media_type.removeprefix("application/vnd.")
        lines.append(
            f"| {r.name} | {r.median_seconds:.2f} | {r.mib_per_second:.0f} "
            f"| {r.median_cpu_seconds:.2f} | {r.peak_rss_mib:.0f} | {_ratio(r.time_vs_skopeo)} "
            f"| {_ratio(r.rss_vs_skopeo)} | {media} |"
        )
    return "\n".join(lines)


def _tool_version(argv: Sequence[str]) -> str:
    try:
        return _run_tool(argv).strip()
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


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256, help="image size (default 256)")
    parser.add_argument("--layers", type=int, default=4, help="number of layers (default 4)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender (default 3)")
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="where to write the results (default: benchmarks/results/push-<timestamp>.json)",
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
        help="comma-separated contenders to run: asyncio, trio, sync, skopeo, raw (default: all)",
    )
    args = parser.parse_args(argv)
    if args.size_mib < 1 or args.layers < 1 or args.repeat < 1:
        parser.error("--size-mib, --layers and --repeat must be at least 1")
    return args


def selected(only: str | None) -> list[Contender]:
    """The contenders whose keys are in the comma-separated list ``only`` (all when None)."""
    if only is None:
        return list(CONTENDERS)
    keys = {key.strip() for key in only.split(",")}
    return [c for c in CONTENDERS if c.key in keys]


def main(argv: Sequence[str] | None = None) -> int:
    """Build the archive, run every contender ``--repeat`` times, print and save the table."""
    args = parse_args(argv)
    contenders = selected(args.only)
    if not contenders:
        print("--only names none of: asyncio, trio, sync, skopeo, raw", file=sys.stderr)
        return 2
    started = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
        print(f"building a {args.size_mib} MiB, {args.layers}-layer image ...", file=sys.stderr)
        archive = build_archive(Path(tmp) / "image.tar", size_mib=args.size_mib, layers=args.layers)
        image_mib = image_bytes(archive) / MIB
        setup = Setup(archive, args.storage_dir, contender_env(Path(tmp) / "pycache"))
        # One untimed round: bytecode compiled, binaries and the archive in the page cache.
        for contender in contenders:
            measure(contender, setup, "warm-up")
        samples: dict[str, list[Sample]] = {c.name: [] for c in contenders}
        for round_number in range(args.repeat):
            # Rotate the order each round so that no contender always runs first or last.
            shift = round_number % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                sample = measure(contender, setup, f"run-{round_number}")
                samples[contender.name].append(sample)
                print(
                    f"round {round_number + 1}/{args.repeat}  {contender.name:<26} "
                    f"{sample.seconds:7.2f} s  {sample.peak_rss_mib:6.0f} MiB RSS",
                    file=sys.stderr,
                )
    results = summarise(samples, image_mib)
    table = markdown_table(results)
    print(table)

    path = args.json or RESULTS_DIR / f"push-{started:%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "date": started.isoformat(timespec="seconds"),
        "machine": machine_info(),
        "parameters": {
            "size_mib": args.size_mib,
            "layers": args.layers,
            "repeat": args.repeat,
            "storage_dir": None if args.storage_dir is None else str(args.storage_dir),
        },
        "image_mib": image_mib,
        "baseline": BASELINE,
        "results": [asdict(result) for result in results],
        "table": table,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nresults written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

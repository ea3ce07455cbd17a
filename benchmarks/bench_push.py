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
import datetime as dt
import json
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _common import (  # benchmarks/ is sys.path[0]; importing it puts the project root on it
    BASELINE,
    BENCH_DIR,
    MIB,
    RESULTS_DIR,
    add_common_arguments,
    build_archive,
    check_common_arguments,
    contender_env,
    fresh_registry,
    machine_info,
    ratio,
    require_binary,
    rotated_rounds,
    run_timed,
    run_tool,
    write_json,
)
from raw_httpx_push import read_image

REFERENCE = "bench.example/push-bench:latest"

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


# -- the archive ----------------------------------------------------------------------------


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
    raw = run_tool(
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


@dataclass(frozen=True)
class Setup:
    """What every run shares: the archive, where registries store blobs, the environment."""

    archive: Path
    storage_dir: Path | None
    env: dict[str, str]


def measure(contender: Contender, setup: Setup, run: str) -> Sample:
    """Push the archive with ``contender`` to a fresh registry, timed from spawn to exit."""
    with fresh_registry(setup.storage_dir) as server:
        target = Target(setup.archive, server.url, server.host, f"bench/{run}", "latest")
        timing = run_timed(contender.command(target), setup.env, contender.name)
        pushed_mib, media_type = verify_push(target)
    return Sample(
        seconds=timing.seconds,
        cpu_seconds=timing.cpu_seconds,
        peak_rss_mib=timing.peak_rss_mib,
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
            f"| {r.median_cpu_seconds:.2f} | {r.peak_rss_mib:.0f} | {ratio(r.time_vs_skopeo)} "
            f"| {ratio(r.rss_vs_skopeo)} | {media} |"
        )
    return "\n".join(lines)


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, kind="push", keys="asyncio, trio, sync, skopeo, raw")
    args = parser.parse_args(argv)
    check_common_arguments(parser, args)
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
        archive = build_archive(
            Path(tmp) / "image.tar", size_mib=args.size_mib, layers=args.layers, reference=REFERENCE
        )
        image_mib = image_bytes(archive) / MIB
        setup = Setup(archive, args.storage_dir, contender_env(Path(tmp) / "pycache"))
        # One untimed round: bytecode compiled, binaries and the archive in the page cache.
        for contender in contenders:
            measure(contender, setup, "warm-up")
        samples: dict[str, list[Sample]] = {c.name: [] for c in contenders}
        for round_number, contender in rotated_rounds(contenders, args.repeat):
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
    write_json(path, document)
    print(f"\nresults written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

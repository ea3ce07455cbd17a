"""Side-by-side benchmark: pull one image from a real local registry into an archive file.

Contenders: ``registry_async.pull_image`` under asyncio and under trio,
``registry_sync.pull_image``, ``skopeo copy`` to ``docker-archive:`` and to ``oci-archive:``,
and a raw-httpx lower bound (``benchmarks/raw_httpx_pull.py``). The image is pushed once into a
fresh ``docker-registry``; every run is then a fresh subprocess pulling it into a new file on
local disk, timed from spawn to exit; its peak RSS and CPU time come from ``os.wait4``. Results
are reported as ratios to skopeo (``docker-archive:``), never checked against fixed times.

Usage: ``uv run python benchmarks/bench_pull.py [--size-mib N] [--layers N] [--repeat N]
[--json PATH] [--storage-dir DIR] [--dest-dir DIR] [--only NAMES]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tarfile
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

import registry_sync

REFERENCE = "bench.example/pull-bench:latest"
REPOSITORY = "bench/pull"
TAG = "latest"
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
KEYS = "asyncio, trio, sync, skopeo, skopeo-oci, raw"

# Each Python contender is a one-liner run as `python -c CODE URL REPOSITORY TAG DEST`.
_ASYNCIO = (
    "import asyncio, sys, registry_async; asyncio.run(registry_async.pull_image(*sys.argv[1:5]))"
)
_TRIO = (
    "import sys, anyio, registry_async; "
    "anyio.run(registry_async.pull_image, *sys.argv[1:5], backend='trio')"
)
_SYNC = "import sys, registry_sync; registry_sync.pull_image(*sys.argv[1:5])"


# -- contenders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What one run pulls, and into which file."""

    url: str
    host: str
    repository: str
    tag: str
    dest: Path


@dataclass(frozen=True)
class Contender:
    """A pull tool: a key for ``--only``, a name for the table, its command line, and the
    skopeo transports (``docker-archive``, ``oci-archive``) its archive must be readable as."""

    key: str
    name: str
    command: Callable[[Target], list[str]]
    read_as: tuple[str, ...]


def _python(code: str) -> Callable[[Target], list[str]]:
    def command(t: Target) -> list[str]:
        return [sys.executable, "-c", code, t.url, t.repository, t.tag, str(t.dest)]

    return command


def _skopeo(transport: str) -> Callable[[Target], list[str]]:
    def command(t: Target) -> list[str]:
        return [
            require_binary("skopeo"),
            "--insecure-policy",
            "copy",
            "--src-tls-verify=false",
            f"docker://{t.host}/{t.repository}:{t.tag}",
            f"{transport}:{t.dest}",
        ]

    return command


def _raw_httpx(t: Target) -> list[str]:
    script = BENCH_DIR / "raw_httpx_pull.py"
    return [sys.executable, str(script), t.url, t.repository, t.tag, str(t.dest)]


BOTH = ("docker-archive", "oci-archive")
CONTENDERS = (
    Contender("asyncio", "registry_async (asyncio)", _python(_ASYNCIO), BOTH),
    Contender("trio", "registry_async (trio)", _python(_TRIO), BOTH),
    Contender("sync", "registry_sync", _python(_SYNC), BOTH),
    Contender("skopeo", BASELINE, _skopeo("docker-archive"), ("docker-archive",)),
    Contender("skopeo-oci", "skopeo (oci-archive)", _skopeo("oci-archive"), ("oci-archive",)),
    Contender("raw", "raw httpx (lower bound)", _raw_httpx, ("oci-archive",)),
)


# -- the image in the registry ---------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """The pushed image as the registry describes it."""

    digest: str
    layers: list[str]
    size: int  # config and layers


def push_image(archive: Path, url: str, host: str) -> Image:
    """Push the archive once with ``registry_sync``; describe the result with skopeo."""
    registry_sync.push_docker_tar(str(archive), url, REPOSITORY, TAG)
    source = f"docker://{host}/{REPOSITORY}:{TAG}"
    skopeo = require_binary("skopeo")
    raw = run_tool([skopeo, "inspect", "--tls-verify=false", "--raw", source])
    manifest: dict[str, Any] = json.loads(raw)
    info: dict[str, Any] = json.loads(run_tool([skopeo, "inspect", "--tls-verify=false", source]))
    blobs = [manifest["config"], *manifest["layers"]]
    return Image(
        digest=str(info["Digest"]),
        layers=[str(layer["digest"]) for layer in manifest["layers"]],
        size=sum(int(blob["size"]) for blob in blobs),
    )


# -- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One measured run."""

    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    archive_mib: float
    layers_stored_as: str


def _read_member(archive: tarfile.TarFile, name: str, size: int = -1) -> bytes:
    file = archive.extractfile(name)  # follows links inside the tar
    if file is None:
        raise RuntimeError(f"{name} is not a file in the archive")
    return file.read(size)


def _blob_name(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/", 1)


def stored_layers(dest: Path) -> str:
    """How the archive stores its layers, from their first bytes: tar, tar+gzip or tar+zstd."""
    with tarfile.open(dest) as archive:
        if "manifest.json" in archive.getnames():
            names = json.loads(_read_member(archive, "manifest.json"))[0]["Layers"]
        else:
            index = json.loads(_read_member(archive, "index.json"))
            manifest = json.loads(
                _read_member(archive, _blob_name(index["manifests"][0]["digest"]))
            )
            names = [_blob_name(layer["digest"]) for layer in manifest["layers"]]
        heads = [_read_member(archive, name, 4) for name in names]
    kinds = {
        "tar+gzip" if head.startswith(GZIP_MAGIC) else "tar+zstd" if head == ZSTD_MAGIC else "tar"
        for head in heads
    }
    return ",".join(sorted(kinds))


def verify_pull(dest: Path, read_as: Sequence[str], image: Image) -> str:
    """Check with skopeo that the archive reads as each transport and holds the image.

    The config's ``diff_ids`` must be the pushed (uncompressed) layers' digests, and so must the
    layer digests unless the tool compressed the layers. Returns how the layers are stored.
    """
    stored = stored_layers(dest)
    skopeo = require_binary("skopeo")
    for transport in read_as:
        source = f"{transport}:{dest}"
        manifest: dict[str, Any] = json.loads(run_tool([skopeo, "inspect", "--raw", source]))
        config: dict[str, Any] = json.loads(run_tool([skopeo, "inspect", "--config", source]))
        layers = [str(layer["digest"]) for layer in manifest["layers"]]
        diff_ids = config["rootfs"]["diff_ids"]
        if diff_ids != image.layers or (stored == "tar" and layers != image.layers):
            raise RuntimeError(
                f"{source} holds layers {layers} (diff_ids {diff_ids}), expected {image.layers}"
            )
    return stored


@dataclass(frozen=True)
class Setup:
    """What every run shares: the registry, the image in it, where archives go, the env."""

    url: str
    host: str
    image: Image
    dest_dir: Path
    env: dict[str, str]


def measure(contender: Contender, setup: Setup, run: str) -> Sample:
    """Pull the image with ``contender`` into a new file, timed from spawn to exit."""
    dest = setup.dest_dir / f"{contender.key}-{run}.tar"
    dest.unlink(missing_ok=True)
    try:
        target = Target(setup.url, setup.host, REPOSITORY, TAG, dest)
        timing = run_timed(contender.command(target), setup.env, contender.name)
        archive_mib = dest.stat().st_size / MIB
        stored = verify_pull(dest, contender.read_as, setup.image)
    finally:
        dest.unlink(missing_ok=True)
    left = sorted(p.name for p in setup.dest_dir.iterdir())
    if left:
        raise RuntimeError(f"{contender.name} left files behind in {setup.dest_dir}: {left}")
    return Sample(
        seconds=timing.seconds,
        cpu_seconds=timing.cpu_seconds,
        peak_rss_mib=timing.peak_rss_mib,
        archive_mib=archive_mib,
        layers_stored_as=stored,
    )


@dataclass(frozen=True)
class Result:
    """A contender's runs and their summary."""

    name: str
    median_seconds: float
    mib_per_second: float
    median_cpu_seconds: float
    peak_rss_mib: float
    archive_mib: float
    layers_stored_as: str
    read_as: list[str]
    time_vs_skopeo: float | None
    rss_vs_skopeo: float | None
    runs: list[Sample]


def summarise(
    samples: dict[str, list[Sample]], contenders: Sequence[Contender], image_mib: float
) -> list[Result]:
    """Medians per contender (peak RSS is the maximum), with ratios to skopeo."""
    medians = {name: statistics.median(s.seconds for s in runs) for name, runs in samples.items()}
    peaks = {name: max(s.peak_rss_mib for s in runs) for name, runs in samples.items()}
    results = []
    for contender in contenders:
        name, runs = contender.name, samples[contender.name]
        results.append(
            Result(
                name=name,
                median_seconds=medians[name],
                mib_per_second=image_mib / medians[name],
                median_cpu_seconds=statistics.median(s.cpu_seconds for s in runs),
                peak_rss_mib=peaks[name],
                archive_mib=runs[-1].archive_mib,
                layers_stored_as=runs[-1].layers_stored_as,
                read_as=list(contender.read_as),
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
        "| RSS vs skopeo | archive MiB | layers stored as |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.median_seconds:.2f} | {r.mib_per_second:.0f} "
            f"| {r.median_cpu_seconds:.2f} | {r.peak_rss_mib:.0f} | {ratio(r.time_vs_skopeo)} "
            f"| {ratio(r.rss_vs_skopeo)} | {r.archive_mib:.1f} | {r.layers_stored_as} |"
        )
    return "\n".join(lines)


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, kind="pull", keys=KEYS)
    parser.add_argument(
        "--dest-dir",
        type=Path,
        default=None,
        help="where the pulled archives are written (default: the system temporary directory)",
    )
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
    """Build and push the image, run every contender ``--repeat`` times, print and save."""
    args = parse_args(argv)
    contenders = selected(args.only)
    if not contenders:
        print(f"--only names none of: {KEYS}", file=sys.stderr)
        return 2
    started = dt.datetime.now(dt.UTC)
    with (
        tempfile.TemporaryDirectory(prefix="bench-pull-") as tmp,
        tempfile.TemporaryDirectory(prefix="bench-pull-dest-", dir=args.dest_dir) as dest_dir,
    ):
        print(f"building a {args.size_mib} MiB, {args.layers}-layer image ...", file=sys.stderr)
        archive = build_archive(
            Path(tmp) / "image.tar", size_mib=args.size_mib, layers=args.layers, reference=REFERENCE
        )
        with fresh_registry(args.storage_dir) as server:
            image = push_image(archive, server.url, server.host)
            archive.unlink()
            env = contender_env(Path(tmp) / "pycache")
            setup = Setup(server.url, server.host, image, Path(dest_dir), env)
            # One untimed round: bytecode compiled, binaries and the blobs in the page cache.
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
    image_mib = image.size / MIB
    results = summarise(samples, contenders, image_mib)
    table = markdown_table(results)
    print(table)

    path = args.json or RESULTS_DIR / f"pull-{started:%Y%m%d-%H%M%S}.json"
    document = {
        "date": started.isoformat(timespec="seconds"),
        "machine": machine_info(),
        "parameters": {
            "size_mib": args.size_mib,
            "layers": args.layers,
            "repeat": args.repeat,
            "storage_dir": None if args.storage_dir is None else str(args.storage_dir),
            "dest_dir": str(Path(dest_dir).parent),
        },
        "image_mib": image_mib,
        "image_digest": image.digest,
        "baseline": BASELINE,
        "results": [asdict(result) for result in results],
        "table": table,
    }
    write_json(path, document)
    print(f"\nresults written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

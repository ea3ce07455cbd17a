"""The benchmark suite: this project side by side with its peers and the wire limits.

Scenarios (``--scenarios``, default all, in this order):

- ``push``: a 149 MiB archive (Python stdlib sources + 4 random layers) to a local registry;
- ``push-large``: 1 GiB in 4 random layers of 256 MiB;
- ``wan``: 95 MiB through a proxy adding latency and bandwidth caps, compressed with gzip;
- ``pull``: the 149 MiB image into one archive file;
- ``catalog``: listing 5,000 repositories;
- ``import``: ``import registry_async`` and the peers' imports.

Every run is a whole process, spawned and timed to its exit, against a fresh local registry;
contenders run interleaved, round after round. The report (Markdown), every run (JSON) and a
chart (PNG, with matplotlib from the ``bench`` dependency group) go to
``benchmarks/results/full/`` (``quick/`` with ``--quick``), and the report to stdout.

Usage: ``uv run --group bench python benchmarks/bench.py [--quick] [--scenarios push,pull]
[--repeat N] [--push TEXT+NxEACH] ...`` (``make bench``, ``make bench-quick``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from _common import (
    BENCH_DIR,
    Suite,
    contender_env,
    log,
    machine_info,
    require_binary,
    write_json,
)
from _images import ImageSpec
from _report import ScenarioResult, markdown_report, write_chart
from scenario_catalog import run_catalog
from scenario_import import run_import
from scenario_pull import run_pull
from scenario_push import WanLink, run_push, run_wan

SCENARIOS = ("push", "push-large", "wan", "pull", "catalog", "import")

# Sizes as TEXT+NxEACH: TEXT MiB of stdlib sources in one layer, then N random layers of EACH MiB.
FULL = {
    "push": "61+4x22",
    "push_large": "0+4x256",
    "wan": "60+1x35",
    "repositories": 5000,
    "repeat": 5,
    "import_repeat": 10,
}
QUICK = {
    "push": "4+4x3",
    "push_large": "0+4x8",
    "wan": "4+1x4",
    "repositories": 300,
    "repeat": 2,
    "import_repeat": 3,
}
SPEC = re.compile(r"(?P<text>\d+(\.\d+)?)\+(?P<layers>\d+)x(?P<each>\d+(\.\d+)?)")


def image_spec(text: str) -> ImageSpec:
    """``TEXT+NxEACH`` (MiB): e.g. ``61+4x22`` is 61 MiB of stdlib sources + 4 x 22 MiB random."""
    match = SPEC.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not TEXT+NxEACH, e.g. 61+4x22")
    layers, each = int(match["layers"]), float(match["each"])
    spec = ImageSpec(float(match["text"]), layers * each, layers)
    if spec.layers == 0 or spec.text_mib + spec.random_mib <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} describes an empty image")
    return spec


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; ``--quick`` changes the defaults of the sizes and counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a check in minutes")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument("--repeat", type=int, help="timed runs per contender (5; quick 2)")
    parser.add_argument("--push", type=image_spec, help="push image (61+4x22; quick 4+4x3)")
    parser.add_argument("--push-large", type=image_spec, help="large push image (0+4x256)")
    parser.add_argument("--wan", type=image_spec, help="WAN push image (60+1x35; quick 4+1x4)")
    parser.add_argument("--pull", type=image_spec, help="pull image (default: the push image)")
    parser.add_argument("--repositories", type=int, help="catalog size (5000; quick 300)")
    parser.add_argument("--import-repeat", type=int, help="runs per import (10; quick 3)")
    parser.add_argument("--rtt-ms", type=float, default=40.0, help="WAN round trip (40 ms)")
    parser.add_argument("--connection-mb-s", type=float, default=12.5, help="per connection")
    parser.add_argument("--shared-mb-s", type=float, default=50.0, help="all connections")
    parser.add_argument("--storage-dir", type=Path, default=_shm(), help="registry storage")
    parser.add_argument("--dest-dir", type=Path, default=None, help="where pulls write")
    parser.add_argument("--out", type=Path, default=None, help="results directory")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, image_spec(value) if isinstance(value, str) else value)
    args.pull = args.pull or args.push
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}: choose from {', '.join(SCENARIOS)}")
    if min(args.repeat, args.import_repeat, args.repositories) < 1:
        parser.error("--repeat, --import-repeat and --repositories must be at least 1")
    args.out = args.out or BENCH_DIR / "results" / ("quick" if args.quick else "full")
    return args


def _shm() -> Path | None:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() else None


def _runners(args: argparse.Namespace, suite: Suite) -> dict[str, Callable[[], ScenarioResult]]:
    link = WanLink(args.rtt_ms, args.connection_mb_s, args.shared_mb_s)
    push_title = f"Push {args.push.text_mib + args.push.random_mib:g} MiB"
    large_title = f"Push {args.push_large.text_mib + args.push_large.random_mib:g} MiB"
    return {
        "push": lambda: run_push(suite, key="push", title=push_title, spec=args.push, warm_up=True),
        "push-large": lambda: run_push(
            suite, key="push-large", title=large_title, spec=args.push_large, warm_up=False
        ),
        "wan": lambda: run_wan(suite, spec=args.wan, link=link),
        "pull": lambda: run_pull(suite, spec=args.pull, warm_up=True),
        "catalog": lambda: run_catalog(suite, count=args.repositories, warm_up=True),
        "import": lambda: run_import(suite, repeat=args.import_repeat),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen scenarios; print the report and write it with the runs and the chart."""
    args = parse_args(argv)
    for binary in ("docker-registry", "skopeo", "curl"):
        require_binary(binary)
    started, clock = dt.datetime.now(dt.UTC), time.monotonic()
    results: list[ScenarioResult] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as work,
        tempfile.TemporaryDirectory(prefix="bench-seeds-", dir=args.storage_dir) as seeds,
        tempfile.TemporaryDirectory(prefix="bench-dest-", dir=args.dest_dir) as dest_dir,
    ):
        suite = Suite(
            work=Path(work),
            storage_dir=args.storage_dir,
            seeds=Path(seeds),
            dest_dir=Path(dest_dir),
            env=contender_env(Path(work) / "pycache"),
            repeat=args.repeat,
            quick=args.quick,
        )
        runners = _runners(args, suite)
        for scenario in args.scenarios:
            results.append(runners[scenario]())
    elapsed = time.monotonic() - clock
    machine = machine_info()
    chart = args.out / "chart.png"
    has_chart = write_chart(results, chart)
    kind = "quick" if args.quick else "full"
    heading = f"Benchmarks ({kind} run, {started:%Y-%m-%d}, {elapsed / 60:.1f} minutes)"
    report = markdown_report(results, machine, heading, chart.name if has_chart else None)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.md").write_text(report)
    document = {
        "date": started.isoformat(timespec="seconds"),
        "elapsed_seconds": elapsed,
        "machine": machine,
        "arguments": {k: str(v) for k, v in vars(args).items() if k != "out"},
        "scenarios": [result.as_json() for result in results],
    }
    write_json(args.out / "results.json", document)
    print(report)
    log(f"written to {args.out} in {elapsed / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

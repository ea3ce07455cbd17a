"""Memory with one large layer: peak RSS pushing and pulling a single 600 MiB layer.

A layer streams through in pieces, so memory must not grow with it: each row is one of this
project's calls, with its default settings (the push rows as stored and with
``compression="gzip"``), a new process per run against a fresh local registry. Pushes are
checked as in the push scenario (skopeo reads the tag back), pulls as in the pull scenario
(every blob in the written file hashed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from _common import (
    MIB,
    Contender,
    Sample,
    Suite,
    copy_tree,
    fresh_registry,
    log,
    run_rounds,
    run_timed,
)
from _images import ImageSpec, build_archive, verify_archive
from _report import Row, ScenarioResult
from _venvs import PROJECT, venv_python
from docker_save import read_image
from scenario_push import Expected, verify_push

import registry_sync

__all__ = ["run_memory"]

REFERENCE = "bench.example/memory:latest"
REPOSITORY = "bench/memory"

# Each row is a one-liner: `python -c CODE ARCHIVE URL REPOSITORY TAG` for a push,
# `python -c CODE URL REPOSITORY TAG DEST` for a pull.
_ASYNC = "import asyncio, sys, registry_async; asyncio.run(registry_async.{0}(*sys.argv[1:5]{1}))"
_SYNC = "import sys, registry_sync; registry_sync.{0}(*sys.argv[1:5]{1})"
_GZIP = ", compression='gzip'"
# key -> (row name, the code to run)
_ROWS = {
    "push-asyncio": ("registry_async (asyncio), push", _ASYNC.format("push_docker_tar", "")),
    "push-sync": ("registry_sync, push", _SYNC.format("push_docker_tar", "")),
    "push-sync-gzip": ("registry_sync, push, gzip", _SYNC.format("push_docker_tar", _GZIP)),
    "pull-asyncio": ("registry_async (asyncio), pull", _ASYNC.format("pull_image", "")),
    "pull-sync": ("registry_sync, pull", _SYNC.format("pull_image", "")),
}


@dataclass(frozen=True)
class Target:
    """One run's inputs: the archive to push or the file to pull into, and the registry."""

    archive: Path
    dest: Path
    url: str
    repository: str


def _contender(key: str) -> Contender[Target]:
    name, code = _ROWS[key]

    def command(t: Target) -> list[str]:
        python = str(venv_python(PROJECT))
        if key.startswith("push"):
            return [python, "-c", code, str(t.archive), t.url, t.repository, "latest"]
        return [python, "-c", code, t.url, t.repository, "latest", str(t.dest)]

    return Contender(key, name, "ours", command)


SETUP = (
    "Push and pull one image holding a single {size:.0f} MiB layer ({image}) with this "
    'project\'s default settings: the push as stored and with `compression="gzip"`, the pull '
    "into one archive file. A new process per run, against a fresh local registry; pushes "
    "checked by skopeo, pulled files hashed. The figure that matters is peak RSS: a layer "
    "streams through in pieces, so memory does not grow with it."
)


def run_memory(suite: Suite, *, spec: ImageSpec) -> ScenarioResult:
    """Push and pull a one-layer image of ``spec`` with each of this project's drivers."""
    title = f"Memory with a {spec.random_mib:g} MiB layer"
    directory = suite.work / "memory"
    directory.mkdir(parents=True, exist_ok=True)
    log(f"{title}: building and pushing the image ({spec.describe()}) ...")
    archive = build_archive(directory / "image.tar", spec, REFERENCE)
    image = read_image(str(archive))
    expected = Expected(image.config.digest, [layer.digest for layer in image.layers])
    size_mib = sum(blob.size for blob in image.blobs) / MIB
    seed = suite.seeds / "memory"
    with fresh_registry(suite.storage_dir) as server:
        registry_sync.push_docker_tar(str(archive), server.url, REPOSITORY, "latest")
        copy_tree(server.storage_dir, seed)
    contenders = [_contender(key) for key in _ROWS]

    def measure(contender: Contender[Target], run: str) -> Sample:
        pulling = contender.key.startswith("pull")
        dest = suite.dest_dir / f"{contender.key}-{run}.tar"
        repository = REPOSITORY if pulling else f"bench/{contender.key}-{run}"
        with fresh_registry(suite.storage_dir, seed if pulling else None) as server:
            target = Target(archive, dest, server.url, repository)
            try:
                timing = run_timed(contender.command(target), suite.env, contender.name)
                if pulling:
                    verify_archive(dest, expected.config, expected.layers)
                else:
                    verify_push(server.host, repository, "latest", expected)
            finally:
                dest.unlink(missing_ok=True)
        note = "pull" if pulling else "push"
        return Sample(timing.seconds, timing.cpu_seconds, timing.peak_rss_mib, note)

    # Memory does not vary between runs as time does: fewer rounds are enough.
    samples = run_rounds(
        contenders, repeat=max(1, suite.repeat // 2), warm_up=False, measure=measure
    )
    return ScenarioResult(
        key="memory",
        title=title,
        setup=SETUP.format(size=size_mib, image=spec.describe()),
        rows=[Row(c.name, c.role, samples[c.name]) for c in contenders],
        size_mib=size_mib,
        note_header="operation",
        parameters={"image": spec.describe(), "image_mib": size_mib},
    )

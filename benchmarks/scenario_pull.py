"""Pulling an image from a local registry into one archive file on local disk.

The image is pushed once (with ``registry_sync``) and that registry storage kept as a seed;
every run gets a new registry whose storage is a copy of the seed, and writes a new file. After
each run, outside the timing, every blob in the file is hashed: the config and each layer must
hash to the pushed digests. The file is then deleted, and the run fails if it left anything
else behind.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    CONTENDERS_DIR,
    MIB,
    Contender,
    Sample,
    Suite,
    copy_tree,
    fresh_registry,
    log,
    require_binary,
    run_rounds,
    run_timed,
)
from _images import ImageSpec, build_archive, verify_archive
from _report import Row, ScenarioResult
from _venvs import DXF, PROJECT, venv_python
from docker_save import read_image
from raw_httpx_pull import layout

import registry_sync

__all__ = ["run_pull"]

REFERENCE = "bench.example/pull:latest"
REPOSITORY = "bench/pull"
TAG = "latest"
SKOPEO = "skopeo (docker-archive)"
CURL = "curl + dd + sha256sum (limit)"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass(frozen=True)
class Target:
    """What one run pulls, and into which file."""

    url: str
    host: str
    dest: Path
    plan: Path  # the archive's layout, for curl_pull.sh


# Each of this project's contenders is a one-liner: `python -c CODE URL REPOSITORY TAG DEST`.
_ASYNCIO = (
    "import asyncio, sys, registry_async; asyncio.run(registry_async.pull_image(*sys.argv[1:5]))"
)
_SYNC = "import sys, registry_sync; registry_sync.pull_image(*sys.argv[1:5])"


def _python(code: str) -> Any:
    def command(t: Target) -> list[str]:
        return [str(venv_python(PROJECT)), "-c", code, t.url, REPOSITORY, TAG, str(t.dest)]

    return command


def _skopeo(t: Target) -> list[str]:
    return [
        require_binary("skopeo"),
        "--insecure-policy",
        "copy",
        "--src-tls-verify=false",
        f"docker://{t.host}/{REPOSITORY}:{TAG}",
        f"docker-archive:{t.dest}",
    ]


def _dxf(t: Target) -> list[str]:
    script = CONTENDERS_DIR / "dxf_pull.py"
    return [str(venv_python(DXF)), str(script), t.host, REPOSITORY, TAG, str(t.dest)]


def _curl(t: Target) -> list[str]:
    script = CONTENDERS_DIR / "curl_pull.sh"
    return ["bash", str(script), str(t.plan), t.url, REPOSITORY, str(t.dest)]


def _raw_httpx(t: Target) -> list[str]:
    script = CONTENDERS_DIR / "raw_httpx_pull.py"
    return [str(venv_python(PROJECT)), str(script), t.url, REPOSITORY, TAG, str(t.dest)]


CONTENDERS: tuple[Contender[Target], ...] = (
    Contender("asyncio", "registry_async (asyncio)", "ours", _python(_ASYNCIO)),
    Contender("sync", "registry_sync", "ours", _python(_SYNC)),
    Contender("skopeo", SKOPEO, "peer", _skopeo),
    Contender("dxf", DXF.name, "peer", _dxf),
    Contender("curl", CURL, "limit", _curl),
    Contender("raw", "raw httpx (Python floor)", "floor", _raw_httpx),
)

SETUP = (
    "Pull one image ({size:.0f} MiB in {layers} layers: {image}; layers stored uncompressed) "
    "from a local registry (storage a fresh copy per run) into one archive file on local disk. "
    "This project writes the Docker 25+ `docker save` layout under a temporary name renamed into "
    "place; skopeo writes the older `docker save` layout; python-dxf has no image pull, so a "
    "script streams its blobs one after another into the Docker 25+ layout. The limit has the "
    "archive's layout worked out beforehand and fetches every blob at once with curl, each "
    "written into its place by dd and hashed by sha256sum; the Python floor does the same with "
    "httpx threads, hashing on the way. After each run every blob in the file is hashed and "
    "checked."
)


def write_plan(url: str, dest: Path) -> Path:
    """The archive's layout for ``curl_pull.sh``, from the image manifest (see its header)."""
    request = urllib.request.Request(
        f"{url}/v2/{REPOSITORY}/manifests/{TAG}", headers={"Accept": OCI_MANIFEST}
    )
    with urllib.request.urlopen(request) as response:
        manifest = response.read()
        media_type = response.headers["Content-Type"].split(";")[0].strip()
    writes, blobs, total = layout(manifest, media_type)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "size").write_text(f"{total}\n")
    pieces = []
    for number, (offset, data) in enumerate(writes):
        (dest / f"piece-{number}").write_bytes(data)
        pieces.append(f"{offset} piece-{number}\n")
    (dest / "pieces").write_text("".join(pieces))
    (dest / "blobs").write_text("".join(f"{b.digest} {b.offset} {b.size}\n" for b in blobs))
    return dest


def run_pull(suite: Suite, *, spec: ImageSpec, warm_up: bool) -> ScenarioResult:
    """Pull ``spec``'s image with every contender."""
    title = f"Pull {spec.text_mib + spec.random_mib:g} MiB into one file"
    directory = suite.work / "pull"
    directory.mkdir(parents=True, exist_ok=True)
    log(f"{title}: building and pushing the image ({spec.describe()}) ...")
    archive = build_archive(directory / "image.tar", spec, REFERENCE)
    image = read_image(str(archive))
    config, layers = image.config.digest, [layer.digest for layer in image.layers]
    size_mib = sum(blob.size for blob in image.blobs) / MIB
    seed = suite.seeds / "pull"
    with fresh_registry(suite.storage_dir) as server:
        registry_sync.push_docker_tar(str(archive), server.url, REPOSITORY, TAG)
        copy_tree(server.storage_dir, seed)
        plan = write_plan(server.url, directory / "plan")
    archive.unlink()

    def measure(contender: Contender[Target], run: str) -> Sample:
        dest = suite.dest_dir / f"{contender.key}-{run}.tar"
        with fresh_registry(suite.storage_dir, seed) as server:
            try:
                target = Target(server.url, server.host, dest, plan)
                timing = run_timed(contender.command(target), suite.env, contender.name)
                file_mib = dest.stat().st_size / MIB
                verify_archive(dest, config, layers)
            finally:
                dest.unlink(missing_ok=True)
        left = sorted(p.name for p in suite.dest_dir.iterdir())
        if left:
            raise RuntimeError(f"{contender.name} left files behind in {suite.dest_dir}: {left}")
        return Sample(timing.seconds, timing.cpu_seconds, timing.peak_rss_mib, f"{file_mib:.1f}")

    samples = run_rounds(CONTENDERS, repeat=suite.repeat, warm_up=warm_up, measure=measure)
    return ScenarioResult(
        key="pull",
        title=title,
        setup=SETUP.format(size=size_mib, layers=len(layers), image=spec.describe()),
        rows=[Row(c.name, c.role, samples[c.name]) for c in CONTENDERS],
        limit=CURL,
        peers=[SKOPEO, DXF.name],
        size_mib=size_mib,
        note_header="file MiB",
        parameters={"image": spec.describe(), "image_mib": size_mib},
    )

"""Pushing a ``docker save`` archive: on loopback, and over a simulated wide-area link.

Every run pushes to a new, empty registry (so every blob is uploaded), as a new process timed
from spawn to exit. After each run, outside the timing, skopeo reads the tag back: the config
must be the archive's, and when layers were sent as stored, every layer digest must be the
archive's too (the registry itself checked each blob's digest on upload).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    BENCH_DIR,
    CONTENDERS_DIR,
    MIB,
    Contender,
    Sample,
    Suite,
    fresh_registry,
    log,
    require_binary,
    run_rounds,
    run_timed,
    run_tool,
)
from _images import ImageSpec, archive_blobs, build_archive, prepare_blob_dir
from _report import Row, ScenarioResult
from _venvs import DXF, PROJECT, PROJECT_TRIO, RAV2, Venv, venv_python
from docker_save import read_image

__all__ = ["WanLink", "run_push", "run_wan"]

REFERENCE = "bench.example/push:latest"
SKOPEO = "skopeo"
CURL = "curl, digests known (limit)"


@dataclass(frozen=True)
class Target:
    """Where one run pushes to, and what it pushes."""

    archive: Path
    blob_dir: Path  # the archive's blobs as files, for curl
    url: str
    host: str
    repository: str
    tag: str


def _python(code: str, venv: Venv = PROJECT) -> Any:
    def command(t: Target) -> list[str]:
        python = str(venv_python(venv))
        return [python, "-c", code, str(t.archive), t.url, t.repository, t.tag]

    return command


# Each of this project's contenders is a one-liner: `python -c CODE ARCHIVE URL REPOSITORY TAG`.
_ASYNCIO = (
    "import asyncio, sys, registry_async; "
    "asyncio.run(registry_async.push_docker_tar(*sys.argv[1:5]))"
)
_ASYNCIO_GZIP = (
    "import asyncio, sys, registry_async; "
    "asyncio.run(registry_async.push_docker_tar(*sys.argv[1:5], compression='gzip'))"
)
_TRIO = (
    "import sys, anyio, registry_async; "
    "anyio.run(registry_async.push_docker_tar, *sys.argv[1:5], backend='trio')"
)
_SYNC = "import sys, registry_sync; registry_sync.push_docker_tar(*sys.argv[1:5])"
_SYNC_GZIP = (
    "import sys, registry_sync; registry_sync.push_docker_tar(*sys.argv[1:5], compression='gzip')"
)


def _skopeo(t: Target) -> list[str]:
    return [
        require_binary("skopeo"),
        "--insecure-policy",
        "copy",
        "--dest-tls-verify=false",
        f"docker-archive:{t.archive}",
        f"docker://{t.host}/{t.repository}:{t.tag}",
    ]


def _curl(t: Target) -> list[str]:
    script = CONTENDERS_DIR / "curl_push.sh"
    return ["bash", str(script), str(t.blob_dir), t.url, t.repository, t.tag]


def _raw_httpx(t: Target) -> list[str]:
    script = CONTENDERS_DIR / "raw_httpx_push.py"
    return [str(venv_python(PROJECT)), str(script), str(t.archive), t.url, t.repository, t.tag]


def _rav2(t: Target) -> list[str]:
    script = CONTENDERS_DIR / "rav2_push.py"
    return [str(venv_python(RAV2)), str(script), str(t.archive), t.url, t.repository, t.tag]


def _dxf(t: Target) -> list[str]:
    script = CONTENDERS_DIR / "dxf_push.py"
    return [str(venv_python(DXF)), str(script), str(t.archive), t.host, t.repository, t.tag]


LOOPBACK_CONTENDERS: tuple[Contender[Target], ...] = (
    Contender("asyncio", "registry_async (asyncio)", "ours", _python(_ASYNCIO)),
    Contender("trio", "registry_async (trio)", "ours", _python(_TRIO, PROJECT_TRIO)),
    Contender("sync", "registry_sync", "ours", _python(_SYNC)),
    Contender("skopeo", SKOPEO, "peer", _skopeo),
    Contender("rav2", RAV2.name, "peer", _rav2),
    Contender("dxf", DXF.name, "peer", _dxf),
    Contender("curl", CURL, "limit", _curl),
    Contender("raw", "raw httpx (Python floor)", "floor", _raw_httpx),
)

WAN_CURL = "curl, pre-gzipped (limit)"
WAN_CONTENDERS: tuple[Contender[Target], ...] = (
    Contender("asyncio-gzip", "registry_async (asyncio), gzip", "ours", _python(_ASYNCIO_GZIP)),
    Contender("sync-gzip", "registry_sync, gzip", "ours", _python(_SYNC_GZIP)),
    Contender("asyncio", "registry_async (asyncio), as stored", "ours", _python(_ASYNCIO)),
    Contender("skopeo", f"{SKOPEO} (gzip, its default)", "peer", _skopeo),
    Contender("curl-gzip", WAN_CURL, "limit", _curl),
)


# -- checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What the registry must hold after a push of the archive."""

    config: str
    layers: list[str]


def verify_push(host: str, repository: str, tag: str, expected: Expected) -> str:
    """Check with skopeo what the registry holds; return the layers' media type."""
    raw = run_tool(
        [
            require_binary("skopeo"),
            "inspect",
            "--tls-verify=false",
            "--raw",
            f"docker://{host}/{repository}:{tag}",
        ]
    )
    manifest: dict[str, Any] = json.loads(raw)
    layers = [str(layer["digest"]) for layer in manifest["layers"]]
    media_types = sorted({str(layer["mediaType"]) for layer in manifest["layers"]})
    compressed = any(t.endswith(("gzip", "zstd")) for t in media_types)
    if manifest["config"]["digest"] != expected.config or len(layers) != len(expected.layers):
        raise RuntimeError(f"{repository}:{tag} is not the archive's image: {raw}")
    if not compressed and layers != expected.layers:
        raise RuntimeError(f"{repository}:{tag} has layers {layers}, not {expected.layers}")
    return ",".join(t.removeprefix("application/vnd.") for t in media_types)


# -- the simulated wide-area link ------------------------------------------------------------


@dataclass(frozen=True)
class WanLink:
    """The link's round-trip time, per-connection and shared caps (MB/s, 10**6 bytes)."""

    rtt_ms: float
    connection_mb_s: float
    shared_mb_s: float

    def describe(self) -> str:
        return (
            f"{self.rtt_ms:g} ms round trip, {self.connection_mb_s:g} MB/s per connection, "
            f"{self.shared_mb_s:g} MB/s shared by all connections (each way)"
        )


@contextlib.contextmanager
def wan_proxy(upstream_port: int, link: WanLink) -> Iterator[int]:
    """Run ``_wan_proxy.py`` in front of ``upstream_port``; yield the port it listens on."""
    argv = [
        sys.executable,
        str(BENCH_DIR / "_wan_proxy.py"),
        str(upstream_port),
        str(link.rtt_ms),
        str(link.connection_mb_s),
        str(link.shared_mb_s),
    ]
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"the WAN proxy did not start: {line!r}")
        yield int(line)
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- scenarios -------------------------------------------------------------------------------


def _measure(
    suite: Suite,
    archive: Path,
    blob_dirs: dict[str, Path],
    expected: Expected,
    link: WanLink | None,
) -> Any:
    def measure(contender: Contender[Target], run: str) -> Sample:
        repository = f"bench/{contender.key}-{run}"
        with fresh_registry(suite.storage_dir) as server:
            with contextlib.ExitStack() as stack:
                host = server.host
                if link is not None:
                    host = f"127.0.0.1:{stack.enter_context(wan_proxy(server.port, link))}"
                blob_dir = blob_dirs["gzip" if contender.key == "curl-gzip" else "stored"]
                target = Target(archive, blob_dir, f"http://{host}", host, repository, "latest")
                timing = run_timed(contender.command(target), suite.env, contender.name)
            note = verify_push(server.host, repository, "latest", expected)
        return Sample(timing.seconds, timing.cpu_seconds, timing.peak_rss_mib, note)

    return measure


def _scenario(
    suite: Suite,
    *,
    key: str,
    title: str,
    setup: str,
    spec: ImageSpec,
    contenders: Sequence[Contender[Target]],
    link: WanLink | None,
    warm_up: bool,
) -> ScenarioResult:
    directory = suite.work / key
    directory.mkdir(parents=True, exist_ok=True)
    log(f"{title}: building the image ({spec.describe()}) ...")
    archive = build_archive(directory / "image.tar", spec, REFERENCE)
    image = read_image(str(archive))
    expected = Expected(image.config.digest, [layer.digest for layer in image.layers])
    blob_dirs = {"stored": prepare_blob_dir(archive, directory / "blobs")}
    if any(c.key == "curl-gzip" for c in contenders):
        blob_dirs["gzip"] = prepare_blob_dir(archive, directory / "blobs-gzip", gzipped=True)
    size_mib = archive_blobs(archive) / MIB
    log(f"{title}: {size_mib:.1f} MiB in {len(image.layers)} layers")
    measure = _measure(suite, archive, blob_dirs, expected, link)
    samples = run_rounds(contenders, repeat=suite.repeat, warm_up=warm_up, measure=measure)
    parameters: dict[str, Any] = {"image": spec.describe(), "image_mib": size_mib}
    if "gzip" in blob_dirs:
        gzipped = sum(p.stat().st_size for p in blob_dirs["gzip"].glob("layer-*"))
        stored = sum(p.stat().st_size for p in blob_dirs["stored"].glob("layer-*"))
        parameters["gzip_ratio"] = gzipped / stored
        setup += f" gzip (level 6) shrinks the layers to {gzipped / stored:.0%} of their size."
    return ScenarioResult(
        key=key,
        title=title,
        setup=setup.format(size=size_mib, layers=len(image.layers), image=spec.describe()),
        rows=[Row(c.name, c.role, samples[c.name]) for c in contenders],
        limit=next(c.name for c in contenders if c.role == "limit"),
        peers=[c.name for c in contenders if c.role == "peer"],
        size_mib=size_mib,
        note_header="layers sent as",
        parameters=parameters,
    )


PUSH_SETUP = (
    "Push one `docker save` archive ({size:.0f} MiB in {layers} layers: {image}; layers stored "
    "uncompressed, Docker 25+ layout) to a new, empty local registry per run. skopeo gzips "
    "uncompressed layers for a registry (its default); everything else sends them as stored. "
    "registry-api-v2-client reads each blob whole into memory and sends 5 MB `PATCH` chunks; "
    "python-dxf pushes one blob after another. curl gets the blobs as ready files with their "
    "digests (one curl per blob, all at once)."
)

WAN_SETUP = (
    "Push one archive ({size:.0f} MiB in {layers} layers: {image}) through a proxy on loopback "
    'that adds {link}. This project compresses with `compression="gzip"` while streaming; '
    "skopeo gzips by default; the limit is curl sending layers gzipped beforehand (no "
    "compression time, fewest bytes)."
)


def run_push(
    suite: Suite, *, key: str, title: str, spec: ImageSpec, warm_up: bool
) -> ScenarioResult:
    """Push ``spec`` on loopback with every contender."""
    return _scenario(
        suite,
        key=key,
        title=title,
        setup=PUSH_SETUP,
        spec=spec,
        contenders=LOOPBACK_CONTENDERS,
        link=None,
        warm_up=warm_up,
    )


def run_wan(suite: Suite, *, spec: ImageSpec, link: WanLink) -> ScenarioResult:
    """Push ``spec`` over the simulated link, compressing with gzip."""
    return _scenario(
        suite,
        key="wan",
        title=f"Push {spec.text_mib + spec.random_mib:g} MiB over a simulated WAN",
        setup=WAN_SETUP.replace("{link}", link.describe()),
        spec=spec,
        contenders=WAN_CONTENDERS,
        link=link,
        warm_up=False,
    )

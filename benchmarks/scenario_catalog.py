"""Listing a catalog of thousands of repositories.

The registry is populated once, on disk: one tiny image is pushed for real, then its repository
directory is copied under every other name. The copies share the one set of blobs, as
repositories holding the same image do, and each is a complete repository (the check below
reads the last one's image). Every run gets a new registry on a fresh copy of that storage; the
contender prints the names it listed, which must be every repository exactly once.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import Any

from _common import (
    CONTENDERS_DIR,
    Contender,
    Sample,
    Suite,
    copy_tree,
    fresh_registry,
    log,
    require_binary,
    run_rounds,
    run_timed,
    run_tool,
)
from _images import ImageSpec, build_archive
from _report import Row, ScenarioResult
from _venvs import DXF, PROJECT, venv_python

import registry_sync

__all__ = ["repository_names", "run_catalog"]

REPOSITORIES_PATH = ("docker", "registry", "v2", "repositories")
CURL = "curl loop, n=1000 (limit)"
DXF_DEFAULT = f"{DXF.name}, list_repos()"
DXF_LARGE = f"{DXF.name}, batch_size=1000"


@dataclass(frozen=True)
class Target:
    """The registry to list."""

    url: str
    host: str


def repository_names(count: int) -> list[str]:
    """``count`` names in namespaces of 100, in catalog order: team00/app00, team00/app01..."""
    return [f"team{number // 100:02d}/app{number % 100:02d}" for number in range(count)]


# Each of this project's contenders is a one-liner: `python -c CODE URL`, printing the names.
_LIST = "import asyncio, sys, registry_async; names = asyncio.run(registry_async.list_repositories"
_PRINT = "; sys.stdout.write(''.join(n + '\\n' for n in names))"
_ASYNCIO = _LIST + "(sys.argv[1]))" + _PRINT
_ASYNCIO_100 = _LIST + "(sys.argv[1], page_size=100))" + _PRINT
_SYNC = "import sys, registry_sync; names = registry_sync.list_repositories(sys.argv[1])" + _PRINT


def _python(code: str) -> Any:
    def command(t: Target) -> list[str]:
        return [str(venv_python(PROJECT)), "-c", code, t.url]

    return command


def _curl(t: Target) -> list[str]:
    return ["bash", str(CONTENDERS_DIR / "curl_catalog.sh"), t.url, "1000"]


def _dxf(*page_size: str) -> Any:
    def command(t: Target) -> list[str]:
        script = CONTENDERS_DIR / "dxf_catalog.py"
        return [str(venv_python(DXF)), str(script), t.host, *page_size]

    return command


CONTENDERS: tuple[Contender[Target], ...] = (
    Contender("asyncio", "registry_async (asyncio)", "ours", _python(_ASYNCIO)),
    Contender("sync", "registry_sync", "ours", _python(_SYNC)),
    Contender(
        "asyncio-100", "registry_async (asyncio), page_size=100", "ours", _python(_ASYNCIO_100)
    ),
    Contender("dxf", DXF_DEFAULT, "peer", _dxf()),
    Contender("dxf-1000", DXF_LARGE, "peer", _dxf("1000")),
    Contender("curl", CURL, "limit", _curl),
)

SETUP = (
    "List the catalog of a local registry holding {count:,} repositories ({namespaces} "
    "namespaces of up to 100), every name exactly once. distribution walks its whole repository "
    "tree for every page, so the page size decides the cost: this project now asks for "
    "`n=1000` first (the row with `page_size=100` shows the cost of distribution's default "
    "size), python-dxf's `list_repos()` sends no `n` (pages of 100) unless given a "
    "`batch_size`; curl asks for 1,000 a page in a shell loop."
)


def _seed(suite: Suite, names: list[str]) -> None:
    """A registry storage holding ``names``, each a copy of one pushed tiny image."""
    directory = suite.work / "catalog"
    directory.mkdir(parents=True, exist_ok=True)
    archive = build_archive(directory / "tiny.tar", ImageSpec(0, 1 / 256, 1), "bench.example/t:1")
    seed = suite.seeds / "catalog"
    with fresh_registry(suite.storage_dir) as server:
        registry_sync.push_docker_tar(str(archive), server.url, names[0], "latest")
        copy_tree(server.storage_dir, seed)
    root = seed.joinpath(*REPOSITORIES_PATH)
    for name in names[1:]:
        shutil.copytree(root / names[0], root / name, copy_function=shutil.copy2)
    with fresh_registry(suite.storage_dir, seed) as server:
        raw = run_tool(
            [
                require_binary("skopeo"),
                "inspect",
                "--tls-verify=false",
                "--raw",
                f"docker://{server.host}/{names[-1]}:latest",
            ]
        )
        if "layers" not in json.loads(raw):
            raise RuntimeError(f"the copied repository {names[-1]} has no image: {raw}")


def run_catalog(suite: Suite, *, count: int, warm_up: bool) -> ScenarioResult:
    """List ``count`` repositories with every contender."""
    title = f"Catalog of {count:,} repositories"
    names = repository_names(count)
    log(f"{title}: populating the registry storage ...")
    _seed(suite, names)

    def measure(contender: Contender[Target], run: str) -> Sample:
        with fresh_registry(suite.storage_dir, suite.seeds / "catalog") as server:
            timing = run_timed(
                contender.command(Target(server.url, server.host)), suite.env, contender.name
            )
        listed = timing.stdout.decode().splitlines()
        if sorted(listed) != names:
            missing = len(set(names) - set(listed))
            raise RuntimeError(
                f"{contender.name} listed {len(listed)} names ({missing} missing), not {count}"
            )
        return Sample(timing.seconds, timing.cpu_seconds, timing.peak_rss_mib)

    samples = run_rounds(CONTENDERS, repeat=suite.repeat, warm_up=warm_up, measure=measure)
    namespaces = -(-count // 100)
    return ScenarioResult(
        key="catalog",
        title=title,
        setup=SETUP.format(count=count, namespaces=namespaces),
        rows=[Row(c.name, c.role, samples[c.name]) for c in CONTENDERS],
        limit=CURL,
        peers=[DXF_DEFAULT, DXF_LARGE],
        parameters={"repositories": count},
    )

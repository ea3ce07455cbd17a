"""Profile one library call with cProfile, worker threads included: where its time goes.

Usage: ``python benchmarks/profile_call.py CALL REGISTRY_URL [ARCHIVE] [--top N]``

``CALL`` is one of ``push-asyncio``, ``push-sync`` (push ``ARCHIVE`` as ``bench/profile:1``),
``pull-asyncio``, ``pull-sync`` (pull ``bench/pull:latest`` into a temporary file) and
``catalog-asyncio``, ``catalog-sync``. Run it with the interpreter of the environment to
profile (``.bench/venvs/project/bin/python``, made by the benchmark, is this project as
installed) against a registry holding what the call needs. It prints the import and call
times, then the functions with the most time of their own, summed over the main thread and
every worker thread (the blocking driver and the async driver's file work run in threads,
which cProfile alone does not see). A profiler slows every Python function call, so compare
shares, not seconds, with the benchmark's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CALLS = (
    "push-asyncio",
    "push-sync",
    "pull-asyncio",
    "pull-sync",
    "catalog-asyncio",
    "catalog-sync",
)


def _profile_threads(profiles: list[cProfile.Profile]) -> None:
    """Give every thread started from now on a profiler of its own, kept in ``profiles``.

    It wraps the private ``Thread._bootstrap_inner``, which calls ``run()``: worker threads
    (anyio's among them) override ``run`` itself.
    """
    bootstrap = getattr(threading.Thread, "_bootstrap_inner")  # noqa: B009

    def profiled(self: threading.Thread) -> None:
        profile = cProfile.Profile()
        profiles.append(profile)
        profile.runcall(bootstrap, self)

    setattr(threading.Thread, "_bootstrap_inner", profiled)  # noqa: B010


def _call(name: str, url: str, archive: str | None, dest: str) -> Callable[[], Any]:
    import registry_async
    import registry_sync

    calls: dict[str, Callable[[], Any]] = {
        "push-asyncio": lambda: asyncio.run(
            registry_async.push_docker_tar(str(archive), url, "bench/profile", "1")
        ),
        "push-sync": lambda: registry_sync.push_docker_tar(str(archive), url, "bench/profile", "1"),
        "pull-asyncio": lambda: asyncio.run(
            registry_async.pull_image(url, "bench/pull", "latest", dest)
        ),
        "pull-sync": lambda: registry_sync.pull_image(url, "bench/pull", "latest", dest),
        "catalog-asyncio": lambda: asyncio.run(registry_async.list_repositories(url)),
        "catalog-sync": lambda: registry_sync.list_repositories(url),
    }
    return calls[name]


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("call", choices=CALLS)
    parser.add_argument("url")
    parser.add_argument("archive", nargs="?")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    if args.call.startswith("push") and args.archive is None:
        parser.error("a push needs an ARCHIVE")
    with tempfile.TemporaryDirectory(prefix="profile-") as directory:
        started = time.perf_counter()
        call = _call(args.call, args.url, args.archive, str(Path(directory) / "pulled.tar"))
        imported = time.perf_counter()
        profiles: list[cProfile.Profile] = []
        _profile_threads(profiles)
        main_thread = cProfile.Profile()
        main_thread.runcall(call)
        done = time.perf_counter()
    print(f"{args.call}: import {imported - started:.3f} s, call {done - imported:.3f} s")
    used = [main_thread, *(p for p in profiles if p.getstats())]
    print(f"(cProfile over the main thread and {len(used) - 1} worker threads)")
    pstats.Stats(*used).sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

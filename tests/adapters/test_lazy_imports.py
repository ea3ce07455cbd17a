"""Importing a package loads no HTTP stack: httpx (and ssl, which it brings) come with the first
client, so `import registry_async` stays quick (docs/performance.md, start-up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFERRED = ("httpx", "httpcore", "ssl")


def loaded_after(code: str) -> set[str]:
    """Which of `DEFERRED` a fresh interpreter has loaded after running `code`."""
    probe = f"{code}; import sys; print(*[m for m in {DEFERRED!r} if m in sys.modules])"
    answer = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(answer.stdout.split())


@pytest.mark.parametrize(
    "package", ["registry_async", "registry_sync", "registry_api_v2_client", "registry_io"]
)
def test_importing_a_package_loads_no_http_stack(package: str) -> None:
    assert loaded_after(f"import {package}") == set()


@pytest.mark.parametrize(
    "client", ["registry_async.AsyncRegistryClient", "registry_sync.RegistryClient"]
)
def test_a_client_brings_the_http_stack(client: str) -> None:
    package = client.rpartition(".")[0]
    assert "httpx" in loaded_after(f"import {package}; {client}(docker_config=False)")

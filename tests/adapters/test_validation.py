"""Bad input is refused before any request, as a `ValidationError`: each case that once
escaped as another exception (or failed only after a blob was stored).

The registry URL points at a loopback port nothing listens on: a check made before any
request raises `ValidationError`, one made after would meet `ConnectFailure` first.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

import registry_async
import registry_sync as typed_sync
from registry_proto import ValidationError
from tests.adapters.mock_registry import closed_port
from tests.fixture_archives import fixture_path

UNREACHABLE = f"http://127.0.0.1:{closed_port()}"
ARCHIVE = fixture_path("a-legacy-docker-save-almostempty.tar")
NO_CONFIG: dict[str, Any] = {"docker_config": False}
# Called with what their signatures refuse, so seen untyped.
registry_sync: Any = typed_sync
ASYNC: Any = registry_async


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: registry_sync.push_docker_tar("a\0b", UNREACHABLE, "app", "1"), "NUL"),
        (
            lambda: registry_sync.pull_image(UNREACHABLE, "app", "1", "out\0.tar", **NO_CONFIG),
            "NUL",
        ),
        (lambda: registry_sync.list_tags("http://" + "a" * 70_000, "app"), "longer than"),
        (lambda: registry_sync.list_tags("http://exa mple:5000", "app"), "space"),
        (lambda: registry_sync.list_tags("http://ex\0ample", "app"), "control character"),
        (lambda: registry_sync.list_tags("../../etc/passwd", "app"), "invalid host"),
        (lambda: registry_sync.list_tags("http://-bad-:5000", "app"), "invalid host"),
        (lambda: registry_sync.list_tags(UNREACHABLE, "app", timeout="abc"), "timeout"),
        (lambda: registry_sync.list_tags(UNREACHABLE, "app", timeout=10**30), "timeout"),
        (lambda: registry_sync.list_tags(UNREACHABLE, "app", client_cert=3), "client_cert"),
        (lambda: registry_sync.list_tags(UNREACHABLE, "app", verify="ca\0.pem"), "NUL"),
        (lambda: registry_sync.list_tags(UNREACHABLE, "app", pagesize=5), "pagesize"),
        (lambda: registry_sync.RegistryClient(timeout_s=5), "timeout_s"),
        (lambda: registry_sync.RegistryClient().ping(UNREACHABLE, verbose=True), "verbose"),
        (lambda: registry_sync.get_image_info(UNREACHABLE, "app"), "reference"),
        (lambda: registry_sync.extract_original_tags(), "tar_path"),
        (lambda: registry_sync.extract_original_tags(ARCHIVE, "extra"), "argument"),
        (
            lambda: registry_sync.push_docker_tar(ARCHIVE, UNREACHABLE, "app", "1", progress=5),
            "progress",
        ),
        (
            lambda: registry_sync.copy_image(UNREACHABLE, "a", "1", UNREACHABLE, "b", progress=5),
            "progress",
        ),
    ],
)
def test_bad_input_is_refused_before_any_request(call: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        call()


def test_the_async_functions_refuse_the_same() -> None:
    async def main() -> None:
        with pytest.raises(ValidationError, match="progress"):
            await ASYNC.push_docker_tar(ARCHIVE, UNREACHABLE, "app", "1", progress=5)
        with pytest.raises(ValidationError, match="pagesize"):
            await ASYNC.list_tags(UNREACHABLE, "app", pagesize=5)

    anyio.run(main)


@pytest.mark.parametrize("answer", ["[]", '"a string"', "[[[[" * 10_000])
def test_a_credential_helper_answering_no_object_is_refused(
    answer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helper = tmp_path / "docker-credential-odd"
    helper.write_text(f"#!{sys.executable}\nprint({answer!r})\n")
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credsStore": "odd"}))

    with pytest.raises(ValidationError, match="docker-credential-odd"):
        registry_sync.list_tags(UNREACHABLE, "app", docker_config=config)

"""Only the library's errors escape its public functions, whatever they are given.

Every public function of `registry_sync` (and some of `registry_async`, under asyncio) is
called with hostile arguments: wrong types, NUL bytes, huge numbers and strings, unknown
keywords, options that make no sense. It either returns or raises a `RegistryProtoError`.

No request leaves the machine: every registry URL drawn is either refused before any request
or points at a loopback port nothing listens on, and docker's configuration is an empty one.
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import registry_async
import registry_sync
from registry_io import ClientOperations
from registry_io._settings import ClientOptions
from registry_proto import RegistryProtoError
from registry_proto.operations import PushArgs
from tests.adapters.mock_registry import closed_port
from tests.fixture_archives import fixture_path

UNREACHABLE = f"http://127.0.0.1:{closed_port()}"
ARCHIVE = str(fixture_path("a-legacy-docker-save-almostempty.tar"))

HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "é",
    "x" * 70_000,
    "../../etc/passwd",
    "UPPER",
    "a:b",
    "sha256:" + "0" * 64,
    "foo:bar",
    "linux/amd64",
    "os/arch/variant/extra",
    "latest",
    "-tag",
]
OTHER_VALUES: list[Any] = [
    None,
    0,
    -1,
    10**30,
    math.nan,
    math.inf,
    True,
    b"bytes",
    [],
    {},
    (1, 2),
    object(),
    Path("a\x00b"),
]
URLS = [
    UNREACHABLE,
    f"{UNREACHABLE}/prefix/v2/",
    UNREACHABLE.replace("http", "HTTPS"),
    "127.0.0.1:1",
    "http://127.0.0.1:99999",
    "http://[::1",
    "http://user:secret@127.0.0.1:1",
    "http://" + "a" * 70_000,
    "http://exa mple",
    "http://ex\x00ample",
    "http://-bad-.invalid\x7f",
    "http://[::1]:1",
    "ftp://127.0.0.1",
    "",
    None,
    7,
]


def _paths(tmp: Path) -> list[Any]:
    garbage = tmp / "garbage.tar"
    garbage.write_bytes(b"not a tar archive" * 100)
    return [
        ARCHIVE,
        Path(ARCHIVE),
        str(garbage),
        str(tmp),
        str(tmp / "missing.tar"),
        str(tmp / "out.tar"),
        "a\x00b",
        "",
        b"/bytes/path",
        3,
        None,
    ]


def _values(tmp: Path, name: str) -> st.SearchStrategy[Any]:
    """What to pass as the argument called `name`."""
    if "registry_url" in name:
        return st.sampled_from(URLS)
    if name in ("tar_path", "destination", "docker_config", "verify", "client_cert"):
        return st.sampled_from([*_paths(tmp), True, False, ("a", "b"), 1.5])
    if name == "progress":
        return st.sampled_from([None, 5, "print", lambda event: None, object()])
    if name == "registry_credentials":
        return st.sampled_from(
            [None, {}, [], "x", {"127.0.0.1:1": ("u", "p")}, {"h": "up"}, {3: (1, 2)}]
        )
    if name == "timeout":
        return st.sampled_from(
            [None, "abc", -1, 0, 1e-6, 10**30, math.nan, True, [], httpx.Timeout(1.0)]
        )
    return st.one_of(
        st.sampled_from([*HOSTILE_TEXT, *OTHER_VALUES]),
        st.text(max_size=12),
        st.integers(min_value=-3, max_value=300),
    )


def _keywords(function: Callable[..., Any]) -> list[str]:
    named = [
        p.name for p in inspect.signature(function).parameters.values() if p.kind is p.KEYWORD_ONLY
    ]
    options = [*ClientOptions.__annotations__, *PushArgs.__annotations__]
    return [*named, *options, "unknown_option", "tag_name"]


def _call_args(
    data: st.DataObject, tmp: Path, function: Callable[..., Any]
) -> tuple[list[Any], dict[str, Any]]:
    parameters = [
        p
        for p in inspect.signature(function).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    count = data.draw(st.integers(0, len(parameters) + 1), label="positional count")
    names = [p.name for p in parameters] + ["extra"]
    positional = [data.draw(_values(tmp, name), label=name) for name in names[:count]]
    chosen = data.draw(
        st.lists(st.sampled_from(_keywords(function)), max_size=3, unique=True), label="keywords"
    )
    keywords = {name: data.draw(_values(tmp, name), label=name) for name in chosen}
    return positional, keywords


def _run_blocking(function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    result = function(*args, **kwargs)
    return list(result) if isinstance(result, Iterator) else result


async def _run_async(function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    result = function(*args, **kwargs)
    if hasattr(result, "__aiter__"):
        return [name async for name in result]
    return await result if inspect.isawaitable(result) else result


@pytest.fixture(autouse=True)
def no_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty docker configuration: no credential helper of this machine ever runs."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))


BLOCKING = [*ClientOperations.names(), "extract_original_tags", "get_primary_tag"]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@pytest.mark.parametrize("name", BLOCKING)
@given(data=st.data())
def test_the_blocking_functions_raise_only_library_errors(
    name: str, data: st.DataObject, tmp_path: Path
) -> None:
    function = getattr(registry_sync, name)
    args, kwargs = _call_args(data, tmp_path, function)
    with contextlib.suppress(RegistryProtoError):
        _run_blocking(function, args, kwargs)


@FUZZ
@pytest.mark.parametrize("name", ["push_docker_tar", "list_tags", "pull_image", "copy_image"])
@given(data=st.data())
def test_the_async_functions_raise_only_library_errors(
    name: str, data: st.DataObject, tmp_path: Path
) -> None:
    function = getattr(registry_async, name)
    args, kwargs = _call_args(data, tmp_path, function)
    with contextlib.suppress(RegistryProtoError):
        anyio.run(_run_async, function, args, kwargs, backend="asyncio")


@FUZZ
@given(data=st.data())
def test_the_clients_refuse_bad_options_with_library_errors(
    data: st.DataObject, tmp_path: Path
) -> None:
    chosen = data.draw(st.lists(st.sampled_from(list(ClientOptions.__annotations__)), max_size=3))
    options = {name: data.draw(_values(tmp_path, name), label=name) for name in chosen}
    with contextlib.suppress(RegistryProtoError), registry_sync.RegistryClient(**options) as c:
        c.list_tags(UNREACHABLE, "app")

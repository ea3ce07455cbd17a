"""Logging through the standard `logging` module, in every driver: a DEBUG line per request
without secrets, INFO for retries and token fetches, nothing at all unless configured."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from registry_async._driver import AsyncDriver
from registry_proto import Authenticator, Credentials, Flow, RegistryEndpoint, RetryPolicy
from registry_proto import operations as ops
from registry_proto._auth import with_auth
from registry_proto._retry import with_retries
from registry_proto.testing import FakeRegistry
from registry_proto.testing._faults import Faults
from registry_sync._driver import SyncDriver
from tests.adapters.mock_registry import MockRegistry

T = TypeVar("T")

REGISTRY = "http://registry.test:5000"
ENDPOINT = RegistryEndpoint.parse(REGISTRY)
REALM = "https://auth.test/token?scope=x&access_token=realm-secret"
TOKEN = "s3cr3t-token-value"
PASSWORD = "hunter2-password"
MANIFEST = json.dumps({"schemaVersion": 2, "layers": []}).encode()


def _registry(faults: Faults | None = None) -> FakeRegistry:
    fake = FakeRegistry(faults=faults)
    fake.add_manifest("app", "application/vnd.oci.image.manifest.v1+json", MANIFEST, tag="1")
    return fake


class TokenProtected:
    """A `MockRegistry` that wants a Bearer token, handed out by a token server at `REALM`."""

    def __init__(self, fake: FakeRegistry) -> None:
        self.mock = MockRegistry(fake)

    def _gate(self, request: httpx.Request) -> httpx.Response | None:
        if request.url.host == "auth.test":
            return httpx.Response(200, json={"token": TOKEN, "expires_in": 300})
        if request.headers.get("Authorization") == f"Bearer {TOKEN}":
            return None
        challenge = f'Bearer realm="{REALM}",service="registry.test"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    def handle(self, request: httpx.Request) -> httpx.Response:
        return self._gate(request) or self.mock.handle(request)

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        return self._gate(request) or await self.mock.ahandle(request)


Handler = Callable[[httpx.Request], httpx.Response]
AsyncHandler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


def _run_sync(flow: Flow[T], handler: Handler) -> T:
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        return SyncDriver(client).run(flow)


async def _run_async(flow: Flow[T], handler: AsyncHandler) -> T:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        return await AsyncDriver(client).run(flow)


def _prepared(flow: Flow[T], *, base_delay: float = 0.01) -> Flow[T]:
    """`flow` as a client runs it: authenticated as alice, then retried."""
    authenticator = Authenticator(ENDPOINT, Credentials("alice", PASSWORD))
    return with_retries(with_auth(flow, authenticator), RetryPolicy(base_delay=base_delay))


def _records(caplog: pytest.LogCaptureFixture, topic: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == f"registry_api_v2_client.{topic}"]


def _check_retries(caplog: pytest.LogCaptureFixture) -> None:
    retries = _records(caplog, "retry")
    assert [r.levelno for r in retries] == [logging.INFO, logging.INFO]
    assert [r.reason for r in retries] == ["HTTP 503", "HTTP 503"]  # type: ignore[attr-defined]
    assert [r.delay for r in retries] == [0.01, 0.02]  # type: ignore[attr-defined]
    assert [r.getMessage() for r in retries] == [
        f"GET {REGISTRY}/v2/app/tags/list?n=1000: HTTP 503; trying again in 0.01s (try 2 of 4)",
        f"GET {REGISTRY}/v2/app/tags/list?n=1000: HTTP 503; trying again in 0.02s (try 3 of 4)",
    ]


def _faulty() -> FakeRegistry:
    faults = Faults()
    faults.fail_next(503, method="GET", path_contains="/tags/list", times=2)
    return _registry(faults)


def test_each_retry_is_logged_with_reason_and_delay_sync(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="registry_api_v2_client")
    tags = _run_sync(_prepared(ops.list_tags(REGISTRY, "app")), MockRegistry(_faulty()).handle)
    assert tags == ["1"]
    _check_retries(caplog)


@pytest.mark.anyio
async def test_each_retry_is_logged_with_reason_and_delay_async(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="registry_api_v2_client")
    flow = _prepared(ops.list_tags(REGISTRY, "app"))
    assert await _run_async(flow, MockRegistry(_faulty()).ahandle) == ["1"]
    _check_retries(caplog)


def _check_token_and_requests(caplog: pytest.LogCaptureFixture) -> None:
    fetched = _records(caplog, "auth")
    assert len(fetched) == 1
    message = fetched[0].getMessage()
    assert message.startswith("fetching a token from auth.test for repository:app:pull")
    assert "as alice" in message
    assert fetched[0].realm == "auth.test"  # type: ignore[attr-defined]
    lines = _records(caplog, "http")
    assert {r.levelno for r in lines} == {logging.DEBUG}
    shown = [r.getMessage() for r in lines]
    assert shown[0].startswith(f"GET {REGISTRY}/v2/app/tags/list?n=1000 -> 401 in ")
    assert shown[1].startswith("GET https://auth.test/token?scope=x&access_token=[redacted]")
    assert " -> 200 in " in shown[1]
    assert shown[2].startswith(f"GET {REGISTRY}/v2/app/tags/list?n=1000 -> 200 in ")
    assert [r.status for r in lines] == [401, 200, 200]  # type: ignore[attr-defined]
    assert all(r.elapsed >= 0 for r in lines)  # type: ignore[attr-defined]
    for secret in (TOKEN, PASSWORD, "realm-secret"):
        assert secret not in caplog.text
        assert all(secret not in repr(vars(r)) for r in caplog.records)


def test_token_fetch_and_requests_are_logged_without_secrets_sync(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="registry_api_v2_client")
    handler = TokenProtected(_registry()).handle
    assert _run_sync(_prepared(ops.list_tags(REGISTRY, "app")), handler) == ["1"]
    _check_token_and_requests(caplog)


@pytest.mark.anyio
async def test_token_fetch_and_requests_are_logged_without_secrets_async(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="registry_api_v2_client")
    handler = TokenProtected(_registry()).ahandle
    assert await _run_async(_prepared(ops.list_tags(REGISTRY, "app")), handler) == ["1"]
    _check_token_and_requests(caplog)


def test_a_failed_request_is_logged_too(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="registry_api_v2_client")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(Exception, match="connection refused"):
        _run_sync(_prepared(ops.list_tags(REGISTRY, "app")), refuse)
    (line,) = _records(caplog, "http")
    assert line.getMessage().startswith(f"GET {REGISTRY}/v2/app/tags/list?n=1000 failed after ")
    assert "connection refused" in line.getMessage()


def test_notices_never_reach_a_progress_listener(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="registry_api_v2_client")
    seen: list[Any] = []
    with httpx.Client(transport=httpx.MockTransport(MockRegistry(_faulty()).handle)) as client:
        SyncDriver(client, on_event=seen.append).run(_prepared(ops.list_tags(REGISTRY, "app")))
    assert len(_records(caplog, "retry")) == 2
    assert seen == []


SILENT = textwrap.dedent(
    """
    from tests.adapters.test_logging import MockRegistry, _faulty, _prepared, _run_sync
    from registry_proto import operations as ops

    flow = _prepared(ops.list_tags("http://registry.test:5000", "app"), base_delay=0.0)
    assert _run_sync(flow, MockRegistry(_faulty()).handle) == ["1"]
    """
)


def test_the_library_is_silent_unless_logging_is_configured() -> None:
    """Nothing on stderr (nor stdout) from a run that retries, when the application has not
    configured logging: the top logger's NullHandler keeps Python's last-resort handler out."""
    done = subprocess.run(
        [sys.executable, "-c", SILENT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == ""
    assert "registry_api_v2_client" in logging.Logger.manager.loggerDict
    top = logging.getLogger("registry_api_v2_client")
    assert any(isinstance(h, logging.NullHandler) for h in top.handlers)

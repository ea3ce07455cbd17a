"""Both drivers stop reading an answer at the request's cap, and the retry wrapper leaves it."""

from __future__ import annotations

import random

import httpx
import pytest

from registry_async._driver import AsyncDriver
from registry_io._settings import Settings
from registry_proto import Flow, Request, ResponseTooLarge, http, with_retries
from registry_sync._driver import SyncDriver

URL = "http://registry.test/v2/app/manifests/1"


class _Counting:
    """An httpx handler answering every request with a body one byte over the cap."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(200, content=b"x" * 1025)


def _fetch() -> Flow[bytes]:
    response = yield from http(Request(method="GET", url=URL, max_response_bytes=1024))
    return response.body


def test_the_sync_driver_refuses_an_oversized_answer_once() -> None:
    handler = _Counting()
    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        pytest.raises(ResponseTooLarge, match="larger than 1024 bytes"),
    ):
        SyncDriver(client).run(with_retries(_fetch()))
    assert handler.calls == 1


@pytest.mark.anyio
async def test_the_async_driver_refuses_an_oversized_answer_once() -> None:
    handler = _Counting()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ResponseTooLarge, match="larger than 1024 bytes"):
            await AsyncDriver(client).run(with_retries(_fetch()))
    assert handler.calls == 1


def test_the_clients_retry_with_random_jitter() -> None:
    policy = Settings.from_options(retries=2, docker_config=False).retry
    assert policy.attempts == 3
    assert policy.jitter is random.random

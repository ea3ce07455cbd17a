"""The real drivers (asyncio, trio, blocking) over `httpx.MockTransport` and the in-memory
registry: the same results and the same traffic as the pure driver, the same error types from
`parallel()`, and cancellation that closes the flow."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Generator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest

import registry_sync
from registry_async._driver import AsyncDriver
from registry_proto import (
    Flow,
    ManifestUnknown,
    Request,
    Response,
    ValidationError,
    http,
    parallel,
)
from registry_proto._errors import error_from_response
from registry_proto.operations import push_docker_tar, push_docker_tar_with_all_original_tags
from registry_proto.testing import FakeRegistry, PureDriver
from registry_sync._driver import SyncDriver
from tests.adapters.mock_registry import MockRegistry
from tests.fixture_archives import fixture_path

REGISTRY = "http://registry.test:5000"
ARCHIVE = "e-skopeo-docker-archive-untagged.tar"
TWO_IMAGES = "e-docker-save-two-images-symlinked-layer.tar"

Trace = tuple[Counter[tuple[str, str]], tuple[str, str]]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """A fixture archive copied to a real file: the real drivers read disk."""
    path = tmp_path / ARCHIVE
    path.write_bytes(fixture_path(ARCHIVE).read_bytes())
    return path


def trace(fake: FakeRegistry) -> Trace:
    """Method and path of every request; order ignored except for the final one (the
    manifest), since the parallel uploads before it may interleave in any order."""

    def key(request: Request) -> tuple[str, str]:
        path = urlsplit(request.url).path
        return request.method, re.sub(r"/blobs/uploads/[^/]+$", "/blobs/uploads/<id>", path)

    keys = [key(request) for request in fake.requests]
    return Counter(keys[:-1]), keys[-1]


def pure_push(path: Path, **options: Any) -> tuple[str, FakeRegistry]:
    fake = FakeRegistry()
    driver = PureDriver(fake.handle, files={str(path): path.read_bytes()})
    digest = driver.run(push_docker_tar(str(path), REGISTRY, "app", "1", **options))
    return digest, fake


@pytest.mark.parametrize("options", [{}, {"chunk_size": 20_000}], ids=["monolithic", "chunked"])
def test_sync_driver_matches_the_pure_driver(archive: Path, options: dict[str, Any]) -> None:
    expected, pure_fake = pure_push(archive, **options)
    mock = MockRegistry()
    with httpx.Client(transport=mock.transport()) as client:
        digest = SyncDriver(client).run(
            push_docker_tar(str(archive), REGISTRY, "app", "1", **options)
        )
    assert digest == expected
    assert mock.fake.manifest("app", "1") == pure_fake.manifest("app", "1")
    assert mock.fake.blobs("app") == pure_fake.blobs("app")
    assert trace(mock.fake) == trace(pure_fake)
    assert trace(mock.fake)[1] == ("PUT", "/v2/app/manifests/1")


@pytest.mark.anyio
@pytest.mark.parametrize("options", [{}, {"chunk_size": 20_000}], ids=["monolithic", "chunked"])
async def test_async_driver_matches_the_pure_driver(archive: Path, options: dict[str, Any]) -> None:
    expected, pure_fake = pure_push(archive, **options)
    mock = MockRegistry()
    async with httpx.AsyncClient(transport=mock.async_transport()) as client:
        digest = await AsyncDriver(client).run(
            push_docker_tar(str(archive), REGISTRY, "app", "1", **options)
        )
    assert digest == expected
    assert mock.fake.manifest("app", "1") == pure_fake.manifest("app", "1")
    assert mock.fake.blobs("app") == pure_fake.blobs("app")
    assert trace(mock.fake) == trace(pure_fake)


@pytest.mark.anyio
async def test_push_every_original_tag_in_all_drivers(tmp_path: Path) -> None:
    path = tmp_path / TWO_IMAGES
    path.write_bytes(fixture_path(TWO_IMAGES).read_bytes())
    pure_fake = FakeRegistry()
    pure = PureDriver(pure_fake.handle, files={str(path): path.read_bytes()}).run(
        push_docker_tar_with_all_original_tags(str(path), REGISTRY)
    )
    sync_mock, async_mock = MockRegistry(), MockRegistry()
    with httpx.Client(transport=sync_mock.transport()) as client:
        blocking = SyncDriver(client).run(
            push_docker_tar_with_all_original_tags(str(path), REGISTRY)
        )
    async with httpx.AsyncClient(transport=async_mock.async_transport()) as async_client:
        asynchronous = await AsyncDriver(async_client).run(
            push_docker_tar_with_all_original_tags(str(path), REGISTRY)
        )
    assert pure == blocking == asynchronous
    assert len(pure) == 2
    for result in pure:
        stored = pure_fake.manifest(result.repository, result.tag)
        assert stored is not None
        assert sync_mock.fake.manifest(result.repository, result.tag) == stored
        assert async_mock.fake.manifest(result.repository, result.tag) == stored


# -- a failing child of `parallel()` -------------------------------------------------------------


def _fetch(url: str) -> Flow[int]:
    request = Request(method="GET", url=url)
    response = yield from http(request)
    if response.status != 200:
        raise error_from_response(response.status, response.body, method="GET", url=url)
    return response.status


def _parent() -> Flow[str]:
    children = [
        _fetch(f"{REGISTRY}/v2/"),
        _fetch(f"{REGISTRY}/v2/app/manifests/missing"),
        _fetch(f"{REGISTRY}/v2/"),
    ]
    try:
        yield from parallel(children, limit=3)
    except ManifestUnknown as exc:
        cause = type(exc.__cause__).__name__
        return f"{type(exc).__name__} {exc.code} {exc.status} from {cause}"
    return "no error"


EXPECTED_FAILURE = "ManifestUnknown MANIFEST_UNKNOWN 404 from ExceptionGroup"


def test_failing_child_in_the_pure_driver() -> None:
    assert PureDriver(FakeRegistry().handle).run(_parent()) == EXPECTED_FAILURE


def test_failing_child_in_the_sync_driver() -> None:
    with httpx.Client(transport=MockRegistry().transport()) as client:
        assert SyncDriver(client).run(_parent()) == EXPECTED_FAILURE


@pytest.mark.anyio
async def test_failing_child_in_the_async_driver() -> None:
    async with httpx.AsyncClient(transport=MockRegistry().async_transport()) as client:
        assert await AsyncDriver(client).run(_parent()) == EXPECTED_FAILURE


# -- cancellation --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_cancelling_the_async_driver_closes_the_flow() -> None:
    entered = anyio.Event()
    never = anyio.Event()
    log: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        entered.set()
        await never.wait()
        return httpx.Response(200)

    def flow() -> Generator[Any, Any, Response]:
        try:
            return (yield from http(Request(method="GET", url=f"{REGISTRY}/v2/")))
        finally:
            log.append("flow closed")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        driver = AsyncDriver(client)
        async with anyio.create_task_group() as group:

            async def run() -> None:
                await driver.run(flow())
                log.append("finished")  # never reached: the request never completes

            group.start_soon(run)
            await entered.wait()
            group.cancel_scope.cancel()
    assert log == ["flow closed"]


@pytest.mark.anyio
async def test_cancelling_parallel_children_closes_every_flow() -> None:
    started = 0
    all_started = anyio.Event()
    never = anyio.Event()
    log: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal started
        started += 1
        if started == 2:
            all_started.set()
        await never.wait()
        return httpx.Response(200)

    def child(name: str) -> Flow[None]:
        try:
            yield from http(Request(method="GET", url=f"{REGISTRY}/v2/{name}"))
        finally:
            log.append(f"{name} closed")

    def parent() -> Flow[None]:
        try:
            yield from parallel([child("a"), child("b"), child("c")], limit=2)
        finally:
            log.append("parent closed")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as group:
                group.start_soon(AsyncDriver(client).run, parent())
                await all_started.wait()
                scope.cancel()
    assert scope.cancelled_caught
    # The two running children (which two is up to the event loop) and the parent ran their
    # `finally`; the third never started, so it has nothing to clean up.
    assert log[-1] == "parent closed"
    assert len(log) == 3
    assert set(log[:2]) <= {"a closed", "b closed", "c closed"}
    assert len(set(log[:2])) == 2


@pytest.mark.parametrize("option", ["username", "timeout", "max_concurrency"])
def test_client_methods_refuse_client_options(option: str) -> None:
    """Client options belong to the constructor; a method names the mistake."""
    options: dict[str, Any] = {option: 1}
    with (
        registry_sync.RegistryClient(docker_config=False) as client,
        pytest.raises(ValidationError, match=option),
    ):
        client.list_tags("http://127.0.0.1:1", "app", **options)

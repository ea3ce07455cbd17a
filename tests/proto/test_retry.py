"""Retries: transient failures of repeatable requests, and whole blobs re-sent after a failure."""

from __future__ import annotations

import pytest

from registry_proto import (
    ConnectFailure,
    Request,
    Response,
    TransportFailure,
    Unavailable,
)
from registry_proto import operations as ops
from registry_proto._retry import RetryPolicy, with_retries
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._faults import Faults
from tests.proto.pure_support import REGISTRY, make_image_archive

ARCHIVE = "image.tar"
FILES = {ARCHIVE: make_image_archive([b"layer one " * 100, b"layer two " * 100])}


def test_overload_is_retried_with_backoff() -> None:
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    faults.fail_next(503, method="GET", path_contains="/tags/list", times=2)
    driver = PureDriver(fake.handle)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the repository does not exist
        driver.run(with_retries(ops.list_tags(REGISTRY, "a/b")))
    assert "NAME_UNKNOWN" in str(caught.value)
    assert driver.sleeps == [0.5, 1.0]


def test_retry_after_is_honoured_within_a_cap() -> None:
    for asked, waited in (("7", 7.0), ("3600", 60.0), ("Wed, 21 Oct 2026 07:28:00 GMT", 0.5)):
        faults = Faults()
        fake = FakeRegistry(faults=faults)
        faults.fail_next(429, path_contains="/tags/list", headers={"Retry-After": asked})
        driver = PureDriver(fake.handle)
        with pytest.raises(Exception):  # noqa: B017, PT011 - NAME_UNKNOWN once through
            driver.run(with_retries(ops.list_tags(REGISTRY, "a/b")))
        assert driver.sleeps == [waited]


def test_attempts_run_out() -> None:
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    faults.fail_next(503, times=10)
    driver = PureDriver(fake.handle)
    with pytest.raises(Unavailable):
        driver.run(with_retries(ops.list_tags(REGISTRY, "a/b"), RetryPolicy(attempts=3)))
    assert len(driver.sleeps) == 2
    assert len(fake.exchanges) == 3


def test_a_500_is_an_answer_not_an_accident() -> None:
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    faults.fail_next(500)
    driver = PureDriver(fake.handle)
    with pytest.raises(Exception):  # noqa: B017, PT011
        driver.run(with_retries(ops.list_tags(REGISTRY, "a/b")))
    assert driver.sleeps == []


def _flaky(failures: list[Exception]) -> object:
    fake = FakeRegistry()

    def handle(request: Request) -> Response:
        if failures:
            raise failures.pop(0)
        return fake.handle(request)

    return handle


def test_broken_connections_are_retried_but_refused_ones_are_not() -> None:
    handle = _flaky([TransportFailure("reset"), TransportFailure("reset")])
    driver = PureDriver(handle)  # type: ignore[arg-type]
    assert driver.run(with_retries(ops.check_registry_connectivity(REGISTRY))) is True
    assert driver.sleeps == [0.5, 1.0]

    handle = _flaky([ConnectFailure("refused")])
    driver = PureDriver(handle)  # type: ignore[arg-type]
    with pytest.raises(ConnectFailure):
        driver.run(with_retries(ops.ping(REGISTRY)))
    assert driver.sleeps == []


def test_blob_bodies_are_not_retried_by_request_but_whole() -> None:
    """A 503 on the PUT that carries a layer re-sends that blob through a new session."""
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    faults.fail_next(503, method="PUT", path_contains="/blobs/uploads/")
    driver = PureDriver(fake.handle, files=FILES)
    digest = driver.run(
        with_retries(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1", max_concurrency=1))
    )
    assert fake.manifest("app", "1") is not None
    assert digest.startswith("sha256:")
    puts = [r for r in driver.requests if r.method == "PUT" and "/blobs/uploads/" in r.url]
    posts = [r for r in driver.requests if r.method == "POST"]
    assert len(puts) == 4  # three blobs, one of them twice
    assert len(posts) == 4  # the failed session was replaced
    assert any(r.method == "DELETE" for r in driver.requests)  # and abandoned


def test_a_blob_that_keeps_failing_fails_the_push_without_a_manifest() -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    faults.fail_next(502, method="PUT", path_contains="/blobs/uploads/", times=50)
    driver = PureDriver(fake.handle, files=FILES)
    with pytest.raises(Exception) as caught:  # noqa: PT011
        driver.run(with_retries(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1")))
    assert "502" in str(caught.value)
    assert fake.manifest("app", "1") is None

"""Retries: one policy decides for single requests and for whole blobs alike."""

from __future__ import annotations

import contextlib
import itertools
import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry_proto import (
    ConnectFailure,
    Flow,
    Headers,
    RegistryError,
    Request,
    Response,
    ResponseTooLarge,
    TimedOut,
    TransportFailure,
    Unavailable,
    http,
)
from registry_proto import operations as ops
from registry_proto._retry import RetryPolicy, RetryWanted, with_retries
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._faults import Faults
from tests.proto.pure_support import REGISTRY, make_image_archive

ARCHIVE = "image.tar"
FILES = {ARCHIVE: make_image_archive([b"layer one " * 100, b"layer two " * 100])}
UPLOADS = "/blobs/uploads/"

Handler = Callable[[Request], Response]


def _push(
    fake: FakeRegistry, policy: RetryPolicy | None = None, *, chunk_size: int | None = None
) -> PureDriver:
    """Push the archive one blob at a time under `with_retries`; the driver, however it ended."""
    driver = PureDriver(fake.handle, files=FILES)
    flow = ops.push_docker_tar(
        ARCHIVE, REGISTRY, "app", "1", max_concurrency=1, chunk_size=chunk_size
    )
    with contextlib.suppress(RegistryError):  # the tests look at what was sent
        driver.run(with_retries(flow, policy))
    return driver


def _sent(driver: PureDriver, method: str, path: str = UPLOADS) -> int:
    return len([r for r in driver.requests if r.method == method and path in r.url])


# -- single requests -----------------------------------------------------------------------------


def test_overload_is_retried_with_backoff() -> None:
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    faults.fail_next(503, method="GET", path_contains="/tags/list", times=2)
    driver = PureDriver(fake.handle)
    with pytest.raises(RegistryError, match="NAME_UNKNOWN"):  # the repository does not exist
        driver.run(with_retries(ops.list_tags(REGISTRY, "a/b")))
    assert driver.sleeps == [0.5, 1.0]


def test_retry_after_is_honoured_within_a_cap() -> None:
    for asked, waited in (("7", 7.0), ("3600", 60.0), ("Wed, 21 Oct 2026 07:28:00 GMT", 0.5)):
        faults = Faults()
        fake = FakeRegistry(faults=faults)
        faults.fail_next(429, path_contains="/tags/list", headers={"Retry-After": asked})
        driver = PureDriver(fake.handle)
        with pytest.raises(RegistryError, match="NAME_UNKNOWN"):
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


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
def test_what_may_go_away_is_asked_again(status: int) -> None:
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    faults.fail_next(status, method="GET", path_contains="/tags/list", times=2)
    driver = PureDriver(fake.handle)
    with pytest.raises(RegistryError, match="NAME_UNKNOWN"):  # the third answer is the real one
        driver.run(with_retries(ops.list_tags(REGISTRY, "a/b")))
    assert _sent(driver, "GET", "/tags/list") == 3
    assert driver.sleeps == [0.5, 1.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 500])
def test_an_answer_is_not_asked_again(status: int) -> None:
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    faults.fail_next(status, method="GET", path_contains="/tags/list", times=10)
    driver = PureDriver(fake.handle)
    # A page size of the caller's own: a 400 is not taken for a refused default size.
    with pytest.raises(RegistryError) as caught:
        driver.run(with_retries(ops.list_tags(REGISTRY, "a/b", page_size=50)))
    assert caught.value.status == status
    assert _sent(driver, "GET", "/tags/list") == 1
    assert driver.sleeps == []


def _flaky(failures: list[Exception], handler: Handler) -> Handler:
    def handle(request: Request) -> Response:
        if failures:
            raise failures.pop(0)
        return handler(request)

    return handle


def test_broken_connections_are_retried_but_refused_ones_are_not() -> None:
    handle = _flaky([TransportFailure("reset"), TransportFailure("reset")], FakeRegistry().handle)
    driver = PureDriver(handle)
    assert driver.run(with_retries(ops.check_registry_connectivity(REGISTRY))) is True
    assert driver.sleeps == [0.5, 1.0]

    driver = PureDriver(_flaky([ConnectFailure("refused")], FakeRegistry().handle))
    with pytest.raises(ConnectFailure):
        driver.run(with_retries(ops.ping(REGISTRY)))
    assert driver.sleeps == []


def test_an_oversized_manifest_is_fetched_once() -> None:
    faults = Faults()
    fake = FakeRegistry(faults=faults)

    def handle(request: Request) -> Response:
        if "/manifests/" in request.url:
            return Response(status=200, body=b"{" + b" " * (5 * 1024 * 1024) + b"}")
        return fake.handle(request)

    driver = PureDriver(handle)
    with pytest.raises(ResponseTooLarge, match="larger than"):
        driver.run(with_retries(ops.get_image_info(REGISTRY, "app", "1")))
    assert _sent(driver, "GET", "/manifests/") == 1
    assert driver.sleeps == []


# -- jitter --------------------------------------------------------------------------------------


@given(retry=st.integers(0, 12), spread=st.floats(0.0, 1.0, exclude_max=True))
def test_jitter_shortens_a_backoff_by_at_most_half(retry: int, spread: float) -> None:
    exact = RetryPolicy().delay(retry, None)
    jittered = RetryPolicy(jitter=lambda: spread).delay(retry, None)
    assert exact == min(0.5 * 2.0**retry, 8.0)
    assert exact / 2 <= jittered <= exact
    assert jittered == pytest.approx(exact * (1 - spread / 2))


def test_jitter_out_of_range_is_kept_in_bounds() -> None:
    assert RetryPolicy(jitter=lambda: -3.0).delay(1, None) == 1.0
    assert RetryPolicy(jitter=lambda: 7.0).delay(1, None) == 0.5


def test_retry_after_is_not_jittered() -> None:
    asked = Response(status=429, headers=Headers.of({"Retry-After": "4"}))
    assert RetryPolicy(jitter=lambda: 0.9).delay(0, asked) == 4.0


def test_jitter_is_applied_to_every_wait() -> None:
    spreads = itertools.cycle([0.0, 0.5, 0.99])
    policy = RetryPolicy(jitter=lambda: next(spreads))
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    faults.fail_next(503, method="GET", path_contains="/tags/list", times=3)
    driver = PureDriver(fake.handle)
    with pytest.raises(RegistryError, match="NAME_UNKNOWN"):
        driver.run(with_retries(ops.list_tags(REGISTRY, "a/b"), policy))
    assert driver.sleeps == pytest.approx([0.5, 1.0 * 0.75, 2.0 * 0.505])


def test_a_seeded_random_source_keeps_every_wait_in_bounds() -> None:
    policy = RetryPolicy(attempts=8, jitter=random.Random(7).random)
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    faults.fail_next(503, method="PUT", path_contains=UPLOADS, times=100)
    driver = _push(fake, policy)
    backoffs = [min(0.5 * 2.0**n, 8.0) for n in range(7)]
    assert len(driver.sleeps) == len(backoffs)
    for slept, backoff in zip(driver.sleeps, backoffs, strict=True):
        assert backoff / 2 <= slept <= backoff
    assert driver.sleeps != backoffs


# -- whole blobs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("retries", [0, 1, 3])
def test_a_blob_behind_a_persistent_503_is_tried_retries_plus_one_times(
    method: str, retries: int
) -> None:
    """Neither the session's POST nor the blob's PUT is repeated by itself: only the whole."""
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    faults.fail_next(503, method=method, path_contains=UPLOADS, times=100)
    driver = _push(fake, RetryPolicy(attempts=retries + 1))
    assert _sent(driver, method) == retries + 1
    assert driver.sleeps == [0.5, 1.0, 2.0][:retries]
    assert fake.manifest("app", "1") is None
    assert fake.upload_sessions() == 0  # every failed session was abandoned


def test_blob_bodies_are_not_retried_by_request_but_whole() -> None:
    """A 503 on the PUT that carries a layer re-sends that blob through a new session."""
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    faults.fail_next(503, method="PUT", path_contains=UPLOADS)
    driver = PureDriver(fake.handle, files=FILES)
    digest = driver.run(
        with_retries(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1", max_concurrency=1))
    )
    assert fake.manifest("app", "1") is not None
    assert digest.startswith("sha256:")
    assert _sent(driver, "PUT") == 4  # three blobs, one of them twice
    assert _sent(driver, "POST") == 4  # the failed session was replaced
    assert _sent(driver, "DELETE") == 1  # and abandoned
    assert driver.sleeps == [0.5]


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
def test_a_blob_is_resent_whole_after_what_may_go_away(status: int) -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    faults.fail_next(status, method="PUT", path_contains=UPLOADS)
    driver = _push(fake)
    assert fake.manifest("app", "1") is not None
    assert _sent(driver, "PUT") == 4
    assert driver.sleeps == [0.5]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 500])
def test_a_blob_is_not_resent_after_an_answer(status: int) -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    faults.fail_next(status, method="PUT", path_contains=UPLOADS)
    driver = _push(fake)
    assert fake.manifest("app", "1") is None
    assert _sent(driver, "PUT") == 1
    assert driver.sleeps == []


def test_a_lost_session_is_replaced_and_the_blob_resent() -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    faults.fail_next(404, method="PUT", path_contains=UPLOADS, code="BLOB_UPLOAD_UNKNOWN")
    driver = _push(fake)
    assert fake.manifest("app", "1") is not None
    assert _sent(driver, "POST") == 4
    assert driver.sleeps == [0.5]


def test_a_chunked_blob_is_resent_whole_too() -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    faults.fail_next(502, method="PATCH", path_contains=UPLOADS, skip=1)
    driver = _push(fake, chunk_size=300)
    assert fake.manifest("app", "1") is not None
    assert _sent(driver, "POST") == 4
    assert driver.sleeps == [0.5]


def _cut_off(fake: FakeRegistry, times: int, *, after_the_bytes: bool = False) -> Handler:
    """The fake, with the first `times` PATCHes cut off: before the registry saw them, or
    after it took the bytes (only the answer is lost)."""
    left = [times]

    def handle(request: Request) -> Response:
        if request.method != "PATCH" or left[0] == 0:
            return fake.handle(request)
        left[0] -= 1
        if after_the_bytes:
            fake.handle(request)
        raise TransportFailure("connection reset by peer")

    return handle


def _push_chunks(handler: Handler, *, retries: bool = True) -> PureDriver:
    """Push the archive in 300-byte chunks, one blob at a time; the driver, however it ended."""
    driver = PureDriver(handler, files=FILES)
    flow = ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1", max_concurrency=1, chunk_size=300)
    with contextlib.suppress(TransportFailure):  # the tests look at what was sent
        driver.run(with_retries(flow) if retries else flow)
    return driver


def test_a_chunk_cut_off_is_resumed_where_the_session_stands() -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    driver = _push_chunks(_cut_off(fake, 1))
    assert fake.manifest("app", "1") is not None
    assert _sent(driver, "POST") == 3  # no new session: the old one went on
    assert _sent(driver, "GET") == 1  # asking where it stands
    assert driver.sleeps == [0.5]


def test_a_chunk_whose_answer_was_lost_gets_its_blob_resent() -> None:
    """distribution refuses the session's old state once it took the bytes: a new session."""
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    driver = _push_chunks(_cut_off(fake, 1, after_the_bytes=True))
    assert fake.manifest("app", "1") is not None
    assert _sent(driver, "POST") == 4
    assert driver.sleeps == [0.5, 1.0]  # the resume, then the whole: one budget


def test_a_chunk_cut_off_for_good_spends_the_blobs_budget_once() -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    driver = _push_chunks(_cut_off(fake, 100))
    assert fake.manifest("app", "1") is None
    assert _sent(driver, "PATCH") == 4  # the first try and three resumes, all of the budget
    assert [r.method for r in fake.requests if UPLOADS in r.url] == [
        *["POST", "PUT"],  # the config, smaller than a chunk, in one request
        "POST",
        *["GET"] * 3,  # each resume asks where the session stands
        "DELETE",  # then the session is abandoned, and the whole is not run again
    ]
    assert driver.sleeps == [0.5, 1.0, 2.0]


def test_without_with_retries_a_chunk_cut_off_is_not_resumed() -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    driver = _push_chunks(_cut_off(fake, 1), retries=False)
    assert fake.manifest("app", "1") is None
    assert _sent(driver, "PATCH") == 1
    assert [r.method for r in fake.requests if UPLOADS in r.url] == [
        *["POST", "PUT"],  # the config, smaller than a chunk, in one request
        *["POST", "DELETE"],
    ]


def test_without_with_retries_a_blob_is_sent_once() -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    faults.fail_next(503, method="PUT", path_contains=UPLOADS)
    driver = PureDriver(fake.handle, files=FILES)
    with pytest.raises(Unavailable):
        driver.run(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1", max_concurrency=1))
    assert _sent(driver, "PUT") == 1
    assert [type(e) for e in driver.events if isinstance(e, RetryWanted)] == [RetryWanted]
    assert driver.sleeps == []


def test_a_blob_that_keeps_failing_fails_the_push_without_a_manifest() -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    faults.fail_next(502, method="PUT", path_contains=UPLOADS, times=50)
    driver = PureDriver(fake.handle, files=FILES)
    with pytest.raises(RegistryError, match="502"):
        driver.run(with_retries(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1")))
    assert fake.manifest("app", "1") is None


def test_the_whole_budget_is_shared_with_a_lost_session() -> None:
    """A lost session and then an overload on one blob: two of its four runs, not four each."""
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    faults.fail_next(404, method="PUT", path_contains=UPLOADS, code="BLOB_UPLOAD_UNKNOWN")
    faults.fail_next(503, method="PUT", path_contains=UPLOADS, times=100)
    driver = _push(fake)
    assert _sent(driver, "PUT") == 4
    assert driver.sleeps == [0.5, 1.0, 2.0]


# -- a registry restarting ----------------------------------------------------------------------


class _Restarting:
    """The fake registry, refusing connections for `seconds` on the driver's clock once it has
    answered `answers` requests (a registry restarting), or from the start."""

    def __init__(self, fake: FakeRegistry, *, answers: int, seconds: float) -> None:
        self.fake = fake
        self.answers = answers
        self.seconds = seconds
        self.down_since: float | None = None
        self.refused = 0
        self.driver = PureDriver(self.handle, files=FILES)

    def handle(self, request: Request) -> Response:
        clock = self.driver.clock
        if self.down_since is None and self.answers == 0:
            self.down_since = clock
        if self.down_since is not None and clock < self.down_since + self.seconds:
            self.refused += 1
            raise ConnectFailure("connection refused")
        self.answers -= 1
        return self.fake.handle(request)


def _push_through(
    restarting: _Restarting, policy: RetryPolicy | None = None, *, chunk_size: int | None = None
) -> str:
    flow = ops.push_docker_tar(
        ARCHIVE, REGISTRY, "app", "1", max_concurrency=1, chunk_size=chunk_size
    )
    return restarting.driver.run(with_retries(flow, policy))


@pytest.mark.parametrize("chunk_size", [None, 300])
@pytest.mark.parametrize("answers", [1, 3, 5])
def test_a_registry_restarting_mid_push_is_waited_for(chunk_size: int | None, answers: int) -> None:
    fake = FakeRegistry(files=FILES)
    restarting = _Restarting(fake, answers=answers, seconds=20.0)
    digest = _push_through(restarting, chunk_size=chunk_size)
    assert fake.manifest("app", "1") is not None
    assert digest.startswith("sha256:")
    assert restarting.refused > 1
    assert 20.0 <= restarting.driver.slept < 20.0 + 8.0  # never more than one backoff too long
    assert fake.upload_sessions() <= 1  # at most the one it went away with


def test_waiting_for_a_registry_does_not_spend_the_attempts() -> None:
    fake = FakeRegistry(files=FILES)
    restarting = _Restarting(fake, answers=3, seconds=20.0)
    _push_through(restarting, RetryPolicy(attempts=2), chunk_size=300)
    assert fake.manifest("app", "1") is not None


def test_a_registry_away_longer_than_the_outage_allowance_fails() -> None:
    fake = FakeRegistry(files=FILES)
    restarting = _Restarting(fake, answers=3, seconds=1000.0)
    with pytest.raises(ConnectFailure):
        _push_through(restarting)
    assert fake.manifest("app", "1") is None
    assert 29.0 < restarting.driver.slept <= 30.0
    assert RetryPolicy().outage == 30.0


@pytest.mark.parametrize("outage", [5.0, 60.0])
def test_the_outage_allowance_is_the_policys(outage: float) -> None:
    fake = FakeRegistry(files=FILES)
    restarting = _Restarting(fake, answers=3, seconds=1000.0)
    with pytest.raises(ConnectFailure):
        _push_through(restarting, RetryPolicy(outage=outage))
    assert outage - 1.0 < restarting.driver.slept <= outage


def test_a_registry_that_never_answered_fails_at_once() -> None:
    fake = FakeRegistry(files=FILES)
    restarting = _Restarting(fake, answers=0, seconds=1000.0)
    with pytest.raises(ConnectFailure):
        _push_through(restarting)
    assert restarting.refused == 1
    assert restarting.driver.sleeps == []


def test_with_one_attempt_a_registry_away_is_not_waited_for() -> None:
    fake = FakeRegistry(files=FILES)
    restarting = _Restarting(fake, answers=3, seconds=5.0)
    with pytest.raises(ConnectFailure):
        _push_through(restarting, RetryPolicy(attempts=1))
    assert restarting.driver.sleeps == []


def test_another_host_refusing_is_not_an_outage() -> None:
    """The registry answering says nothing about another host (a token server, storage)."""
    fake = FakeRegistry(files=FILES)

    def handle(request: Request) -> Response:
        if "other.test" in request.url:
            raise ConnectFailure("connection refused")
        return fake.handle(request)

    driver = PureDriver(handle)

    def flow() -> Flow[None]:
        yield from ops.list_repositories(REGISTRY)
        yield from http(Request(method="GET", url="http://other.test/"))

    with pytest.raises(ConnectFailure):
        driver.run(with_retries(flow()))
    assert driver.sleeps == []


def test_a_stalled_registry_is_not_asked_again() -> None:
    """A read that timed out means the registry stalled for the whole timeout: fail now."""
    driver = PureDriver(_flaky([TimedOut("read timed out")], FakeRegistry().handle))
    with pytest.raises(TimedOut):
        driver.run(with_retries(ops.list_tags(REGISTRY, "a/b")))
    assert driver.sleeps == []

    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    stalls = [TimedOut("write timed out")]

    def handle(request: Request) -> Response:
        if request.method == "PUT" and UPLOADS in request.url and stalls:
            raise stalls.pop()
        return fake.handle(request)

    driver = PureDriver(handle, files=FILES)
    with pytest.raises(TimedOut):
        driver.run(with_retries(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1")))
    assert fake.manifest("app", "1") is None
    assert driver.sleeps == []

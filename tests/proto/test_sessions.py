"""Upload sessions never outlive a push: whether it fails or is interrupted, the sessions it
opened are cancelled, at their newest location (distribution refuses a stale one), even those
of uploads that were closed mid-way by a sibling's failure or the interruption."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from registry_proto import Request, Response, ServerError
from registry_proto import operations as ops
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._faults import Faults
from tests.proto.pure_support import REGISTRY, make_image_archive

ARCHIVE = "image.tar"
LAYERS = [bytes([n]) * 5000 for n in range(1, 5)]
FILES = {ARCHIVE: make_image_archive(LAYERS, repo_tags=["app:1"])}
CHUNKING = pytest.mark.parametrize("chunk_size", [None, 1000], ids=["monolithic", "chunked"])


class Interrupted(BaseException):
    """Stands for a cancellation or a Ctrl-C: it unwinds the driver, never enters a flow."""


def push(driver: PureDriver, chunk_size: int | None, concurrency: int = 5) -> str:
    flow = ops.push_docker_tar(
        ARCHIVE, REGISTRY, "app", "1", chunk_size=chunk_size, max_concurrency=concurrency
    )
    return driver.run(flow)


def opened(fake: FakeRegistry) -> int:
    return len([r for r in fake.requests if r.method == "POST"])


@CHUNKING
def test_a_failed_push_leaves_no_upload_session(chunk_size: int | None) -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    # The first upload to finish fails; the others are under way, and are closed.
    faults.fail_next(500, method="PUT", path_contains="/blobs/uploads/")
    driver = PureDriver(fake.handle, files=FILES)

    with pytest.raises(ServerError):
        push(driver, chunk_size)

    assert opened(fake) == 5
    assert fake.upload_sessions() == 0


@pytest.mark.parametrize(
    ("chunk_size", "when", "concurrency"),
    [(None, "PUT", 5), (1000, "PUT", 5), (1000, "PATCH", 1)],
    ids=["monolithic", "chunked at the end", "chunked mid-way"],
)
def test_an_interrupted_push_leaves_no_upload_session(
    chunk_size: int | None, when: str, concurrency: int
) -> None:
    """Interrupted while sending the third PUT (or PATCH): every session is cancelled.

    Not the sessions whose answer was on its way, though: a PATCH that reached the registry
    but whose answer never reached its flow leaves a location only the registry knows, and
    distribution refuses a stale one. So the PATCH case runs one upload at a time.
    """
    fake = FakeRegistry(files=FILES)
    seen = 0

    def handle(request: Request) -> Response:
        nonlocal seen
        if request.method == when and "/blobs/uploads/" in urlsplit(request.url).path:
            seen += 1
            if seen == 3:
                raise Interrupted
        return fake.handle(request)

    with pytest.raises(Interrupted):
        push(PureDriver(handle, files=FILES), chunk_size, concurrency)

    assert opened(fake) >= 2  # one done, one interrupted (and more, in parallel)
    assert fake.upload_sessions() == 0


def test_a_push_that_succeeds_sends_no_cleanup() -> None:
    fake = FakeRegistry(files=FILES)
    push(PureDriver(fake.handle, files=FILES), 1000)
    assert fake.upload_sessions() == 0
    assert [r for r in fake.requests if r.method == "DELETE"] == []
    assert fake.requests[-1].method == "PUT"

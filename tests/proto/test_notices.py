"""The core's decisions, described as `Notice` events for the drivers to log: fallbacks and
refused mounts in pushes, retries, token fetches. No secret is ever part of one."""

from __future__ import annotations

import dataclasses

import pytest

from registry_proto import Notice, Request, Response, RetryPolicy
from registry_proto import operations as ops
from registry_proto._retry import with_retries
from registry_proto.flows import PushState
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._faults import Faults
from tests.proto.pure_support import REGISTRY, make_image_archive

ARCHIVE = "image.tar"
FILES = {ARCHIVE: make_image_archive([b"layer " * 4000])}


def _notices(driver: PureDriver, topic: str) -> list[str]:
    return [e.message for e in driver.events if isinstance(e, Notice) and e.topic == topic]


def test_a_body_refused_as_too_large_falls_back_to_chunks() -> None:
    faults = Faults()
    faults.fail_next(413, method="PUT", path_contains="/blobs/uploads/", code="SIZE_INVALID")
    driver = PureDriver(FakeRegistry(files=FILES, faults=faults).handle, files=FILES)
    driver.run(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1", max_concurrency=1))
    (message,) = _notices(driver, "push")
    assert "in one request (HTTP 413): sending it in chunks of at most " in message


@pytest.mark.parametrize(
    ("status", "expected"), [(404, "refused (HTTP 404)"), (202, "declined to mount")]
)
def test_a_refused_and_a_declined_mount_are_noted(status: int, expected: str) -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    state = PushState()
    PureDriver(fake.handle, files=FILES).run(
        ops.push_docker_tar(ARCHIVE, REGISTRY, "first", "1", state=state)
    )

    def decline(request: Request) -> Response | None:
        if "mount=" not in request.url:
            return None
        if status == 202:  # an ordinary session instead, as a registry that declines does
            return fake.handle(dataclasses.replace(request, url=request.url.split("?")[0]))
        return Response(status=status)

    faults.on_request = decline
    driver = PureDriver(fake.handle, files=FILES)
    driver.run(ops.push_docker_tar(ARCHIVE, REGISTRY, "second", "1", state=state))
    messages = _notices(driver, "push")
    assert len(messages) == 2  # the config and the layer
    assert all(expected in m and m.endswith(": sending it instead") for m in messages)
    assert fake.manifest("second", "1") is not None


def test_retries_are_noted_with_reason_and_delay() -> None:
    faults = Faults()
    faults.fail_next(503, method="GET", path_contains="/tags/list", times=2)
    fake = FakeRegistry(faults=faults)
    fake.add_manifest("app", "application/vnd.oci.image.manifest.v1+json", b"{}", tag="1")
    driver = PureDriver(fake.handle)
    flow = with_retries(ops.list_tags(REGISTRY, "app"), RetryPolicy(base_delay=0.25))
    assert driver.run(flow) == ["1"]
    notices = [e for e in driver.events if isinstance(e, Notice)]
    assert [dict(n.details) for n in notices] == [
        {"reason": "HTTP 503", "delay": 0.25, "attempt": 2},
        {"reason": "HTTP 503", "delay": 0.5, "attempt": 3},
    ]
    assert driver.sleeps == [0.25, 0.5]

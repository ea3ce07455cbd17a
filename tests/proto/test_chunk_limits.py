"""Chunk bodies a registry refuses as too large are sent again in halves (GHCR caps request
bodies at 4 MiB and answers 416; proxies answer 413)."""

from __future__ import annotations

import hashlib

import pytest

from registry_proto import Request, Response
from registry_proto import operations as ops
from registry_proto.flows import PushState
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._faults import Faults
from tests.proto.pure_support import REGISTRY, make_image_archive, sha256

ARCHIVE = "big.tar"
# 6 MiB that gzip cannot shrink much, made deterministically.
LAYER = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(6 * 32 * 1024))
FILES = {ARCHIVE: make_image_archive([LAYER])}
OTHER_LAYER = LAYER[1:] + b"!"
OTHER_ARCHIVE = "other.tar"
BOTH = {**FILES, OTHER_ARCHIVE: make_image_archive([OTHER_LAYER])}
CAP = 4 * 1024 * 1024


def capped(faults: Faults, status: int, methods: tuple[str, ...] = ("PATCH",)) -> list[int]:
    """Make a registry refuse `methods`' bodies over 4 MiB with `status`; return the sizes of
    the bodies it saw."""
    sizes: list[int] = []

    def refuse(request: Request) -> Response | None:
        if request.method not in methods or not request.body.length:
            return None
        sizes.append(request.body.length)
        return Response(status=status) if request.body.length > CAP else None

    faults.on_request = refuse
    return sizes


@pytest.mark.parametrize("status", [413, 416])
@pytest.mark.parametrize("compression", [None, "gzip"])
def test_oversized_chunks_are_halved(status: int, compression: str | None) -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    sizes = capped(faults, status)
    driver = PureDriver(fake.handle, files=FILES)
    flow = ops.push_docker_tar(
        ARCHIVE, REGISTRY, "app", "1", chunk_size=5 * 1024 * 1024, compression=compression
    )
    driver.run(flow)

    assert fake.manifest("app", "1") is not None
    first = next(i for i, size in enumerate(sizes) if size > CAP)  # a try was too big,
    assert all(size <= CAP for size in sizes[first + 1 :])  # and every chunk after it fits
    if compression is None:
        assert sha256(LAYER) in fake.blobs("app")


@pytest.mark.parametrize("status", [413, 416])
def test_an_oversized_monolithic_body_falls_back_to_chunks(status: int) -> None:
    """Proxies answer 413 to a body too large; GHCR answers 416."""
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    sizes = capped(faults, status, methods=("PUT", "PATCH"))
    driver = PureDriver(fake.handle, files=FILES)
    driver.run(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1"))

    assert fake.manifest("app", "1") is not None
    assert sha256(LAYER) in fake.blobs("app")
    assert sizes.index(len(LAYER)) < len(sizes) - 1  # tried whole first, then in chunks


def test_a_registry_refusing_every_chunk_still_fails() -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)

    def refuse(request: Request) -> Response | None:
        return Response(status=413) if request.method == "PATCH" else None

    faults.on_request = refuse
    driver = PureDriver(fake.handle, files=FILES)
    with pytest.raises(Exception, match="413"):
        driver.run(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1", chunk_size=5 * 1024 * 1024))
    assert fake.manifest("app", "1") is None


@pytest.mark.parametrize("status", [413, 416])
def test_a_refused_monolithic_body_keeps_its_session(status: int) -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    capped(faults, status, methods=("PUT", "PATCH"))
    driver = PureDriver(fake.handle, files=FILES)
    driver.run(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1"))
    assert fake.manifest("app", "1") is not None
    uploads = [r.method for r in fake.requests if "/blobs/uploads/" in r.url]
    assert uploads.count("POST") == 2  # one session per blob: the refused one went on
    assert "DELETE" not in uploads


@pytest.mark.parametrize("status", [413, 416])
def test_what_a_registry_refused_is_remembered_for_the_clients_life(status: int) -> None:
    """A GHCR-like registry costs one refused body per client, not one per blob (or chunk)."""
    faults = Faults()
    fake = FakeRegistry(files=BOTH, faults=faults)
    sizes = capped(faults, status, methods=("PUT", "PATCH"))
    state = PushState()
    driver = PureDriver(fake.handle, files=BOTH)
    driver.run(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1", state=state))
    driver.run(ops.push_docker_tar(OTHER_ARCHIVE, REGISTRY, "app", "2", state=state))
    assert fake.manifest("app", "2") is not None
    assert sha256(OTHER_LAYER) in fake.blobs("app")
    assert len([size for size in sizes if size > CAP]) == 1
    # Both layers' bytes went up once, plus the one refused body.
    assert sum(sizes) - sum(size for size in sizes if size < 1024) == 3 * len(LAYER)

"""Layers compressed while they stream: the same bytes whatever the chunking and scheduling, one
digest however often a layer is compressed, and the next chunk compressed while the one before
it is on the wire, with at most two chunks of output held."""

from __future__ import annotations

import gzip
import hashlib
import random
from collections.abc import Iterator
from typing import Any

import pytest

from registry_proto import (
    BytesBody,
    Flow,
    Offload,
    Parallel,
    Request,
    Response,
    TarReadError,
    _compress,
)
from registry_proto import operations as ops
from registry_proto._compress import GZIP_ENCODERS, LayerCompressor, gzip_encoder
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._answers import error
from registry_proto.testing._faults import Faults
from tests.proto.pure_support import REGISTRY, make_image_archive, make_tar, sha256

ARCHIVE = "layer.tar"
MIB = 1024 * 1024
# 2 MiB of text-like data that compresses, then 10 MiB that does not: many chunks of output.
_TEXT = b"".join(
    b"line %d of a source file: def f(x): return x * %d\n" % (i, i) for i in range(40_000)
)
LAYER = make_tar({"text": _TEXT[: 2 * MIB], "noise": random.Random(7).randbytes(10 * MIB)})
FILES = {ARCHIVE: make_image_archive([LAYER])}
ENCODERS = sorted(GZIP_ENCODERS)


@pytest.fixture(params=ENCODERS)
def encoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each gzip encoder in turn, as if it were the one installed."""
    name: str = request.param
    if name == "isal":
        pytest.importorskip("isal")
    monkeypatch.setattr(_compress, "gzip_encoder", lambda: name)
    return name


def sha512(data: bytes) -> str:
    return "sha512:" + hashlib.sha512(data).hexdigest()


def one_shot(data: bytes, codec: str, encoder: str | None = None) -> bytes:
    """`data` compressed in one go, a MiB at a time, as a reference."""
    compressor = LayerCompressor(codec, encoder=encoder)
    pieces = [compressor.feed(data[i : i + MIB]) for i in range(0, len(data), MIB)]
    return b"".join([*pieces, compressor.finish()])


def pushed_layer(fake: FakeRegistry, repository: str) -> bytes:
    """The one layer blob of the image pushed to `repository` (the config is the other)."""
    (layer,) = [blob for blob in fake.blobs(repository).values() if blob[:2] == b"\x1f\x8b"]
    return layer


def push(
    chunk_size: int, *, scheduler: Any = None, codec: str = "gzip"
) -> tuple[FakeRegistry, PureDriver]:
    fake = FakeRegistry()
    driver = PureDriver(fake.handle, files=FILES, scheduler=scheduler)
    flow = ops.push_docker_tar(
        ARCHIVE, REGISTRY, "app", "1", compression=codec, chunk_size=chunk_size
    )
    driver.run(flow)
    return fake, driver


def test_an_installed_encoder_is_one_of_the_known() -> None:
    assert gzip_encoder() in GZIP_ENCODERS


def test_the_same_layer_compresses_to_the_same_bytes(encoder: str) -> None:
    reference = one_shot(LAYER, "gzip", encoder)
    assert gzip.decompress(reference) == LAYER
    assert one_shot(LAYER, "gzip", encoder) == reference
    # Whatever the chunk size, and whichever side of the pipeline the driver runs first.
    for chunk_size, scheduler in ((MIB, None), (3 * MIB, lambda active: active - 1)):
        fake, _ = push(chunk_size, scheduler=scheduler)
        assert pushed_layer(fake, "app") == reference
        assert sha256(reference) in fake.blobs("app")


def test_the_encoders_differ_but_both_give_the_layer_back() -> None:
    pytest.importorskip("isal")
    outputs = {name: one_shot(LAYER, "gzip", name) for name in ENCODERS}
    assert len(set(outputs.values())) == len(outputs)
    for output in outputs.values():
        assert gzip.decompress(output) == LAYER


def test_zstd_is_deterministic_too() -> None:
    pytest.importorskip("zstandard")
    fake, _ = push(2 * MIB, codec="zstd")
    (layer,) = [b for b in fake.blobs("app").values() if b[:4] == b"\x28\xb5\x2f\xfd"]
    assert layer == one_shot(LAYER, "zstd")


def observed(flow: Flow[Any], log: list[tuple[int, Any, Any]], group: int = 0) -> Flow[Any]:
    """`flow`, logging each effect it and its `Parallel` children perform: `(group, effect,
    result)`, where `group` numbers the `Parallel` the effect ran in (0: none)."""
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            if isinstance(effect, Parallel):
                number = len(log) + 1
                children = tuple(observed(child, log, number) for child in effect.flows)
                effect = Parallel(children, effect.limit)
            try:
                value = yield effect
            except Exception as exc:
                error = exc
            else:
                log.append((group, effect, value))
    finally:
        flow.close()


def held_output(log: list[tuple[int, Any, Any]]) -> Iterator[int]:
    """After each step: compressed bytes made but not yet taken by the registry."""
    held = 0
    for _, effect, result in log:
        if isinstance(effect, Offload) and isinstance(result, bytes):
            held += len(result)
        taken = isinstance(result, Response) and result.status in (201, 202)
        if taken and isinstance(effect, Request) and isinstance(effect.body, BytesBody):
            held -= effect.body.length if effect.progress_key == sha256(LAYER) else 0
        yield held


@pytest.mark.parametrize("scheduler", [None, lambda active: active - 1, lambda active: 0])
def test_the_next_chunk_is_compressed_while_one_is_sent(scheduler: Any) -> None:
    chunk_size = 2 * MIB
    fake = FakeRegistry()
    driver = PureDriver(fake.handle, files=FILES, scheduler=scheduler)
    log: list[tuple[int, Any, Any]] = []
    flow = ops.push_docker_tar(
        ARCHIVE, REGISTRY, "app", "1", compression="gzip", chunk_size=chunk_size
    )
    driver.run(observed(flow, log))
    assert fake.manifest("app", "1") is not None

    patches = [(g, e) for g, e, _ in log if isinstance(e, Request) and e.method == "PATCH"]
    assert len(patches) >= 4
    compressing = {g for g, e, _ in log if isinstance(e, Offload)}
    # Every chunk goes out in a Parallel that also compresses what follows it.
    assert all(group in compressing for group, _ in patches)
    # At most two chunks of output at any time: the one on the wire, the one being made (each
    # at least a chunk, and at most one read's output more).
    biggest = max(len(r) for _, e, r in log if isinstance(e, Offload) and isinstance(r, bytes))
    assert max(held_output(log)) <= 2 * (chunk_size + biggest)
    assert max(held_output(log)) > chunk_size  # the two did overlap
    assert list(held_output(log))[-1] == 0


# Round-robin, and the sending step first: it then moves the session on before its sibling, the
# compressing step, fails.
@pytest.mark.parametrize("scheduler", [None, lambda active: 0])
def test_a_layer_failing_while_compressing_cancels_its_session_where_it_stands(
    scheduler: Any,
) -> None:
    """The step that compresses fails beside one that moved the session on: the session is
    cancelled at its newest location (distribution refuses an older one), not left open."""
    fake = FakeRegistry()
    answered: list[tuple[str, int]] = []

    def handle(request: Request) -> Response:
        response = fake.handle(request)
        answered.append((request.method, response.status))
        if [method for method, _ in answered].count("PATCH") == 2:
            driver.files[ARCHIVE] = FILES[ARCHIVE][: len(FILES[ARCHIVE]) // 2]  # it shrank
        return response

    driver = PureDriver(handle, files=FILES, scheduler=scheduler)
    flow = ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1", compression="gzip", chunk_size=MIB)
    with pytest.raises(TarReadError, match="ended early"):
        driver.run(flow)
    assert [status for method, status in answered if method == "DELETE"] == [204]
    assert fake.upload_sessions() == 0


def test_a_registry_refusing_chunks_part_way_gets_the_rest_spooled_in_the_put() -> None:
    """Refused after chunks went through, the sending step spools the output from where the
    session stands, while the compressing step beside it goes on; the blob arrives whole."""
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    patches = 0

    def refuse_after_two(request: Request) -> Response | None:
        nonlocal patches
        if request.method != "PATCH":
            return None
        patches += 1
        return (
            error(405, "UNSUPPORTED", "chunked uploads are not supported") if patches > 2 else None
        )

    faults.on_request = refuse_after_two
    driver = PureDriver(fake.handle, files=FILES)
    driver.run(
        ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1", compression="gzip", chunk_size=MIB)
    )
    assert patches == 3
    assert pushed_layer(fake, "app") == one_shot(LAYER, "gzip")
    assert list(driver.files) == [ARCHIVE]  # the spool removed


def test_a_sha512_diff_id_is_checked_with_its_own_algorithm() -> None:
    for diff_id, pushed in ((sha512(LAYER), True), (sha512(LAYER[:-1]), False)):
        files = {ARCHIVE: make_image_archive([LAYER], diff_ids=[diff_id])}
        fake = FakeRegistry()
        flow = ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1", compression="gzip")
        if pushed:
            PureDriver(fake.handle, files=files).run(flow)
            assert pushed_layer(fake, "app") == one_shot(LAYER, "gzip")
        else:
            with pytest.raises(TarReadError, match=f"not to the diff_id {diff_id}"):
                PureDriver(fake.handle, files=files).run(flow)
            assert fake.upload_sessions() == 0

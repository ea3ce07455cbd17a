"""Layers compressed while they stream: the same bytes whatever the chunking and scheduling, one
digest however often a layer is compressed, and the next chunk compressed while the one before
it is on the wire, with at most two chunks of output held."""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator
from typing import Any

import pytest

from registry_proto import BytesBody, Flow, Offload, Parallel, Request, Response, _compress
from registry_proto import operations as ops
from registry_proto._compress import GZIP_ENCODERS, LayerCompressor, gzip_encoder
from registry_proto.testing import FakeRegistry, PureDriver
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

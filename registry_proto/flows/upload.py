"""Blob uploads: sessions, monolithic and chunked transfers, mounts, streaming compression
(distribution-spec "Pushing blobs", "Pushing a blob in chunks", "Mounting a blob from another
repository"; docs/protocol.md §3, §4).

- Monolithic, the default: an empty `POST` opens a session, one streamed `PUT ?digest=` sends
  the whole blob. (distribution ignores a body on the `POST`, so that is never relied on.)
- Chunked: `PATCH` requests of `chunk_size` bytes (raised to the registry's
  `OCI-Chunk-Min-Length`), each to the newest `Location`, then an empty `PUT ?digest=`. Used when
  asked for, when the registry refuses a monolithic body (413, 416), and for compression, whose
  digest is only known once the last byte is out.
- A registry that refuses chunks (`PATCH`) altogether, as Google Artifact Registry does, gets
  the rest of the blob in the closing `PUT`; a layer being compressed is first spooled to a
  temporary file, since its size and digest are known only at the end.
- A lost or refused chunk (transport failure, 416) is recovered by asking the session where it
  stands (`GET <location>`) and resending from there. Whether a lost one is tried again, like
  whether a failed blob is sent again whole, is the retry policy's decision
  (`registry_proto._retry`).
- A session whose upload fails is abandoned (`abandon`) by the flow that last moved it, which
  alone knows its newest location (distribution refuses a stale one). Should the flow be
  closed instead (a cancellation, a sibling's failure), the driver abandons it: every open
  session is kept as a `Cleanup` under its first location, with its newest one.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from .._compress import LayerCompressor
from .._effects import (
    Flow,
    cleanup_done,
    cleanup_later,
    emit,
    http,
    offload,
    parallel,
    read_file,
    remove_file,
    temp_file,
    write_file,
)
from .._errors import (
    DigestInvalid,
    DigestMismatch,
    RegistryError,
    RegistryProtoError,
    TarReadError,
    TransportFailure,
    Unsupported,
)
from .._events import BlobProgress, notice
from .._headers import add_query, parse_upload_range, resolve_location
from .._models import Body, BytesBody, EmptyBody, FileSlice, Headers, Request, Response
from .._reference import RegistryEndpoint
from .._retry import may_retry
from ._common import expect
from .blobs import cancel_request, cancel_upload

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_CHUNK_SIZE",
    "RegistryLimits",
    "Session",
    "abandon",
    "compress_upload",
    "fallback_body",
    "finish_upload",
    "refuses_chunks",
    "start_session",
    "try_mount",
    "upload_chunked",
]

DEFAULT_CHUNK_SIZE = 5 * 1024 * 1024
# A registry may ask for bigger chunks; beyond this its request is clamped, since a compressed
# chunk is held in memory until sent.
MAX_CHUNK_SIZE = 256 * 1024 * 1024
_READ_SIZE = 1024 * 1024
# The first chunk of compressed output; later ones double up to the chunk size.
_FIRST_CHUNK = 1024 * 1024
# How often a chunk is re-sent to fit what the registry takes (413, 416): an adjustment to
# the registry, not a retry of what may go away.
_MAX_RECOVERIES = 3
# Chunk bodies a registry refuses as too large are halved, down to this.
_MIN_BODY = 1024 * 1024
_OCTET_STREAM = "application/octet-stream"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RegistryLimits:
    """What one registry was found to refuse, so that later uploads do not meet it again.

    `max_body` is the largest request body sent to it since it refused a larger one (None
    while it has refused none): a blob larger than that goes in chunks of at most that size.
    `chunks_refused`: it takes no `PATCH`, so every blob goes in one `PUT`.
    """

    max_body: int | None = None
    chunks_refused: bool = False

    def learnt(self, session: Session) -> RegistryLimits:
        """These limits, with what `session` found out."""
        found = session.max_body
        if found is not None and (self.max_body is None or found < self.max_body):
            return dataclasses.replace(self, max_body=found).learnt(session)
        if session.chunks_refused and not self.chunks_refused:
            return dataclasses.replace(self, chunks_refused=True)
        return self

    def session(self, session: Session) -> Session:
        """`session`, knowing what the registry refused."""
        return dataclasses.replace(
            session, max_body=self.max_body, chunks_refused=self.chunks_refused
        )


def refuses_chunks(error: RegistryError) -> bool:
    """Whether `error`, the answer to a `PATCH`, says the registry takes no chunks at all
    (405, or `UNSUPPORTED` under another status; 501 Not Implemented)."""
    return isinstance(error, Unsupported) or error.status == 501


def fallback_body(refused: int) -> int:
    """The chunk size to try after a body of `refused` bytes was refused as too large."""
    return min(DEFAULT_CHUNK_SIZE, max(_MIN_BODY, refused // 2))


@dataclass(frozen=True, slots=True)
class Session:
    """An open upload session: where to send next, and how big the registry wants chunks.

    `offset` is how many bytes the registry has acknowledged; `min_chunk` is its
    `OCI-Chunk-Min-Length`, 0 when it named none; `max_body` the largest request body it was
    found to take (None until one was refused: GHCR, for one, caps bodies at 4 MiB);
    `chunks_refused` whether it refused a `PATCH` as unsupported. `key`, its first location,
    names it for as long as it is open.
    """

    location: str
    offset: int = 0
    min_chunk: int = 0
    max_body: int | None = None
    chunks_refused: bool = False
    key: str = ""

    def chunk_size(self, wanted: int) -> int:
        return min(max(wanted, self.min_chunk), max(MAX_CHUNK_SIZE, wanted))


def _session_from(request: Request, response: Response, offset: int = 0) -> Session:
    location = resolve_location(request.url, response.headers.get("Location"))
    raw_min = response.headers.get("OCI-Chunk-Min-Length")
    raw_min = raw_min.strip() if raw_min else ""
    # `isdigit` alone also takes digits `int` refuses, such as "²".
    min_chunk = int(raw_min) if raw_min.isascii() and raw_min.isdigit() else 0
    return Session(location, offset, min_chunk, key=location)


def _track(session: Session) -> Flow[Session]:
    """`session`, which the driver abandons at its newest location should the run end first."""
    yield from cleanup_later(session.key, cancel_request(session.location))
    return session


def abandon(session: Session) -> Flow[None]:
    """Cancel `session`, best effort: it holds part of a blob, or bytes that cannot match."""
    yield from cancel_upload(session.location)
    yield from cleanup_done(session.key)


def start_session(endpoint: RegistryEndpoint, repository: str, digest: str) -> Flow[Session]:
    """`POST /v2/<name>/blobs/uploads/`: open an upload session for `digest`."""
    request = Request(
        method="POST",
        url=endpoint.url(f"/v2/{repository}/blobs/uploads/"),
        headers=Headers.of({"Content-Length": "0"}),
    )
    response = yield from http(request)
    expect(response, request, 202, context=f"starting the upload of blob {digest}")
    return (yield from _track(_session_from(request, response)))


def try_mount(
    endpoint: RegistryEndpoint, repository: str, digest: str, source_repository: str
) -> Flow[tuple[bool, Session | None]]:
    """Ask the registry to mount `digest` from `source_repository` (docs/protocol.md §4).

    Returns `(True, None)` when mounted. A registry that declines answers 202 with an ordinary
    upload session, returned as `(False, session)` for use; the refusals some registries send
    instead (401, 403, 404) give `(False, None)`, and the caller uploads as usual.
    """
    request = Request(
        method="POST",
        url=add_query(
            endpoint.url(f"/v2/{repository}/blobs/uploads/"),
            [("mount", digest), ("from", source_repository)],
        ),
        headers=Headers.of({"Content-Length": "0"}),
    )
    response = yield from http(request)
    if response.status in (401, 403, 404):
        yield from notice(
            "push",
            f"mounting blob {digest} from {source_repository} refused "
            f"(HTTP {response.status}): sending it instead",
            digest=digest,
        )
        return False, None
    expect(response, request, 201, 202, context=f"mounting blob {digest} from {source_repository}")
    if response.status == 201:
        return True, None
    yield from notice(
        "push",
        f"the registry declined to mount blob {digest} from {source_repository}: "
        "sending it instead",
        digest=digest,
    )
    return False, (yield from _track(_session_from(request, response)))


def _finish(session: Session, digest: str, body: Body, key: str) -> Request:
    headers = {"Content-Type": _OCTET_STREAM, "Content-Length": str(body.length)}
    if body.length and session.offset:
        headers["Content-Range"] = f"{session.offset}-{session.offset + body.length - 1}"
    return Request(
        method="PUT",
        url=add_query(session.location, [("digest", digest)]),
        headers=Headers.of(headers),
        body=body,
        progress_key=key if body.length else None,
    )


def finish_upload(
    session: Session, digest: str, body: Body, size: int, *, key: str, what: str
) -> Flow[None]:
    """The closing `PUT ?digest=`, carrying `body`: the whole blob (a monolithic upload), its
    last bytes, or nothing. The registry checks all `size` bytes against `digest`."""
    request = _finish(session, digest, body, key)
    try:
        response = yield from http(request)
        expect(response, request, 201, context=f"uploading {what} ({size} bytes)")
    except DigestInvalid as exc:
        # The session holds bytes that can never match: the caller abandons it.
        raise DigestInvalid(
            f"the registry refused {what}: its content does not match digest {digest} "
            f"(HTTP {exc.status})",
            status=exc.status,
            errors=exc.errors,
            method=exc.method,
            url=exc.url,
        ) from exc
    yield from cleanup_done(session.key)  # committed: the session is gone
    stored = response.headers.get("Docker-Content-Digest")
    if stored is not None and stored.strip() != digest:
        raise DigestMismatch(f"the registry stored {what} as {stored.strip()}, not {digest}")


def _patch(session: Session, body: Body, key: str) -> Request:
    return Request(
        method="PATCH",
        url=session.location,
        headers=Headers.of(
            {
                "Content-Type": _OCTET_STREAM,
                "Content-Length": str(body.length),
                "Content-Range": f"{session.offset}-{session.offset + body.length - 1}",
            }
        ),
        body=body,
        progress_key=key,
    )


def _send_chunk(
    session: Session, chunk: Callable[[int], Body], end: int, key: str, what: str
) -> Flow[Session]:
    """PATCH the bytes from `session.offset` up to `end`; return the advanced session.

    `chunk(offset)` describes the bytes from `offset` to `end`. After a lost answer (when the
    retry policy allows another try) or a 416, the session's own account of what it holds
    (`GET <location>`) says where to resume. A body refused as too large (413, or a 416 that
    leaves the session where it was) is sent again in halves, and later chunks keep to the
    smaller size.
    """
    recoveries = 0
    while session.offset < end:
        body = _head(chunk(session.offset), session.max_body)
        request = _patch(session, body, key)
        try:
            response = yield from http(request)
        except TransportFailure as exc:
            # The session may hold part of the chunk: a resume sends only the rest.
            session = yield from _resume(session, exc, what)
            continue
        if response.status in (413, 416) and recoveries < _MAX_RECOVERIES:
            recoveries += 1
            held = session
            if response.status == 416:  # out of step, or (GHCR) too large: ask which
                held = yield from _status(session, what)
            smaller = max(_MIN_BODY, session.min_chunk, body.length // 2)
            if held.offset == session.offset and smaller < body.length:
                held = dataclasses.replace(held, max_body=smaller)
                yield from notice(
                    "push",
                    f"a chunk of {what} was refused as too large (HTTP {response.status}): "
                    f"sending at most {smaller} bytes per request",
                    max_body=smaller,
                )
            session = held
            continue
        # ECR answers PATCH with 201, GCR once with 204: all mean "accepted".
        expect(response, request, 202, 201, 204, context=f"uploading a chunk of {what}")
        location = response.headers.get("Location")
        new_location = resolve_location(request.url, location) if location else session.location
        session = dataclasses.replace(
            session, location=new_location, offset=session.offset + body.length
        )
        yield from _track(session)
    return session


def _resume(session: Session, failure: TransportFailure, what: str) -> Flow[Session]:
    """Where `session` stands after `failure` cut a chunk off, asked as long as the retry
    policy allows (the registry may be restarting); `failure` when it does not."""
    failures = 0
    while True:
        failures += 1
        if not (yield from may_retry(failure, failures)):
            raise failure
        try:
            return (yield from _status(session, what))
        except TransportFailure as exc:
            failure = exc


def _head(body: Body, limit: int | None) -> Body:
    """The first `limit` bytes of `body` (all of it when `limit` is None)."""
    if limit is None or body.length <= limit:
        return body
    if isinstance(body, FileSlice):
        return FileSlice(body.path, body.offset, limit)
    if isinstance(body, BytesBody):
        return BytesBody(body.data[:limit])
    return body


def _status(session: Session, what: str) -> Flow[Session]:
    """`GET <location>`: how many bytes the session holds (docs/protocol.md §3.6)."""
    request = Request(method="GET", url=session.location)
    response = yield from http(request)
    expect(response, request, 204, context=f"asking where the upload of {what} stands")
    held = parse_upload_range(response.headers.get("Range"))
    # `0-0` cannot tell "nothing" from "one byte": keep our own count when it says so.
    offset = session.offset if held is None or held == (0, 0) else held[1] + 1
    location = response.headers.get("Location")
    new_location = resolve_location(request.url, location) if location else session.location
    return (yield from _track(dataclasses.replace(session, location=new_location, offset=offset)))


def upload_chunked(
    session: Session,
    digest: str,
    source: FileSlice | BytesBody,
    *,
    chunk_size: int,
    key: str,
    what: str,
) -> Flow[Session]:
    """Send the blob in `PATCH` chunks, then close the session with an empty `PUT`; return the
    session as it ended (with the body size the registry was found to take). The session is
    abandoned if this fails."""
    size = source.length
    step = session.chunk_size(chunk_size)
    try:
        while session.offset < size and not session.chunks_refused:
            end = min(size, session.offset + step)
            piece = functools.partial(_piece, source, end=end)
            try:
                session = yield from _send_chunk(session, piece, end, key, what)
            except RegistryError as exc:
                if not refuses_chunks(exc):
                    raise
                session = dataclasses.replace(session, chunks_refused=True)
            else:
                yield from emit(BlobProgress(key, session.offset, size))
        # What the registry does not hold yet (nothing, or all of it when it takes no chunks)
        # goes in the closing PUT.
        rest = _piece(source, session.offset, end=size) if session.offset < size else EmptyBody()
        yield from finish_upload(session, digest, rest, size, key=key, what=what)
    except RegistryProtoError:
        yield from abandon(session)  # at its newest location
        raise
    return session


def _piece(source: FileSlice | BytesBody, offset: int, *, end: int) -> Body:
    """The bytes of `source` from `offset` up to `end`."""
    if isinstance(source, FileSlice):
        return FileSlice(source.path, source.offset + offset, end - offset)
    return BytesBody(source.data[offset:end])


def compress_upload(
    session: Session,
    source: FileSlice,
    diff_id: str,
    codec: str,
    *,
    chunk_size: int,
    key: str,
    what: str,
) -> Flow[tuple[str, int, Session]]:
    """Compress `source` while uploading it in chunks; return the compressed digest and size,
    and the session as it ended.

    Neither the layer nor its compressed form is ever whole in memory: the input is read a MiB
    at a time, and the next chunk is compressed while the one before it is handed on (a
    `Parallel` of the two), so at most two chunks of output are held and a layer takes about
    the longer of compressing and sending, not their sum. The uncompressed bytes are hashed on
    the way and must match `diff_id`. To a registry that takes no chunks, the output not sent
    yet is spooled to a temporary file and goes in the closing `PUT`. The session is
    abandoned if this fails.
    """
    try:
        compressor = LayerCompressor(codec, raw_algorithm=diff_id.partition(":")[0])
        step = session.chunk_size(chunk_size)
        # The first chunk is small, so that sending starts early; each one after is twice the
        # one before, up to `step`, so that few round trips are spent waiting for answers.
        size = min(step, max(_FIRST_CHUNK, session.min_chunk))
        chunk, read = yield from _compressed_chunk(compressor, source, 0, size)
        produced = 0  # compressed bytes handed on: sent, or spooled
        spool: _Spool | None = None
        while read < source.length:  # more to come: this chunk is not the last
            handing = _hand_on(session, spool, chunk, produced, key, what)
            size = min(step, 2 * size)
            following = _settled(_compressed_chunk(compressor, source, read, size))
            done = yield from parallel([handing, following], limit=2)
            session, spool = cast(tuple[Session, _Spool | None], done[0])
            produced += len(chunk)
            compressed = cast(tuple[bytes, int] | RegistryProtoError, done[1])
            if isinstance(compressed, RegistryProtoError):
                raise compressed  # now that the session is known where it stands
            yield from emit(BlobProgress(key, read, source.length))
            chunk, read = compressed
        actual = compressor.raw_digest()
        if actual != diff_id:
            raise TarReadError(
                f"{what} is corrupt: its content hashes to {actual}, not to the diff_id "
                f"{diff_id} its image config records"
            )
        digest, size = compressor.digest(), produced + len(chunk)
        if spool is None:
            yield from finish_upload(session, digest, BytesBody(chunk), size, key=key, what=what)
        else:
            yield from spool.add(chunk, produced)
            yield from finish_upload(session, digest, spool.body(size), size, key=key, what=what)
            yield from remove_file(spool.path)
        return digest, size, session
    except RegistryProtoError:
        yield from abandon(session)  # at its newest location
        raise


def _compressed_chunk(
    compressor: LayerCompressor, source: FileSlice, read: int, step: int
) -> Flow[tuple[bytes, int]]:
    """Read and compress `source` from `read` on until at least `step` bytes of output are
    ready, or the input ends (the compressor's last bytes included then); return that output
    and how much of the input has been read."""
    pieces: list[bytes] = []
    ready = 0
    while ready < step and read < source.length:
        data = yield from read_file(
            source.path, source.offset + read, min(_READ_SIZE, source.length - read)
        )
        if not data:
            raise TarReadError(f"{source.path} ended early: it changed while being read")
        read += len(data)
        pieces.append((yield from offload(compressor.feed, data)))
        ready += len(pieces[-1])
    if read == source.length:
        pieces.append((yield from offload(compressor.finish)))
    return b"".join(pieces), read


def _settled(flow: Flow[T]) -> Flow[T | RegistryProtoError]:
    """`flow`'s result, or the library error it failed with, returned rather than raised: the
    step beside it, sending a chunk, then ends normally and says where the session stands,
    which abandoning the session needs."""
    try:
        return (yield from flow)
    except RegistryProtoError as exc:
        return exc


def _hand_on(
    session: Session, spool: _Spool | None, chunk: bytes, start: int, key: str, what: str
) -> Flow[tuple[Session, _Spool | None]]:
    """Send `chunk` (which begins at `start` in the output), or spool it once the registry
    refused chunks; the session and the spool as they stand after."""
    if not session.chunks_refused:
        session = yield from _send_compressed(session, chunk, start, key, what)
    if session.chunks_refused:
        spool = spool or (yield from _Spool.create(session.offset))
        yield from spool.add(chunk, start)
    return session, spool


def _send_compressed(
    session: Session, chunk: bytes, start: int, key: str, what: str
) -> Flow[Session]:
    """PATCH `chunk` (which begins at `start` in the output); the session as it stands after,
    marked when the registry refused chunks altogether."""
    try:
        return (
            yield from _send_chunk(session, _tail_of(chunk, start), start + len(chunk), key, what)
        )
    except RegistryError as exc:
        if not refuses_chunks(exc):
            raise
        return dataclasses.replace(session, chunks_refused=True)


@dataclass(frozen=True, slots=True)
class _Spool:
    """A temporary file holding compressed output from `start` on, for the closing `PUT`."""

    path: str
    start: int

    @classmethod
    def create(cls, start: int) -> Flow[_Spool]:
        return cls((yield from temp_file("", ".layer")), start)

    def add(self, data: bytes, at: int) -> Flow[None]:
        """Write output that begins at `at` (the part from `start` on)."""
        skip = max(self.start - at, 0)
        if skip < len(data):
            yield from write_file(self.path, at + skip - self.start, data[skip:])

    def body(self, size: int) -> FileSlice:
        """The spooled output of a blob of `size` bytes."""
        return FileSlice(self.path, 0, size - self.start)


def _tail_of(chunk: bytes, start: int) -> Callable[[int], Body]:
    """The part of `chunk` (which begins at `start`) from `offset` on, for resends."""
    return lambda offset: BytesBody(chunk[offset - start :])

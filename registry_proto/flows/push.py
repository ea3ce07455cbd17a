"""Pushing images: every blob in parallel, then the manifest (docs/protocol.md §3.8, §4, §10.9).

A manifest goes out only after every blob it names is confirmed, and an index only after every
child manifest, so a failed push never leaves a tag pointing at missing content.

For each blob: a `HEAD` skips what the repository has; a mount borrows what another repository
of the same registry got from this client; anything else is uploaded (see `upload.py`), as one
`resendable` whole that the retry policy may send again through a new session.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .._auth import declare_scopes
from .._effects import Flow, emit, parallel
from .._errors import RegistryError, RegistryProtoError, ValidationError
from .._events import (
    BlobMounted,
    BlobSkipped,
    BlobUploaded,
    ManifestPushed,
    TransferStarted,
    notice,
)
from .._manifest import (
    OCI_CONFIG,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
    Descriptor,
    ImageManifest,
)
from .._models import Body, BytesBody, FileSlice
from .._reference import RegistryEndpoint
from .._retry import resendable
from .blobs import blob_exists
from .manifests import put_manifest
from .upload import (
    DEFAULT_CHUNK_SIZE,
    RegistryLimits,
    Session,
    abandon,
    compress_upload,
    fallback_body,
    finish_upload,
    start_session,
    try_mount,
    upload_chunked,
)

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_MAX_CONCURRENCY",
    "BlobUpload",
    "ImageToPush",
    "IndexToPush",
    "ManifestToPush",
    "PushOptions",
    "PushState",
    "push_blob",
    "push_image",
    "push_index",
    "upload_blob",
]

DEFAULT_MAX_CONCURRENCY = 6
COMPRESSIONS = ("gzip", "zstd")
_COMPRESSED_TYPES = {"gzip": OCI_LAYER_GZIP, "zstd": OCI_LAYER_ZSTD}
# How registries refuse a request body too large for them: 413, or 416 (GHCR).
_TOO_LARGE = (413, 416)


@dataclass(frozen=True, slots=True)
class PushOptions:
    """How to push.

    `chunk_size`: None sends each blob in one request (falling back to chunks when the
    registry refuses a body that large); a number always sends chunks of about that size.
    `compression`: None keeps layers as they are; `"gzip"` or `"zstd"` compresses the
    uncompressed ones while they stream. A blob that fails is sent again whole as often as
    the retry policy allows (see `registry_proto._retry`).
    """

    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    chunk_size: int | None = None
    compression: str | None = None
    mount: bool = True

    def __post_init__(self) -> None:
        if self.compression is not None and self.compression not in COMPRESSIONS:
            raise ValidationError(
                f"compression must be None, 'gzip' or 'zstd', not {self.compression!r}"
            )
        if self.chunk_size is not None and self.chunk_size < 1:
            raise ValidationError("chunk_size must be a positive number of bytes")


@dataclass
class PushState:
    """What a client has learnt while pushing, shared by all its pushes.

    Which repository of which registry holds a blob (to mount it elsewhere), what digest a
    layer got when compressed (compression is deterministic), and what each registry refused
    (`RegistryLimits`). Plain dictionaries: a race between threads costs at most a skipped
    mount, a repeated compression or a body refused once more.
    """

    holders: dict[tuple[str, str], str] = field(default_factory=dict)
    compressed: dict[tuple[str, str], Descriptor] = field(default_factory=dict)
    limits: dict[str, RegistryLimits] = field(default_factory=dict)

    def limits_of(self, endpoint: RegistryEndpoint) -> RegistryLimits:
        return self.limits.get(endpoint.base_url, RegistryLimits())

    def learn(self, endpoint: RegistryEndpoint, session: Session) -> None:
        """Remember what an upload through `session` found out about the registry."""
        known = self.limits_of(endpoint)
        learnt = known.learnt(session)
        if learnt != known:
            self.limits[endpoint.base_url] = learnt

    def remember(self, endpoint: RegistryEndpoint, digest: str, repository: str) -> None:
        self.holders[(endpoint.base_url, digest)] = repository

    def holder(self, endpoint: RegistryEndpoint, digest: str, repository: str) -> str | None:
        found = self.holders.get((endpoint.base_url, digest))
        return found if found != repository else None


@dataclass(frozen=True, slots=True)
class BlobUpload:
    """A blob to push: what its descriptor says, and where its bytes come from.

    `diff_id` is set for layers; `compressible` marks uncompressed layers, which the
    `compression` option may compress on the way.
    """

    descriptor: Descriptor
    body: Body
    diff_id: str | None = None
    compressible: bool = False


@dataclass(frozen=True, slots=True)
class ImageToPush:
    """A single-platform image: its config, its layers, and the manifest that names them."""

    config: BlobUpload
    layers: tuple[BlobUpload, ...]
    manifest: ImageManifest


@dataclass(frozen=True, slots=True)
class ManifestToPush:
    """A manifest pushed by digest as it is stored, with the blobs it names."""

    digest: str
    media_type: str
    data: bytes
    blobs: tuple[BlobUpload, ...]


@dataclass(frozen=True, slots=True)
class IndexToPush:
    """An index and its child manifests."""

    media_type: str
    data: bytes
    children: tuple[ManifestToPush, ...]


def push_blob(
    endpoint: RegistryEndpoint,
    repository: str,
    blob: BlobUpload,
    options: PushOptions,
    state: PushState,
) -> Flow[Descriptor]:
    """Make sure `repository` holds `blob`; return the descriptor of what it holds.

    That is `blob.descriptor`, unless the layer was compressed on the way.
    """
    source = blob.descriptor
    codec = options.compression if blob.compressible else None
    target: Descriptor | None = source
    if codec is not None:
        target = state.compressed.get((source.digest, codec))
    session: Session | None = None
    if target is not None:
        if (yield from blob_exists(endpoint, repository, target.digest)):
            state.remember(endpoint, target.digest, repository)
            yield from emit(BlobSkipped(target.digest, target.size))
            return target
        holder = state.holder(endpoint, target.digest, repository) if options.mount else None
        if holder is not None:
            mounted, session = yield from try_mount(endpoint, repository, target.digest, holder)
            if mounted:
                state.remember(endpoint, target.digest, repository)
                yield from emit(BlobMounted(target.digest, target.size, holder))
                return target

    return (yield from upload_blob(endpoint, repository, blob, options, state, session))


def upload_blob(
    endpoint: RegistryEndpoint,
    repository: str,
    blob: BlobUpload,
    options: PushOptions,
    state: PushState,
    session: Session | None = None,
) -> Flow[Descriptor]:
    """Upload `blob`, known to be missing from `repository` (through `session`, the one a
    declined mount opened, if any); return the descriptor of what the registry stored."""
    source = blob.descriptor
    codec = options.compression if blob.compressible else None

    def attempt(run: int) -> Flow[Descriptor]:
        # A declined mount's session serves the first run; a resend opens a new one.
        offered = session if run == 0 else None
        return _send_whole(endpoint, repository, offered, blob, codec, options, state)

    target = yield from resendable(attempt)
    state.remember(endpoint, target.digest, repository)
    yield from emit(BlobUploaded(source.digest, target.digest, target.size))
    return target


def _send_whole(
    endpoint: RegistryEndpoint,
    repository: str,
    session: Session | None,
    blob: BlobUpload,
    codec: str | None,
    options: PushOptions,
    state: PushState,
) -> Flow[Descriptor]:
    """Send the blob through `session` (a new one when None): one run of its upload.

    A session that failed is abandoned, by whichever step last moved it: it may hold part of
    the blob, or bytes that can never match its digest.
    """
    if session is None:
        session = yield from start_session(endpoint, repository, blob.descriptor.digest)
    return (yield from _transfer(endpoint, session, blob, codec, options, state))


def _transfer(
    endpoint: RegistryEndpoint,
    session: Session,
    blob: BlobUpload,
    codec: str | None,
    options: PushOptions,
    state: PushState,
) -> Flow[Descriptor]:
    """Send the blob through `session`; return the descriptor of what the registry stored."""
    source = blob.descriptor
    what = f"blob {source.digest}"
    session = state.limits_of(endpoint).session(session)
    if codec is None:
        session = yield from _upload(session, blob, options, what)
        state.learn(endpoint, session)
        return source
    if not isinstance(blob.body, FileSlice) or blob.diff_id is None:
        yield from abandon(session)
        raise ValidationError(f"{what} cannot be compressed: it is no layer of an archive")
    digest, size, session = yield from compress_upload(
        session,
        blob.body,
        blob.diff_id,
        codec,
        chunk_size=options.chunk_size or DEFAULT_CHUNK_SIZE,
        key=source.digest,
        what=f"layer {source.digest}",
    )
    state.learn(endpoint, session)
    target = Descriptor(_COMPRESSED_TYPES[codec], digest, size)
    state.compressed[(source.digest, codec)] = target
    return target


def _upload(session: Session, blob: BlobUpload, options: PushOptions, what: str) -> Flow[Session]:
    """Send an uncompressed blob: whole, unless asked for chunks or known to be too large for
    the registry; return the session as it ended."""
    digest, body = blob.descriptor.digest, blob.body
    if not isinstance(body, FileSlice | BytesBody):
        yield from abandon(session)
        raise ValidationError(f"{what} has no content to upload")
    fits = session.max_body is None or body.length <= session.max_body
    # A blob that fits in one chunk goes in one request all the same.
    one_chunk = options.chunk_size is None or body.length <= session.chunk_size(options.chunk_size)
    if session.chunks_refused or (one_chunk and fits):
        try:
            yield from finish_upload(session, digest, body, body.length, key=digest, what=what)
            return session
        except RegistryError as exc:
            if exc.status not in _TOO_LARGE or session.chunks_refused:
                yield from abandon(session)
                raise
            refusal = exc.status
        except RegistryProtoError:
            yield from abandon(session)
            raise
        # Too large for one request here: chunks, through the same session (the refusal came
        # before any byte was taken). Proxies and most registries say so with 413, GHCR with
        # 416 (docs/protocol.md §3.3).
        session = dataclasses.replace(session, max_body=fallback_body(body.length))
        yield from notice(
            "push",
            f"the registry refused {what} in one request (HTTP {refusal}): sending it in "
            f"chunks of at most {session.max_body} bytes",
            digest=digest,
        )
    return (
        yield from upload_chunked(
            session,
            digest,
            body,
            chunk_size=options.chunk_size or DEFAULT_CHUNK_SIZE,
            key=digest,
            what=what,
        )
    )


def _push_scopes(
    endpoint: RegistryEndpoint,
    repository: str,
    blobs: list[BlobUpload],
    options: PushOptions,
    state: PushState,
) -> frozenset[str]:
    """Push access to `repository`, and read access where blobs may be mounted from."""
    scopes = {f"repository:{repository}:pull,push"}
    if options.mount:
        for blob in blobs:
            holder = state.holder(endpoint, blob.descriptor.digest, repository)
            if holder is not None:
                scopes.add(f"repository:{holder}:pull")
    return frozenset(scopes)


def _unique(blobs: list[BlobUpload]) -> list[BlobUpload]:
    """Each blob once: a layer listed twice (or shared by images) goes up once."""
    return list({blob.descriptor.digest: blob for blob in blobs}.values())


def _started(repository: str, blobs: list[BlobUpload]) -> Flow[None]:
    total = sum(blob.descriptor.size for blob in blobs)
    yield from emit(TransferStarted(total, len(blobs), "push", repository))


def push_image(
    endpoint: RegistryEndpoint,
    repository: str,
    tag: str,
    image: ImageToPush,
    *,
    options: PushOptions | None = None,
    state: PushState | None = None,
) -> Flow[str]:
    """Push `image` as `repository:tag`; return the manifest digest."""
    options = options or PushOptions()
    state = state if state is not None else PushState()
    blobs = _unique([image.config, *image.layers])
    yield from declare_scopes(endpoint, _push_scopes(endpoint, repository, blobs, options, state))
    yield from _started(repository, blobs)
    stored = yield from parallel(
        [push_blob(endpoint, repository, blob, options, state) for blob in blobs],
        limit=options.max_concurrency,
    )
    final = {
        blob.descriptor.digest: descriptor for blob, descriptor in zip(blobs, stored, strict=True)
    }
    manifest = image.manifest
    layers = tuple(final[layer.descriptor.digest] for layer in image.layers)
    if layers != tuple(layer.descriptor for layer in image.layers):
        # Compressed on the way: a new OCI manifest names the new layers. The config, and so
        # the image ID, is unchanged.
        config = Descriptor(
            OCI_CONFIG, image.config.descriptor.digest, image.config.descriptor.size
        )
        manifest = ImageManifest.build(OCI_MANIFEST, config, layers)
    digest = yield from put_manifest(endpoint, repository, tag, manifest.media_type, manifest.data)
    yield from emit(ManifestPushed(repository, tag, digest))
    return digest


def push_index(
    endpoint: RegistryEndpoint,
    repository: str,
    tag: str,
    index: IndexToPush,
    *,
    options: PushOptions | None = None,
    state: PushState | None = None,
) -> Flow[str]:
    """Push a whole multi-platform index as `repository:tag`; return its digest.

    Every child's blobs go up in parallel, then each child manifest by digest, then the index.
    """
    options = options or PushOptions()
    state = state if state is not None else PushState()
    if options.compression is not None:
        raise ValidationError("an index is pushed as it is stored: compression would change it")
    blobs = _unique([blob for child in index.children for blob in child.blobs])
    yield from declare_scopes(endpoint, _push_scopes(endpoint, repository, blobs, options, state))
    yield from _started(repository, blobs)
    yield from parallel(
        [push_blob(endpoint, repository, blob, options, state) for blob in blobs],
        limit=options.max_concurrency,
    )
    for child in index.children:
        yield from put_manifest(endpoint, repository, child.digest, child.media_type, child.data)
        yield from emit(ManifestPushed(repository, child.digest, child.digest))
    digest = yield from put_manifest(endpoint, repository, tag, index.media_type, index.data)
    yield from emit(ManifestPushed(repository, tag, digest))
    return digest

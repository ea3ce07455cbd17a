"""Copying an image from one repository or registry to another (docs/protocol.md §4, §5, §6).

Manifests are copied byte for byte, so the copy has the same digest. Blobs the destination
has are skipped; within one registry the rest are mounted from the source repository; across
registries each blob is downloaded into a temporary file and uploaded from it, so memory stays
flat, and the file is removed as soon as the blob is up. As with pushes, a manifest is written
only after everything it names is in place, and an index only after all its children.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._auth import declare_scopes
from .._effects import Flow, emit, parallel, remove_file, temp_file
from .._errors import RegistryProtoError
from .._events import BlobMounted, BlobSkipped, ManifestPushed, TransferStarted
from .._manifest import Descriptor
from .._models import FileSink, FileSlice
from .._platform import Platform
from .._reference import RegistryEndpoint
from ._documents import image_blobs, is_index, json_object, pick_platform, platform_entries
from .blobs import blob_exists, download_blob
from .manifests import FetchedManifest, get_manifest, put_manifest
from .push import BlobUpload, PushOptions, PushState, upload_blob
from .upload import abandon, try_mount

__all__ = ["Location", "copy_image"]


@dataclass(frozen=True, slots=True)
class Location:
    """A repository on a registry."""

    endpoint: RegistryEndpoint
    repository: str


def copy_image(
    source: Location,
    reference: str,
    destination: Location,
    tag: str | None,
    *,
    platform: Platform | None = None,
    host: Platform | None = None,
    all_platforms: bool = False,
    options: PushOptions | None = None,
    state: PushState | None = None,
) -> Flow[str]:
    """Copy `source:reference` to `destination` (as `tag`, or by digest only); return the digest.

    From an index, `all_platforms` copies the whole index; otherwise `platform` picks one image
    (by default the only one, else the host's).
    """
    options = options or PushOptions()
    state = state if state is not None else PushState()
    manifest = yield from get_manifest(source.endpoint, source.repository, reference)
    document = json_object(manifest.data)
    where = f"{source.repository}:{reference}"
    if is_index(manifest.media_type, document):
        entries = platform_entries(document)
        if all_platforms:
            children = []
            for entry in entries:
                children.append(
                    (yield from get_manifest(source.endpoint, source.repository, entry.digest))
                )
            blobs = _unique([blob for child in children for blob in _blobs(child)])
            yield from _copy_blobs(source, destination, blobs, options, state)
            for child in children:
                yield from _put(destination, child.digest, child)
            return (yield from _put(destination, tag or manifest.digest, manifest))
        chosen = pick_platform(entries, platform, host, where)
        manifest = yield from get_manifest(source.endpoint, source.repository, chosen.digest)
    yield from _copy_blobs(source, destination, _blobs(manifest), options, state)
    return (yield from _put(destination, tag or manifest.digest, manifest))


def _copy_blobs(
    source: Location,
    destination: Location,
    blobs: list[Descriptor],
    options: PushOptions,
    state: PushState,
) -> Flow[None]:
    scopes = {f"repository:{destination.repository}:pull,push"}
    same_registry = source.endpoint.base_url == destination.endpoint.base_url
    if same_registry:
        scopes.add(f"repository:{source.repository}:pull")
    yield from declare_scopes(destination.endpoint, frozenset(scopes))
    total = sum(blob.size for blob in blobs)
    yield from emit(TransferStarted(total, len(blobs), "copy", destination.repository))
    yield from parallel(
        [_copy_blob(source, destination, blob, options, state) for blob in blobs],
        limit=options.max_concurrency,
    )


def _copy_blob(
    source: Location,
    destination: Location,
    blob: Descriptor,
    options: PushOptions,
    state: PushState,
) -> Flow[None]:
    """One `HEAD` skips what the destination has; within one registry a mount is tried; else
    the blob goes through a temporary file: downloaded whole and checked, then uploaded
    (through the session a declined mount opened, if any)."""
    target = destination.endpoint
    same_registry = source.endpoint.base_url == target.base_url
    if same_registry and source.repository == destination.repository:
        yield from emit(BlobSkipped(blob.digest, blob.size))
        return  # it is all there already
    if (yield from blob_exists(target, destination.repository, blob.digest)):
        yield from emit(BlobSkipped(blob.digest, blob.size))
        return
    session = None
    if same_registry:
        mounted, session = yield from try_mount(
            target, destination.repository, blob.digest, source.repository
        )
        if mounted:
            state.remember(target, blob.digest, destination.repository)
            yield from emit(BlobMounted(blob.digest, blob.size, source.repository))
            return
    spool = yield from temp_file("", ".blob")
    try:
        yield from download_blob(
            source.endpoint,
            source.repository,
            blob.digest,
            blob.size,
            FileSink(spool, 0, blob.size),
        )
    except RegistryProtoError:
        if session is not None:  # the upload it opened will not happen
            yield from abandon(session)
        raise
    upload = BlobUpload(blob, FileSlice(spool, 0, blob.size))
    yield from upload_blob(target, destination.repository, upload, options, state, session)
    yield from remove_file(spool)


def _put(destination: Location, reference: str, manifest: FetchedManifest) -> Flow[str]:
    digest = yield from put_manifest(
        destination.endpoint,
        destination.repository,
        reference,
        manifest.media_type or str(json_object(manifest.data).get("mediaType") or ""),
        manifest.data,
    )
    yield from emit(ManifestPushed(destination.repository, reference, digest))
    return digest


def _blobs(manifest: FetchedManifest) -> list[Descriptor]:
    """The config and layers an image manifest names."""
    config, layers = image_blobs(json_object(manifest.data), f"manifest {manifest.digest}")
    return [config, *layers]


def _unique(blobs: list[Descriptor]) -> list[Descriptor]:
    return list({blob.digest: blob for blob in blobs}.values())

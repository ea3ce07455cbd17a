"""Pulling an image into an archive file (docs/protocol.md §5.2, §6.3, §10.2).

The archive is the layout `docker save` writes since Docker 25: an OCI image layout
(`oci-layout`, `index.json`, `blobs/sha256/...`) with a `manifest.json` beside it. So
`docker load`, `podman load`, `skopeo copy docker-archive:` or `oci-archive:` and this
library's own pushes all read it, and the registry's manifest bytes are kept: pushing the
archive again gives the same digest.

Every member's size is known from the manifest before a byte is downloaded, so the tar is laid
out first and each blob streams straight into its place in the file, all in parallel; nothing
is held in memory. The file is written under a temporary name and renamed into place once
complete, so a failed pull never leaves a partial archive behind; every document is checked
before that file is created, so the destination is only ever replaced by a complete archive.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Any

from .._effects import Flow, emit, move_file, parallel, temp_file, write_file
from .._errors import RemoteProtocolError
from .._events import BlobDownloaded, ManifestPulled, TransferStarted
from .._manifest import OCI_INDEX, Descriptor
from .._models import FileSink
from .._platform import Platform
from .._reference import RegistryEndpoint
from .._tar import END_OF_ARCHIVE, file_header, padding
from ._documents import (
    IMAGE_TYPES,
    MAX_CONFIG_BYTES,
    image_blobs,
    is_index,
    json_object,
    pick_platform,
    platform_entries,
)
from .blobs import download_blob, get_blob
from .manifests import FetchedManifest, get_manifest
from .push import DEFAULT_MAX_CONCURRENCY

__all__ = ["PullResult", "pull_image"]


@dataclass(frozen=True, slots=True)
class PullResult:
    """A pulled image: where its archive is, and what it holds."""

    path: str
    repository: str
    reference: str
    digest: str
    platform: Platform | None
    size: int


@dataclass(frozen=True, slots=True)
class _Member:
    name: str
    size: int
    data: bytes | None  # None: a blob downloaded into place
    digest: str = ""


def pull_image(
    endpoint: RegistryEndpoint,
    repository: str,
    reference: str,
    destination: str,
    *,
    platform: Platform | None = None,
    host: Platform | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Flow[PullResult]:
    """Pull `repository:reference` (a tag or digest) into an archive at `destination`."""
    manifest = yield from get_manifest(endpoint, repository, reference)
    document = json_object(manifest.data)
    where = f"{repository}:{reference}"
    if is_index(manifest.media_type, document):
        chosen = pick_platform(platform_entries(document), platform, host, where)
        manifest = yield from get_manifest(endpoint, repository, chosen.digest)
        document = json_object(manifest.data)
    media_type = manifest.media_type or str(document.get("mediaType") or "")
    if media_type not in IMAGE_TYPES:
        raise RemoteProtocolError(f"{where} is not an image manifest this client can pull")
    config_descriptor, layers = image_blobs(document, where)
    blobs = list({d.digest: d for d in [config_descriptor, *layers]}.values())
    yield from emit(TransferStarted(sum(d.size for d in blobs), len(blobs), "pull", repository))
    config = yield from get_blob(
        endpoint, repository, config_descriptor.digest, max_bytes=MAX_CONFIG_BYTES
    )
    yield from emit(BlobDownloaded(config_descriptor.digest, len(config)))
    # Everything that can be checked is checked before the first byte is written: a pull that
    # fails leaves the destination as it was.
    pulled_platform = Platform.from_json(json_object(config, "image config"))
    tag = None if ":" in reference else reference
    members = _members(
        endpoint, repository, tag, manifest, media_type, config, config_descriptor, layers
    )

    directory = posixpath.dirname(destination) or "."
    partial = yield from temp_file(directory, ".partial")
    offset = 0
    downloads = []
    for member in members:
        header = file_header(member.name, member.size)
        if member.data is not None:
            yield from write_file(
                partial, offset, header + member.data + bytes(padding(member.size))
            )
        else:
            yield from write_file(partial, offset, header)
            sink = FileSink(partial, offset + len(header), member.size)
            downloads.append(download_blob(endpoint, repository, member.digest, member.size, sink))
            if padding(member.size):
                end = offset + len(header) + member.size
                yield from write_file(partial, end, bytes(padding(member.size)))
        offset += len(header) + member.size + padding(member.size)
    yield from write_file(partial, offset, END_OF_ARCHIVE)
    yield from parallel(downloads, limit=max_concurrency)
    yield from move_file(partial, destination)
    yield from emit(ManifestPulled(repository, reference, manifest.digest, destination))
    return PullResult(
        path=destination,
        repository=repository,
        reference=reference,
        digest=manifest.digest,
        platform=pulled_platform,
        size=offset + len(END_OF_ARCHIVE),
    )


def _members(
    endpoint: RegistryEndpoint,
    repository: str,
    tag: str | None,
    manifest: FetchedManifest,
    media_type: str,
    config: bytes,
    config_descriptor: Descriptor,
    layers: list[Descriptor],
) -> list[_Member]:
    """The archive's members, in order: metadata first, then the blobs."""
    name = f"{endpoint.host}/{repository}:{tag}" if tag else None
    annotations = {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": tag}
    entry: dict[str, Any] = {
        "mediaType": media_type,
        "digest": manifest.digest,
        "size": len(manifest.data),
    }
    if name is not None:
        entry["annotations"] = annotations
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}
    blob_names = {d.digest: "blobs/" + d.digest.replace(":", "/", 1) for d in layers}
    docker = [
        {
            "Config": "blobs/" + config_descriptor.digest.replace(":", "/", 1),
            "RepoTags": [name] if name else [],
            "Layers": [blob_names[d.digest] for d in layers],
        }
    ]
    members = [
        _Member("oci-layout", *_json({"imageLayoutVersion": "1.0.0"})),
        _Member("index.json", *_json(index)),
        _Member("manifest.json", *_json(docker)),
        _Member("blobs/" + manifest.digest.replace(":", "/", 1), len(manifest.data), manifest.data),
        _Member("blobs/" + config_descriptor.digest.replace(":", "/", 1), len(config), config),
    ]
    seen = {manifest.digest, config_descriptor.digest}
    for layer in layers:
        if layer.digest not in seen:  # a layer listed twice is stored once
            seen.add(layer.digest)
            members.append(_Member(blob_names[layer.digest], layer.size, None, layer.digest))
    return members


def _json(value: object) -> tuple[int, bytes]:
    data = json.dumps(value, indent=2).encode() + b"\n"
    return len(data), data

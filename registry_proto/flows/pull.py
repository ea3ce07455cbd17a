"""Pulling an image into an archive file (protocol.md §5.2, §6.3, §10.2).

The archive is the layout `docker save` writes since Docker 25: an OCI image layout
(`oci-layout`, `index.json`, `blobs/sha256/...`) with a `manifest.json` beside it. So
`docker load`, `podman load`, `skopeo copy docker-archive:` or `oci-archive:` and this
library's own pushes all read it, and the registry's manifest bytes are kept: pushing the
archive again gives the same digest.

Every member's size is known from the manifest before a byte is downloaded, so the tar is laid
out first and each blob streams straight into its place in the file, all in parallel; nothing
is held in memory. The file is written under a temporary name and renamed into place once
complete, so a failed pull never leaves a partial archive behind.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Any

from .._archive import Platform
from .._effects import Flow, move_file, parallel, temp_file, write_file
from .._errors import RemoteProtocolError, ValidationError
from .._manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, Descriptor
from .._models import FileSink
from .._reference import RegistryEndpoint, validate_digest
from .._tar import END_OF_ARCHIVE, file_header, padding
from .blobs import download_blob, get_blob
from .info import PlatformManifest, choose_platform, platform_entries
from .manifests import FetchedManifest, get_manifest

__all__ = ["PullResult", "pull_image"]

_INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
_IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
_MAX_CONFIG_BYTES = 8 * 1024 * 1024


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
    max_concurrency: int = 6,
) -> Flow[PullResult]:
    """Pull `repository:reference` (a tag or digest) into an archive at `destination`."""
    manifest = yield from get_manifest(endpoint, repository, reference)
    document = _object(manifest.data)
    if manifest.media_type in _INDEX_TYPES or "manifests" in document:
        chosen = _pick(platform_entries(document), platform, host, f"{repository}:{reference}")
        manifest = yield from get_manifest(endpoint, repository, chosen.digest)
        document = _object(manifest.data)
    media_type = manifest.media_type or str(document.get("mediaType") or "")
    if media_type not in _IMAGE_TYPES or not isinstance(document.get("config"), dict):
        raise RemoteProtocolError(
            f"{repository}:{reference} is not an image manifest this client can pull ({media_type})"
        )
    config_descriptor = _descriptor(document["config"])
    layers = [_descriptor(raw) for raw in document.get("layers") or []]
    config = yield from get_blob(
        endpoint, repository, config_descriptor.digest, max_bytes=_MAX_CONFIG_BYTES
    )
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
    config_json = _object(config)
    return PullResult(
        path=destination,
        repository=repository,
        reference=reference,
        digest=manifest.digest,
        platform=_config_platform(config_json),
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


def _pick(
    entries: tuple[PlatformManifest, ...],
    platform: Platform | None,
    host: Platform | None,
    where: str,
) -> PlatformManifest:
    """The platform asked for; else the only image; else the host's; else a clear error."""
    if platform is not None:
        return choose_platform(entries, platform, where)
    images = [
        e
        for e in entries
        if e.media_type in _IMAGE_TYPES
        and e.platform is not None
        and (e.platform.os, e.platform.architecture) != ("unknown", "unknown")
    ]
    if len(images) == 1:
        return images[0]
    if host is not None:
        for entry in images:
            if entry.platform is not None and entry.platform.matches(host):
                return entry
    raise ValidationError(
        f"{where} holds several platforms {sorted(str(e.platform) for e in images)}; "
        "choose one with platform="
    )


def _object(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise RemoteProtocolError("the registry's manifest is not JSON") from None
    if not isinstance(document, dict):
        raise RemoteProtocolError("the registry's manifest is not a JSON object")
    return document


def _descriptor(raw: object) -> Descriptor:
    if not isinstance(raw, dict):
        raise RemoteProtocolError("malformed descriptor in the manifest")
    digest, size, media_type = raw.get("digest"), raw.get("size"), raw.get("mediaType")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise RemoteProtocolError("malformed descriptor size in the manifest")
    try:
        validate_digest(digest)
    except ValidationError:
        raise RemoteProtocolError(f"malformed digest {digest!r} in the manifest") from None
    assert isinstance(digest, str)
    return Descriptor(media_type if isinstance(media_type, str) else "", digest, size)


def _config_platform(config: dict[str, Any]) -> Platform | None:
    os_name, arch, variant = config.get("os"), config.get("architecture"), config.get("variant")
    if isinstance(os_name, str) and isinstance(arch, str):
        return Platform(os_name, arch, variant if isinstance(variant, str) and variant else None)
    return None

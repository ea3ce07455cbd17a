"""The 1.x async functions: 1.x's parameters, defaults and return shapes, on `registry_async`.

Each call opens a client for itself, as in 1.x. The pushes also take `registry_async`'s push
options as keywords after 1.x's parameters (`source`, `platform`, `compression`, `progress`,
...; see `PushArgs`). `timeout` is in seconds and bounds each step
of every request (connecting, each read and write) rather than a whole request, so a large
push is not cut off while it is still moving. Credentials come from the docker config, as for
every call of this package.
"""

from __future__ import annotations

import json
from typing import Any, Unpack

import registry_async
from registry_async import AsyncRegistryClient
from registry_proto import (
    Flow,
    RegistryEndpoint,
    RemoteProtocolError,
    ValidationError,
    validate_digest,
    validate_reference,
)
from registry_proto.flows import FetchedManifest, get_blob, split_original_tag
from registry_proto.flows import get_manifest as fetch_manifest
from registry_proto.operations import PushArgs
from registry_proto.operations import extract_original_tags as recorded_tags

from ._tar import PathLike, names_repository

__all__ = [
    "check_registry_connectivity",
    "delete_image",
    "delete_image_by_digest",
    "get_image_info",
    "get_manifest",
    "list_repositories",
    "list_tags",
    "push_docker_tar",
    "push_docker_tar_with_all_original_tags",
    "push_docker_tar_with_original_tags",
]

# Configs are small JSON documents; anything larger than this is no config.
_MAX_CONFIG_BYTES = 8 * 1024 * 1024


async def check_registry_connectivity(registry_url: str, timeout: float = 30) -> bool:
    """True when a v2 registry answers at `registry_url` (even one asking for a login), False
    when nothing does."""
    return await registry_async.check_registry_connectivity(registry_url, timeout=float(timeout))


def _push_target(
    recorded: list[str], repository: str | None, tag: str | None
) -> tuple[str, str, str | None]:
    """Where to push, as 1.x decided: what the caller gave, else the archive's first recorded
    tag (its registry host removed), else the tag `latest`. Also which image to push: the one
    that tag names."""
    first = next((text for text in recorded if names_repository(text)), None)
    original = split_original_tag(first) if first is not None else None
    final_repository = repository or (original[0] if original else None)
    final_tag = tag or (original[1] if original else "latest")
    if not final_repository:
        raise ValidationError(
            "the archive records no tag to push under: name the repository, as in "
            "push_docker_tar(tar_path, registry_url, repository=...)"
        )
    return final_repository, final_tag, first or next(iter(recorded), None)


async def push_docker_tar(
    tar_path: PathLike,
    registry_url: str,
    repository: str | None = None,
    tag: str | None = None,
    timeout: float = 300,
    **options: Unpack[PushArgs],
) -> str:
    """Push an image archive; return the manifest digest.

    Without `repository` or `tag`, the missing part comes from the archive's first recorded
    tag (without its registry host); a missing tag with nothing recorded is `latest`. Of an
    archive holding several images, the one that tag names is pushed, unless `source=` names
    another.
    """
    async with AsyncRegistryClient(timeout=float(timeout)) as client:
        chosen = options.get("source")
        recorded = [chosen] if chosen else await client.run(recorded_tags(tar_path))
        final_repository, final_tag, options["source"] = _push_target(recorded, repository, tag)
        return await client.push_docker_tar(
            tar_path, registry_url, final_repository, final_tag, **options
        )


async def push_docker_tar_with_original_tags(
    tar_path: PathLike, registry_url: str, timeout: float = 300, **options: Unpack[PushArgs]
) -> str:
    """Push under the archive's first recorded tag (without its registry host)."""
    if "source" in options:
        raise ValidationError("source does not apply: the first recorded tag is pushed")
    return await push_docker_tar(tar_path, registry_url, timeout=timeout, **options)


async def push_docker_tar_with_all_original_tags(
    tar_path: PathLike, registry_url: str, timeout: float = 300, **options: Unpack[PushArgs]
) -> list[str]:
    """Push under every tag the archive records (of every image in it); return the digests,
    one per tag."""
    pushed = await registry_async.push_docker_tar_with_all_original_tags(
        tar_path, registry_url, timeout=float(timeout), **options
    )
    return [result.digest for result in pushed]


async def list_repositories(registry_url: str, timeout: float = 10) -> list[str]:
    """Every repository in the registry's catalog, all pages followed."""
    return await registry_async.list_repositories(registry_url, timeout=float(timeout))


async def list_tags(registry_url: str, repository: str, timeout: float = 10) -> list[str]:
    """Every tag of `repository`, all pages followed."""
    return await registry_async.list_tags(registry_url, repository, timeout=float(timeout))


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise RemoteProtocolError(f"{what} is not JSON") from None
    if not isinstance(document, dict):
        raise RemoteProtocolError(f"{what} is not a JSON object")
    return document


def _manifest_dict(fetched: FetchedManifest, what: str) -> dict[str, Any]:
    """The manifest document with its digest added under `digest`, as 1.x returned it."""
    return {**_json_object(fetched.data, what), "digest": fetched.digest}


def _manifest_flow(endpoint: RegistryEndpoint, repository: str, tag: str) -> Flow[dict[str, Any]]:
    fetched = yield from fetch_manifest(endpoint, repository, tag)
    return _manifest_dict(fetched, f"manifest {repository}:{tag}")


def _image_info_flow(
    endpoint: RegistryEndpoint, repository: str, name: str, tag: str
) -> Flow[dict[str, Any]]:
    """1.x's image description: the manifest, its config, and figures from both. An index
    has no config of its own, and is described by its manifest alone."""
    manifest = yield from _manifest_flow(endpoint, repository, tag)
    descriptor = manifest.get("config")
    digest = descriptor.get("digest") if isinstance(descriptor, dict) else None
    if not isinstance(digest, str):
        return {"repository": name, "tag": tag, "manifest": manifest, "config": None}
    data = yield from get_blob(
        endpoint, repository, validate_digest(digest), max_bytes=_MAX_CONFIG_BYTES
    )
    config = _json_object(data, f"the config of {repository}:{tag}")
    layers = manifest.get("layers")
    layers = layers if isinstance(layers, list) else []
    sizes = [d.get("size", 0) for d in [descriptor, *layers] if isinstance(d, dict)]
    return {
        "repository": name,
        "tag": tag,
        "digest": manifest["digest"],
        "manifest": manifest,
        "config": config,
        "architecture": config.get("architecture"),
        "os": config.get("os"),
        "created": config.get("created"),
        "total_size": sum(size for size in sizes if isinstance(size, int)),
        "layer_count": len(layers),
    }


async def _fetch(registry_url: str, flow: Flow[dict[str, Any]], timeout: float) -> dict[str, Any]:
    async with AsyncRegistryClient(timeout=float(timeout)) as client:
        return await client.run(flow, registry_url=registry_url)


async def get_manifest(
    registry_url: str, repository: str, tag: str, timeout: float = 10
) -> dict[str, Any]:
    """The manifest `tag` (or a digest) names, as a dict, with its digest under `digest`.

    Every manifest type is accepted: Docker and OCI images, manifest lists and OCI indexes.
    """
    endpoint = RegistryEndpoint.parse(registry_url)
    flow = _manifest_flow(endpoint, endpoint.repository(repository), validate_reference(tag))
    return await _fetch(registry_url, flow, timeout)


async def get_image_info(
    registry_url: str, repository: str, tag: str, timeout: float = 10
) -> dict[str, Any]:
    """An image's manifest and config, with `repository`, `tag`, `digest`, `architecture`,
    `os`, `created`, `total_size` (config and layers) and `layer_count`. For an index,
    `manifest` and `config: None` only."""
    endpoint = RegistryEndpoint.parse(registry_url)
    stored = endpoint.repository(repository)
    flow = _image_info_flow(endpoint, stored, repository, validate_reference(tag))
    return await _fetch(registry_url, flow, timeout)


async def delete_image(registry_url: str, repository: str, tag: str, timeout: float = 10) -> bool:
    """Delete the image `tag` names (by its digest, so every tag on it goes)."""
    return await registry_async.delete_image(registry_url, repository, tag, timeout=float(timeout))


async def delete_image_by_digest(
    registry_url: str, repository: str, digest: str, timeout: float = 10
) -> bool:
    """Delete the image with manifest `digest`."""
    validate_digest(digest)
    return await registry_async.delete_image(
        registry_url, repository, digest, timeout=float(timeout)
    )

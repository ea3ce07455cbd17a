"""Module-level async functions: each opens a client for one call.

Every function also takes the client options (`username`, `password`, `identity_token`,
`docker_config`, `verify`, `client_cert`, `timeout`, `max_concurrency`); see `ClientOptions`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Unpack

from registry_proto.flows import ApiVersion, ImageInfo, PullResult, PushResult
from registry_sync._settings import ClientOptions, PushCallOptions, split_options

from ._client import AsyncRegistryClient

__all__ = [
    "check_registry_connectivity",
    "copy_image",
    "delete_image",
    "get_image_info",
    "iter_repositories",
    "iter_tags",
    "list_repositories",
    "list_tags",
    "ping",
    "pull_image",
    "push_docker_tar",
    "push_docker_tar_with_all_original_tags",
    "push_docker_tar_with_original_tags",
]


async def check_registry_connectivity(registry_url: str, **options: Unpack[ClientOptions]) -> bool:
    """True when a v2 registry answers at `registry_url`; False when nothing does."""
    async with AsyncRegistryClient(**options) as client:
        return await client.check_registry_connectivity(registry_url)


async def ping(registry_url: str, **options: Unpack[ClientOptions]) -> ApiVersion:
    """The registry's API version header and the auth schemes it asks for."""
    async with AsyncRegistryClient(**options) as client:
        return await client.ping(registry_url)


async def push_docker_tar(
    tar_path: str | os.PathLike[str],
    registry_url: str,
    repository: str,
    tag: str,
    **options: Unpack[PushCallOptions],
) -> str:
    """Push the image in an image archive as `repository:tag`; return the manifest digest."""
    client_options, push = split_options(dict(options))
    async with AsyncRegistryClient(**client_options) as client:
        return await client.push_docker_tar(tar_path, registry_url, repository, tag, **push)


async def push_docker_tar_with_original_tags(
    tar_path: str | os.PathLike[str], registry_url: str, **options: Unpack[PushCallOptions]
) -> str:
    """Push under the first tag recorded in the archive (host removed); return the digest."""
    client_options, push = split_options(dict(options))
    async with AsyncRegistryClient(**client_options) as client:
        return await client.push_docker_tar_with_original_tags(tar_path, registry_url, **push)


async def push_docker_tar_with_all_original_tags(
    tar_path: str | os.PathLike[str], registry_url: str, **options: Unpack[PushCallOptions]
) -> list[PushResult]:
    """Push every tag recorded in the archive (all images); return what was pushed."""
    client_options, push = split_options(dict(options))
    async with AsyncRegistryClient(**client_options) as client:
        return await client.push_docker_tar_with_all_original_tags(tar_path, registry_url, **push)


async def list_repositories(
    registry_url: str, *, page_size: int | None = None, **options: Unpack[ClientOptions]
) -> list[str]:
    """Every repository in the registry's catalog (all pages followed)."""
    async with AsyncRegistryClient(**options) as client:
        return await client.list_repositories(registry_url, page_size=page_size)


async def list_tags(
    registry_url: str,
    repository: str,
    *,
    page_size: int | None = None,
    **options: Unpack[ClientOptions],
) -> list[str]:
    """Every tag of `repository` (all pages followed)."""
    async with AsyncRegistryClient(**options) as client:
        return await client.list_tags(registry_url, repository, page_size=page_size)


async def iter_repositories(
    registry_url: str, *, page_size: int | None = None, **options: Unpack[ClientOptions]
) -> AsyncIterator[str]:
    """Repository names, fetched lazily one catalog page at a time."""
    async with AsyncRegistryClient(**options) as client:
        async for name in client.iter_repositories(registry_url, page_size=page_size):
            yield name


async def iter_tags(
    registry_url: str,
    repository: str,
    *,
    page_size: int | None = None,
    **options: Unpack[ClientOptions],
) -> AsyncIterator[str]:
    """Tags of `repository`, fetched lazily one page at a time."""
    async with AsyncRegistryClient(**options) as client:
        async for name in client.iter_tags(registry_url, repository, page_size=page_size):
            yield name


async def get_image_info(
    registry_url: str,
    repository: str,
    reference: str,
    *,
    platform: str | None = None,
    **options: Unpack[ClientOptions],
) -> ImageInfo:
    """Describe an image or index by tag or digest; `platform` picks one image of an index."""
    async with AsyncRegistryClient(**options) as client:
        return await client.get_image_info(registry_url, repository, reference, platform=platform)


async def pull_image(
    registry_url: str,
    repository: str,
    reference: str,
    destination: str | os.PathLike[str],
    *,
    platform: str | None = None,
    **options: Unpack[ClientOptions],
) -> PullResult:
    """Pull an image by tag or digest into an archive file; `platform` picks from an index."""
    async with AsyncRegistryClient(**options) as client:
        return await client.pull_image(
            registry_url, repository, reference, destination, platform=platform
        )


async def copy_image(
    source_registry_url: str,
    source_repository: str,
    reference: str,
    destination_registry_url: str,
    destination_repository: str,
    tag: str | None = None,
    *,
    platform: str | None = None,
    all_platforms: bool = False,
    **options: Unpack[ClientOptions],
) -> str:
    """Copy an image to another repository or registry, byte for byte; return its digest."""
    async with AsyncRegistryClient(**options) as client:
        return await client.copy_image(
            source_registry_url,
            source_repository,
            reference,
            destination_registry_url,
            destination_repository,
            tag,
            platform=platform,
            all_platforms=all_platforms,
        )


async def delete_image(
    registry_url: str, repository: str, reference: str, **options: Unpack[ClientOptions]
) -> bool:
    """Delete the manifest a tag or digest points at (and so every tag on it)."""
    async with AsyncRegistryClient(**options) as client:
        return await client.delete_image(registry_url, repository, reference)

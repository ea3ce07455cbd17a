"""Module-level async functions: each opens a client for one call."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Unpack

from registry_proto.flows import ImageInfo, PushResult
from registry_proto.operations import PushArgs

from ._client import AsyncRegistryClient

__all__ = [
    "check_registry_connectivity",
    "delete_image",
    "get_image_info",
    "iter_repositories",
    "iter_tags",
    "list_repositories",
    "list_tags",
    "push_docker_tar",
    "push_docker_tar_with_all_original_tags",
    "push_docker_tar_with_original_tags",
]


async def check_registry_connectivity(registry_url: str) -> bool:
    """True when a v2 registry answers at `registry_url`; False when nothing does."""
    async with AsyncRegistryClient() as client:
        return await client.check_registry_connectivity(registry_url)


async def push_docker_tar(
    tar_path: str | os.PathLike[str],
    registry_url: str,
    repository: str,
    tag: str,
    **options: Unpack[PushArgs],
) -> str:
    """Push the image in an image archive as `repository:tag`; return the manifest digest."""
    async with AsyncRegistryClient() as client:
        return await client.push_docker_tar(tar_path, registry_url, repository, tag, **options)


async def push_docker_tar_with_original_tags(
    tar_path: str | os.PathLike[str], registry_url: str, **options: Unpack[PushArgs]
) -> str:
    """Push under the first tag recorded in the archive (host removed); return the digest."""
    async with AsyncRegistryClient() as client:
        return await client.push_docker_tar_with_original_tags(tar_path, registry_url, **options)


async def push_docker_tar_with_all_original_tags(
    tar_path: str | os.PathLike[str], registry_url: str, **options: Unpack[PushArgs]
) -> list[PushResult]:
    """Push every tag recorded in the archive (all images); return what was pushed."""
    async with AsyncRegistryClient() as client:
        return await client.push_docker_tar_with_all_original_tags(
            tar_path, registry_url, **options
        )


async def list_repositories(registry_url: str, *, page_size: int | None = None) -> list[str]:
    """Every repository in the registry's catalog (all pages followed)."""
    async with AsyncRegistryClient() as client:
        return await client.list_repositories(registry_url, page_size=page_size)


async def list_tags(
    registry_url: str, repository: str, *, page_size: int | None = None
) -> list[str]:
    """Every tag of `repository` (all pages followed)."""
    async with AsyncRegistryClient() as client:
        return await client.list_tags(registry_url, repository, page_size=page_size)


async def iter_repositories(
    registry_url: str, *, page_size: int | None = None
) -> AsyncIterator[str]:
    """Repository names, fetched lazily one catalog page at a time."""
    async with AsyncRegistryClient() as client:
        async for name in client.iter_repositories(registry_url, page_size=page_size):
            yield name


async def iter_tags(
    registry_url: str, repository: str, *, page_size: int | None = None
) -> AsyncIterator[str]:
    """Tags of `repository`, fetched lazily one page at a time."""
    async with AsyncRegistryClient() as client:
        async for name in client.iter_tags(registry_url, repository, page_size=page_size):
            yield name


async def get_image_info(
    registry_url: str, repository: str, reference: str, *, platform: str | None = None
) -> ImageInfo:
    """Describe an image or index by tag or digest; `platform` picks one image of an index."""
    async with AsyncRegistryClient() as client:
        return await client.get_image_info(registry_url, repository, reference, platform=platform)


async def delete_image(registry_url: str, repository: str, reference: str) -> bool:
    """Delete the manifest a tag or digest points at (and so every tag on it)."""
    async with AsyncRegistryClient() as client:
        return await client.delete_image(registry_url, repository, reference)

"""Module-level async functions: each opens a client for one call."""

from __future__ import annotations

import os

from registry_proto.flows import PushResult

from ._client import AsyncRegistryClient

__all__ = [
    "check_registry_connectivity",
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
    *,
    source: str | None = None,
) -> str:
    """Push the image in a `docker save` archive as `repository:tag`; return its digest."""
    async with AsyncRegistryClient() as client:
        return await client.push_docker_tar(tar_path, registry_url, repository, tag, source=source)


async def push_docker_tar_with_original_tags(
    tar_path: str | os.PathLike[str], registry_url: str
) -> str:
    """Push under the first tag recorded in the archive (host removed); return the digest."""
    async with AsyncRegistryClient() as client:
        return await client.push_docker_tar_with_original_tags(tar_path, registry_url)


async def push_docker_tar_with_all_original_tags(
    tar_path: str | os.PathLike[str], registry_url: str
) -> list[PushResult]:
    """Push every tag recorded in the archive; return what was pushed."""
    async with AsyncRegistryClient() as client:
        return await client.push_docker_tar_with_all_original_tags(tar_path, registry_url)


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

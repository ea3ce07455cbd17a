"""Module-level blocking functions: each opens a client for one call.

Every function also takes the client options (`username`, `password`, `identity_token`,
`docker_config`, `verify`, `client_cert`, `timeout`, `max_concurrency`); see `ClientOptions`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Unpack

from registry_proto import operations as ops
from registry_proto.flows import ApiVersion, ImageInfo, PullResult, PushResult

from ._client import RegistryClient
from ._driver import SyncDriver
from ._settings import ClientOptions, PushCallOptions, split_options

__all__ = [
    "check_registry_connectivity",
    "copy_image",
    "delete_image",
    "extract_original_tags",
    "get_image_info",
    "get_primary_tag",
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


def check_registry_connectivity(registry_url: str, **options: Unpack[ClientOptions]) -> bool:
    """True when a v2 registry answers at `registry_url`; False when nothing does."""
    with RegistryClient(**options) as client:
        return client.check_registry_connectivity(registry_url)


def ping(registry_url: str, **options: Unpack[ClientOptions]) -> ApiVersion:
    """The registry's API version header and the auth schemes it asks for."""
    with RegistryClient(**options) as client:
        return client.ping(registry_url)


def push_docker_tar(
    tar_path: str | os.PathLike[str],
    registry_url: str,
    repository: str,
    tag: str,
    **options: Unpack[PushCallOptions],
) -> str:
    """Push the image in an image archive as `repository:tag`; return the manifest digest."""
    client_options, push = split_options(dict(options))
    with RegistryClient(**client_options) as client:
        return client.push_docker_tar(tar_path, registry_url, repository, tag, **push)


def push_docker_tar_with_original_tags(
    tar_path: str | os.PathLike[str], registry_url: str, **options: Unpack[PushCallOptions]
) -> str:
    """Push under the first tag recorded in the archive (host removed); return the digest."""
    client_options, push = split_options(dict(options))
    with RegistryClient(**client_options) as client:
        return client.push_docker_tar_with_original_tags(tar_path, registry_url, **push)


def push_docker_tar_with_all_original_tags(
    tar_path: str | os.PathLike[str], registry_url: str, **options: Unpack[PushCallOptions]
) -> list[PushResult]:
    """Push every tag recorded in the archive (all images); return what was pushed."""
    client_options, push = split_options(dict(options))
    with RegistryClient(**client_options) as client:
        return client.push_docker_tar_with_all_original_tags(tar_path, registry_url, **push)


def list_repositories(
    registry_url: str, *, page_size: int | None = None, **options: Unpack[ClientOptions]
) -> list[str]:
    """Every repository in the registry's catalog (all pages followed)."""
    with RegistryClient(**options) as client:
        return client.list_repositories(registry_url, page_size=page_size)


def list_tags(
    registry_url: str,
    repository: str,
    *,
    page_size: int | None = None,
    **options: Unpack[ClientOptions],
) -> list[str]:
    """Every tag of `repository` (all pages followed)."""
    with RegistryClient(**options) as client:
        return client.list_tags(registry_url, repository, page_size=page_size)


def iter_repositories(
    registry_url: str, *, page_size: int | None = None, **options: Unpack[ClientOptions]
) -> Iterator[str]:
    """Repository names, fetched lazily one catalog page at a time."""
    with RegistryClient(**options) as client:
        yield from client.iter_repositories(registry_url, page_size=page_size)


def iter_tags(
    registry_url: str,
    repository: str,
    *,
    page_size: int | None = None,
    **options: Unpack[ClientOptions],
) -> Iterator[str]:
    """Tags of `repository`, fetched lazily one page at a time."""
    with RegistryClient(**options) as client:
        yield from client.iter_tags(registry_url, repository, page_size=page_size)


def get_image_info(
    registry_url: str,
    repository: str,
    reference: str,
    *,
    platform: str | None = None,
    **options: Unpack[ClientOptions],
) -> ImageInfo:
    """Describe an image or index by tag or digest; `platform` picks one image of an index."""
    with RegistryClient(**options) as client:
        return client.get_image_info(registry_url, repository, reference, platform=platform)


def pull_image(
    registry_url: str,
    repository: str,
    reference: str,
    destination: str | os.PathLike[str],
    *,
    platform: str | None = None,
    **options: Unpack[ClientOptions],
) -> PullResult:
    """Pull an image by tag or digest into an archive file; `platform` picks from an index."""
    with RegistryClient(**options) as client:
        return client.pull_image(
            registry_url, repository, reference, destination, platform=platform
        )


def copy_image(
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
    with RegistryClient(**options) as client:
        return client.copy_image(
            source_registry_url,
            source_repository,
            reference,
            destination_registry_url,
            destination_repository,
            tag,
            platform=platform,
            all_platforms=all_platforms,
        )


def delete_image(
    registry_url: str, repository: str, reference: str, **options: Unpack[ClientOptions]
) -> bool:
    """Delete the manifest a tag or digest points at (and so every tag on it)."""
    with RegistryClient(**options) as client:
        return client.delete_image(registry_url, repository, reference)


def extract_original_tags(tar_path: str | os.PathLike[str]) -> list[str]:
    """Every tag recorded in the archive, exactly as recorded (empty when untagged)."""
    return SyncDriver(None).run(ops.extract_original_tags(tar_path))


def get_primary_tag(tar_path: str | os.PathLike[str]) -> tuple[str, str]:
    """`(repository, tag)` of the first tag recorded in the archive, registry host removed."""
    return SyncDriver(None).run(ops.get_primary_tag(tar_path))

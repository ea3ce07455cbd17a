"""The public operations, as flows with their arguments already validated.

Each function checks its arguments when called (a generator body would only run once driven)
and returns the flow that performs the operation. The clients in `registry_async` and
`registry_sync` call these and drive the result, so validation and behaviour are the same in
both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from ._archive import Platform, read_archive_tags
from ._effects import Flow
from ._errors import RegistryError, RemoteProtocolError, TransportFailure, ValidationError
from ._events import ProgressEvent
from ._reference import (
    RegistryEndpoint,
    validate_reference,
    validate_tag,
)
from .flows import (
    ApiVersion,
    ImageInfo,
    Location,
    Paginator,
    PullResult,
    PushOptions,
    PushResult,
    PushState,
    Selection,
    check_api_version,
    delete_manifest,
    parse_platform,
    push_all_original_tags,
    push_archive,
    push_original_tag,
    resolve_digest,
    split_original_tag,
)
from .flows import copy_image as _copy_image
from .flows import get_image_info as _get_image_info
from .flows import pull_image as _pull_image
from .flows import repositories_pager as _repositories_pager
from .flows import tags_pager as _tags_pager
from .flows.push import DEFAULT_MAX_CONCURRENCY

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "PushArgs",
    "PushContext",
    "check_registry_connectivity",
    "copy_image",
    "delete_image",
    "extract_original_tags",
    "get_image_info",
    "get_primary_tag",
    "list_repositories",
    "list_tags",
    "ping",
    "pull_image",
    "push_docker_tar",
    "push_docker_tar_with_all_original_tags",
    "push_docker_tar_with_original_tags",
    "repositories_pager",
    "tags_pager",
    "validate_concurrency",
    "validate_path",
]


def validate_path(value: object, what: str = "tar_path") -> str:
    """`value` as a path: a str or os.PathLike naming a file, without NUL characters."""
    if isinstance(value, bytes) or not isinstance(value, str | os.PathLike):
        raise ValidationError(f"{what} must be a str or os.PathLike, not {type(value).__name__}")
    path = os.fspath(value)
    if not isinstance(path, str) or not path or "\0" in path:
        raise ValidationError(f"{what} must be a non-empty path without NUL characters")
    return path


def validate_concurrency(max_concurrency: object) -> int:
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
        raise ValidationError("max_concurrency must be an int")
    if not 1 <= max_concurrency <= 256:
        raise ValidationError("max_concurrency must be between 1 and 256")
    return max_concurrency


def ping(registry_url: str) -> Flow[ApiVersion]:
    """`GET /v2/`: the API version header and the auth schemes the registry asks for."""
    return check_api_version(RegistryEndpoint.parse(registry_url))


def check_registry_connectivity(registry_url: str) -> Flow[bool]:
    """True when a v2 registry answers at `registry_url`, False when nothing (or no registry) does.

    A registry that asks for a login still counts as reachable. A malformed URL raises
    `ValidationError`.
    """
    endpoint = RegistryEndpoint.parse(registry_url)

    def flow() -> Generator[Any, Any, bool]:
        try:
            yield from check_api_version(endpoint)
        except (TransportFailure, RegistryError, RemoteProtocolError):
            return False
        return True

    return flow()


class PushArgs(TypedDict, total=False):
    """Keyword options every push function takes.

    - `source`: which image of a multi-image archive, by one of its recorded tags;
    - `platform`: `"os/arch[/variant]"` of a multi-platform archive to push;
    - `all_platforms`: push a multi-platform entry's whole index (all its platforms present);
    - `compression`: None keeps layers as stored; `"gzip"` / `"zstd"` compresses uncompressed
      layers while streaming them;
    - `chunk_size`: send blobs in chunks of this many bytes instead of one request each;
    - `progress`: a callable receiving `ProgressEvent`s (handled by the client, not here).
    """

    source: str | None
    platform: str | None
    all_platforms: bool
    compression: str | None
    chunk_size: int | None
    progress: Callable[[ProgressEvent], object] | None


class PushContext(TypedDict):
    """What a client brings to each push: its limits, the host platform, what it has learnt."""

    max_concurrency: int
    host_platform: Platform | None
    state: PushState | None


@dataclass(frozen=True, slots=True)
class _PushPlan:
    selection: Selection
    options: PushOptions
    source: str | None


def _plan(args: PushArgs, max_concurrency: int, host_platform: Platform | None) -> _PushPlan:
    unknown = set(args) - set(PushArgs.__annotations__)
    if unknown:
        raise ValidationError(f"unknown push option(s): {sorted(unknown)}")
    source = args.get("source")
    if source is not None and not isinstance(source, str):
        raise ValidationError("source must be a tag recorded in the archive, as a string")
    platform = args.get("platform")
    all_platforms = args.get("all_platforms", False)
    if not isinstance(all_platforms, bool):
        raise ValidationError("all_platforms must be True or False")
    compression = args.get("compression")
    chunk_size = args.get("chunk_size")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)):
        raise ValidationError("chunk_size must be a whole number of bytes or None")
    if compression is not None and not isinstance(compression, str):
        raise ValidationError("compression must be None, 'gzip' or 'zstd'")
    return _PushPlan(
        selection=Selection(
            platform=parse_platform(platform) if platform is not None else None,
            host=host_platform,
            all_platforms=all_platforms,
        ),
        options=PushOptions(
            max_concurrency=validate_concurrency(max_concurrency),
            chunk_size=chunk_size,
            compression=compression,
        ),
        source=source,
    )


def push_docker_tar(
    tar_path: str | os.PathLike[str],
    registry_url: str,
    repository: str,
    tag: str,
    *,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    host_platform: Platform | None = None,
    state: PushState | None = None,
    **args: Unpack[PushArgs],
) -> Flow[str]:
    """Push the image in an archive as `repository:tag`; the flow returns the manifest digest."""
    path = validate_path(tar_path)
    endpoint = RegistryEndpoint.parse(registry_url)
    repository = endpoint.repository(repository)
    validate_tag(tag)
    plan = _plan(args, max_concurrency, host_platform)
    return push_archive(
        endpoint,
        path,
        repository,
        tag,
        source=plan.source,
        selection=plan.selection,
        options=plan.options,
        state=state,
    )


def push_docker_tar_with_original_tags(
    tar_path: str | os.PathLike[str],
    registry_url: str,
    *,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    host_platform: Platform | None = None,
    state: PushState | None = None,
    **args: Unpack[PushArgs],
) -> Flow[str]:
    """Push under the archive's first recorded tag; the flow returns the manifest digest."""
    path = validate_path(tar_path)
    endpoint = RegistryEndpoint.parse(registry_url)
    plan = _plan(args, max_concurrency, host_platform)
    if plan.source is not None:
        raise ValidationError("source does not apply: the first recorded tag is pushed")
    inner = push_original_tag(
        endpoint, path, selection=plan.selection, options=plan.options, state=state
    )

    def flow() -> Generator[Any, Any, str]:
        result = yield from inner
        return result.digest

    return flow()


def push_docker_tar_with_all_original_tags(
    tar_path: str | os.PathLike[str],
    registry_url: str,
    *,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    host_platform: Platform | None = None,
    state: PushState | None = None,
    **args: Unpack[PushArgs],
) -> Flow[list[PushResult]]:
    """Push every tag recorded in the archive; the flow returns one result per tag."""
    path = validate_path(tar_path)
    endpoint = RegistryEndpoint.parse(registry_url)
    plan = _plan(args, max_concurrency, host_platform)
    if plan.source is not None:
        raise ValidationError("source does not apply: every recorded tag is pushed")
    return push_all_original_tags(
        endpoint, path, selection=plan.selection, options=plan.options, state=state
    )


def extract_original_tags(tar_path: str | os.PathLike[str]) -> Flow[list[str]]:
    """Every tag recorded in the archive, exactly as recorded (empty for untagged images).

    Only what records tags is read (see `read_archive_tags`), not the images themselves.
    """
    path = validate_path(tar_path)

    def flow() -> Generator[Any, Any, list[str]]:
        tags = yield from read_archive_tags(path)
        return list(tags.repo_tags)

    return flow()


def get_primary_tag(tar_path: str | os.PathLike[str]) -> Flow[tuple[str, str]]:
    """`(repository, tag)` of the archive's first recorded tag, registry host removed."""
    path = validate_path(tar_path)

    def flow() -> Generator[Any, Any, tuple[str, str]]:
        tags = yield from read_archive_tags(path)
        if not tags.repo_tags:
            raise ValidationError(f"{path} records no tag")
        return split_original_tag(tags.repo_tags[0])

    return flow()


def _page_size(page_size: object) -> int | None:
    if page_size is None:
        return None
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise ValidationError("page_size must be a positive int or None")
    return page_size


def repositories_pager(registry_url: str, *, page_size: int | None = None) -> Paginator:
    """A paginator over the registry's catalog, for streaming it page by page."""
    endpoint = RegistryEndpoint.parse(registry_url)
    return _repositories_pager(endpoint, page_size=_page_size(page_size))


def tags_pager(registry_url: str, repository: str, *, page_size: int | None = None) -> Paginator:
    """A paginator over the tags of `repository`, for streaming them page by page."""
    endpoint = RegistryEndpoint.parse(registry_url)
    repository = endpoint.repository(repository)
    return _tags_pager(endpoint, repository, page_size=_page_size(page_size))


def list_repositories(registry_url: str, *, page_size: int | None = None) -> Flow[list[str]]:
    """Every repository in the registry's catalog, following every page."""
    return repositories_pager(registry_url, page_size=page_size).collect()


def list_tags(
    registry_url: str, repository: str, *, page_size: int | None = None
) -> Flow[list[str]]:
    """Every tag of `repository`, following every page (an emptied repository has none)."""
    return tags_pager(registry_url, repository, page_size=page_size).collect()


def get_image_info(
    registry_url: str, repository: str, reference: str, *, platform: str | None = None
) -> Flow[ImageInfo]:
    """Describe an image (or index) by tag or digest; `platform` picks one image of an index."""
    endpoint = RegistryEndpoint.parse(registry_url)
    repository = endpoint.repository(repository)
    validate_reference(reference)
    wanted = parse_platform(platform) if platform is not None else None
    return _get_image_info(endpoint, repository, reference, platform=wanted)


def delete_image(registry_url: str, repository: str, reference: str) -> Flow[bool]:
    """Delete the manifest `reference` (a tag or digest) points at.

    A tag is first resolved to the digest stored for it (never a child of an index), and the
    manifest is deleted by digest, which removes every tag pointing at it. Returns True when
    deleted, False when it vanished between the two requests; a reference that does not exist
    raises `ManifestUnknown`, a registry that refuses deletes raises `DeletesDisabled`.
    """
    endpoint = RegistryEndpoint.parse(registry_url)
    repository = endpoint.repository(repository)
    validate_reference(reference)

    def flow() -> Generator[Any, Any, bool]:
        digest = yield from resolve_digest(endpoint, repository, reference)
        return (yield from delete_manifest(endpoint, repository, digest))

    return flow()


def pull_image(
    registry_url: str,
    repository: str,
    reference: str,
    destination: str | os.PathLike[str],
    *,
    platform: str | None = None,
    host_platform: Platform | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Flow[PullResult]:
    """Pull an image (by tag or digest) into an archive file at `destination`.

    From an index, `platform` picks the image; without it, the only one, else the host's.
    """
    endpoint = RegistryEndpoint.parse(registry_url)
    repository = endpoint.repository(repository)
    validate_reference(reference)
    path = validate_path(destination, "destination")
    wanted = parse_platform(platform) if platform is not None else None
    return _pull_image(
        endpoint,
        repository,
        reference,
        path,
        platform=wanted,
        host=host_platform,
        max_concurrency=validate_concurrency(max_concurrency),
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
    host_platform: Platform | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    state: PushState | None = None,
) -> Flow[str]:
    """Copy an image (by tag or digest) to another repository or registry, byte for byte.

    The copy is tagged `tag`; without one, the source reference when it is a tag, else it is
    stored by digest only. The flow returns the manifest digest (the same as the source's).
    """
    source = RegistryEndpoint.parse(source_registry_url)
    destination = RegistryEndpoint.parse(destination_registry_url)
    source_repository = source.repository(source_repository)
    destination_repository = destination.repository(destination_repository)
    validate_reference(reference)
    if tag is None and ":" not in reference:
        tag = reference
    if tag is not None:
        validate_tag(tag)
    if not isinstance(all_platforms, bool):
        raise ValidationError("all_platforms must be True or False")
    return _copy_image(
        Location(source, source_repository),
        reference,
        Location(destination, destination_repository),
        tag,
        platform=parse_platform(platform) if platform is not None else None,
        host=host_platform,
        all_platforms=all_platforms,
        options=PushOptions(max_concurrency=validate_concurrency(max_concurrency)),
        state=state,
    )

"""The 1.x archive utilities, on this package's archive reader.

Every archive format the reader takes works here: legacy and docker 25+ `docker save`,
`podman save`, containerd exports, bare `oci-archive` layouts, and any of them compressed as a
whole. These functions are synchronous, as in 1.x; they read the archive's index and metadata,
never whole layers.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

import registry_sync
from registry_io import run_locally
from registry_proto import (
    ArchiveTags,
    Flow,
    ImageArchive,
    TarReadError,
    ValidationError,
    read_archive,
    read_archive_tags,
)
from registry_proto.flows import split_original_tag

from ._inspect import image_inspect
from ._models import ImageInspect

__all__ = [
    "PathLike",
    "extract_original_tags",
    "get_primary_tag",
    "get_tar_manifest",
    "inspect_docker_tar",
    "names_repository",
    "parse_repository_tag",
    "validate_docker_tar",
]

T = TypeVar("T")
PathLike = str | os.PathLike[str]


def _run(flow: Flow[T]) -> T:
    """Drive a flow that reads local files only."""
    return run_locally(flow)


def _existing(tar_path: PathLike, error: type[Exception]) -> str:
    path = os.fspath(tar_path)
    if not os.path.isfile(path):
        raise error(f"Tar file does not exist: {path}")
    return path


def parse_repository_tag(repo_tag: str) -> tuple[str, str]:
    """`(repository, tag)` of a `repository[:tag][@digest]` text; the tag defaults to `latest`.

    The tag is what follows the last `:` of the last path component, so a registry host's
    port stays in the repository: `localhost:5000/app` is `("localhost:5000/app", "latest")`.
    A digest stands in for a missing tag (`app@sha256:...` is `("app", "sha256:...")`), as
    registry APIs take either. Nothing is validated; `parse_reference` in `registry_proto` does
    that.
    """
    name, _, digest = repo_tag.partition("@")
    last = name.rfind("/")
    colon = name.rfind(":")
    if colon > last:
        name, tag = name[:colon], name[colon + 1 :]
    else:
        tag = ""
    return name, tag or digest or "latest"


def names_repository(recorded: str) -> bool:
    """Whether a recorded tag names a repository (an OCI layout's `ref.name` may be a bare
    tag such as `latest`)."""
    try:
        split_original_tag(recorded)
    except ValidationError:
        return False
    return True


def extract_original_tags(tar_path: PathLike) -> list[str]:
    """Every `repository:tag` the archive records, as recorded (the registry host kept).

    Only manifest.json, `repositories` and index.json are read, so any archive that records
    tags shows them. An archive that cannot be read, or records none, gives `[]`; a path
    where there is no file raises `TarReadError`.
    """
    path = _existing(tar_path, TarReadError)
    try:
        recorded = registry_sync.extract_original_tags(path)
    except (ValidationError, TarReadError):
        return []
    return [tag for tag in recorded if names_repository(tag)]


def get_primary_tag(tar_path: PathLike) -> tuple[str, str] | None:
    """`(repository, tag)` of the archive's first recorded tag, split by
    `parse_repository_tag` (a registry host stays in the repository); None when there is none.
    """
    tags = extract_original_tags(tar_path)
    return parse_repository_tag(tags[0]) if tags else None


def validate_docker_tar(tar_path: PathLike) -> bool:
    """True when the file is an image archive this package can push, False when it is not.

    A path where there is no file raises `ValidationError`.
    """
    path = _existing(tar_path, ValidationError)
    try:
        _run(read_archive(path))
    except (ValidationError, TarReadError):
        return False
    return True


def _archive_and_tags(path: str) -> Flow[tuple[ImageArchive, ArchiveTags]]:
    archive = yield from read_archive(path)
    tags = yield from read_archive_tags(path)
    return archive, tags


def _blob_path(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/", 1)


def get_tar_manifest(tar_path: PathLike) -> list[dict[str, Any]]:
    """The archive's manifest.json entries (`Config`, `RepoTags`, `Layers`, ...).

    manifest.json as stored, when the archive has one; for a bare OCI layout, the entries
    docker would write for it, naming the layout's `blobs/<algorithm>/<encoded>` members. An
    archive this package cannot push raises `ValidationError` or `TarReadError`.
    """
    path = _existing(tar_path, ValidationError)
    archive, tags = _run(_archive_and_tags(path))
    if tags.manifest_json is not None:
        return [dict(entry) for entry in tags.manifest_json]
    return [
        {
            "Config": _blob_path(image.config_descriptor.digest),
            "RepoTags": [tag for tag in image.repo_tags if names_repository(tag)],
            "Layers": [_blob_path(layer.descriptor.digest) for layer in image.layers],
        }
        for image in archive.images
    ]


def inspect_docker_tar(tar_path: PathLike) -> ImageInspect:
    """Describe the archive's first image: config, layers as they are pushed, sizes, tags.

    An archive this package cannot push raises `ValidationError` or `TarReadError`.
    """
    path = _existing(tar_path, ValidationError)
    archive = _run(read_archive(path))
    return image_inspect(archive.images[0])

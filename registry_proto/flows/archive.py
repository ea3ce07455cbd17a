"""Pushing images out of an archive file (`docker save`, `podman save`, docker-archive)."""

from __future__ import annotations

from dataclasses import dataclass

from .._archive import ArchiveImage, ImageArchive, read_archive
from .._effects import Flow
from .._errors import ValidationError
from .._models import BytesBody
from .._reference import DEFAULT_DOMAIN, RegistryEndpoint, parse_reference
from .push import DEFAULT_MAX_CONCURRENCY, BlobUpload, ImageToPush, push_image

__all__ = [
    "PushResult",
    "image_to_push",
    "push_all_original_tags",
    "push_archive",
    "push_original_tag",
    "split_original_tag",
]


@dataclass(frozen=True, slots=True)
class PushResult:
    """One pushed tag: where it went and the manifest digest it points at."""

    repository: str
    tag: str
    digest: str


def image_to_push(image: ArchiveImage) -> ImageToPush:
    """The manifest and blobs that push an archive image as it is stored."""
    config = image.config_descriptor
    blobs = [BlobUpload(config.digest, config.size, BytesBody(image.config))]
    blobs += [
        BlobUpload(layer.descriptor.digest, layer.descriptor.size, layer.source)
        for layer in image.layers
    ]
    return ImageToPush(manifest=image.manifest(), blobs=tuple(blobs))


def split_original_tag(recorded: str) -> tuple[str, str]:
    """`(repository, tag)` for a tag recorded in an archive, without its registry host.

    `example.com/app:1` -> `("app", "1")`. Docker Hub's implicit `library/` namespace is
    dropped as docker itself displays it (`docker.io/library/busybox:1` -> `("busybox", "1")`,
    the same as docker's own `busybox:1`), while other namespaces stay (`docker.io/foo/bar`).
    """
    reference = parse_reference(recorded)
    repository = reference.repository
    if reference.domain == DEFAULT_DOMAIN and repository.count("/") == 1:
        namespace, _, rest = repository.partition("/")
        if namespace == "library":
            repository = rest
    return repository, reference.tag or "latest"


def _select_image(archive: ImageArchive, source: str | None) -> ArchiveImage:
    if source is not None:
        for image in archive.images:
            if source in image.repo_tags:
                return image
        raise ValidationError(
            f"{archive.path} has no image tagged {source!r}; it records {list(archive.repo_tags)}"
        )
    if len(archive.images) > 1:
        raise ValidationError(
            f"{archive.path} holds {len(archive.images)} images; name the one to push with "
            f"source= (one of {list(archive.repo_tags)})"
        )
    return archive.images[0]


def push_archive(
    endpoint: RegistryEndpoint,
    path: str,
    repository: str,
    tag: str,
    *,
    source: str | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Flow[str]:
    """Push the image in the archive at `path` as `repository:tag`; return the manifest digest.

    An archive holding several images needs `source`, one of its recorded tags.
    """
    archive = yield from read_archive(path)
    image = _select_image(archive, source)
    return (
        yield from push_image(
            endpoint, repository, tag, image_to_push(image), max_concurrency=max_concurrency
        )
    )


def push_original_tag(
    endpoint: RegistryEndpoint, path: str, *, max_concurrency: int = DEFAULT_MAX_CONCURRENCY
) -> Flow[PushResult]:
    """Push the archive's first recorded tag, without its original registry host."""
    archive = yield from read_archive(path)
    if not archive.repo_tags:
        raise ValidationError(
            f"{path} records no tag; push it with push_docker_tar and name a repository and tag"
        )
    recorded = archive.repo_tags[0]
    repository, tag = split_original_tag(recorded)
    image = _select_image(archive, recorded)
    digest = yield from push_image(
        endpoint, repository, tag, image_to_push(image), max_concurrency=max_concurrency
    )
    return PushResult(repository, tag, digest)


def push_all_original_tags(
    endpoint: RegistryEndpoint, path: str, *, max_concurrency: int = DEFAULT_MAX_CONCURRENCY
) -> Flow[list[PushResult]]:
    """Push every tag recorded in the archive, for every image in it."""
    archive = yield from read_archive(path)
    if not archive.repo_tags:
        raise ValidationError(
            f"{path} records no tag; push it with push_docker_tar and name a repository and tag"
        )
    results = []
    for image in archive.images:
        for recorded in dict.fromkeys(image.repo_tags):
            repository, tag = split_original_tag(recorded)
            digest = yield from push_image(
                endpoint, repository, tag, image_to_push(image), max_concurrency=max_concurrency
            )
            results.append(PushResult(repository, tag, digest))
    return results

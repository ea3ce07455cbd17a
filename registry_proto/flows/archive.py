"""Pushing what an image archive holds (`docker save`, `podman save`, `oci-archive`, ...).

Which image: an archive may hold several entries (name one by a recorded tag with `source`),
and an entry may list several platforms. Without `platform`, the only platform whose blobs are
all present is taken; failing that, the host's; failing that, a `ValidationError` lists what is
there. With `all_platforms`, an entry's whole index is pushed, if the archive holds all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._archive import (
    ArchiveEntry,
    ArchiveImage,
    ArchiveIndex,
    ImageArchive,
    Platform,
    read_archive,
)
from .._effects import Flow
from .._errors import ValidationError
from .._manifest import UNCOMPRESSED_LAYERS
from .._models import BytesBody
from .._reference import RegistryEndpoint, split_recorded_tag
from .push import (
    BlobUpload,
    ImageToPush,
    IndexToPush,
    ManifestToPush,
    PushOptions,
    PushState,
    push_image,
    push_index,
)

__all__ = [
    "PushResult",
    "Selection",
    "choose_image",
    "image_to_push",
    "index_to_push",
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


@dataclass(frozen=True, slots=True)
class Selection:
    """Which platform of an entry to push.

    `platform` is what the caller asked for, `host` the platform of the machine (the fallback
    when an entry has several complete platforms), `all_platforms` asks for the whole index.
    """

    platform: Platform | None = None
    host: Platform | None = None
    all_platforms: bool = False


def split_original_tag(recorded: str) -> tuple[str, str]:
    """`(repository, tag)` for a recorded tag, registry host removed (see `split_recorded_tag`).

    A bare tag, which names no repository, is a `ValidationError`.
    """
    split = split_recorded_tag(recorded)
    if split is None:
        raise ValidationError(
            f"the archive records {recorded!r}, which names no repository; "
            "push it with push_docker_tar and name a repository and tag"
        )
    return split


def image_to_push(image: ArchiveImage) -> ImageToPush:
    """The blobs and manifest that push an archive image as it is stored."""
    config = BlobUpload(image.config_descriptor, BytesBody(image.config))
    layers = tuple(
        BlobUpload(
            layer.descriptor,
            layer.source,
            diff_id=layer.diff_id,
            compressible=layer.descriptor.media_type in UNCOMPRESSED_LAYERS
            and layer.diff_id is not None,
        )
        for layer in image.layers
    )
    return ImageToPush(config=config, layers=layers, manifest=image.manifest())


def index_to_push(index: ArchiveIndex, where: str) -> IndexToPush:
    """The whole index, provided the archive holds every manifest and blob it names."""
    children = []
    for child in index.children:
        if child is None:
            raise ValidationError(
                f"{where}: the archive does not hold every platform of its index, "
                "so only single platforms can be pushed"
            )
        blobs = tuple(BlobUpload(blob.descriptor, blob.source) for blob in child.blobs)
        children.append(ManifestToPush(child.digest, child.media_type, child.data, blobs))
    return IndexToPush(index.media_type, index.data, tuple(children))


def choose_image(entry: ArchiveEntry, selection: Selection, where: str) -> ArchiveImage:
    """The image of `entry` to push, by the rules in this module's docstring."""
    complete = [image for image in entry.images if image.platform is not None]
    if selection.platform is not None:
        for image in entry.images:
            if image.platform is not None and image.platform.matches(selection.platform):
                return image
        listed = [str(p) for p in entry.platforms]
        present = [str(image.platform) for image in complete]
        raise ValidationError(
            f"{where} has no complete {selection.platform} image; "
            f"it lists {listed}, of which the archive holds {present}"
        )
    if len(entry.images) == 1:
        return entry.images[0]
    if selection.host is not None:
        for image in complete:
            if image.platform is not None and image.platform.matches(selection.host):
                return image
    raise ValidationError(
        f"{where} holds several platforms {[str(i.platform) for i in entry.images]}; "
        "choose one with platform="
    )


def _entry(archive: ImageArchive, source: str | None) -> ArchiveEntry:
    if source is not None:
        for entry in archive.entries:
            if source in entry.repo_tags:
                return entry
        raise ValidationError(
            f"{archive.path} has no image tagged {source!r}; it records {list(archive.repo_tags)}"
        )
    candidates = [entry for entry in archive.entries if entry.images]
    if len(candidates) > 1:
        raise ValidationError(
            f"the archive holds {len(candidates)} images; name the one to push with "
            f"source= (one of {list(archive.repo_tags)})"
        )
    return candidates[0]


def _push_entry(
    endpoint: RegistryEndpoint,
    repository: str,
    tag: str,
    entry: ArchiveEntry,
    selection: Selection,
    options: PushOptions,
    state: PushState,
) -> Flow[str]:
    where = f"{tag!r} in the archive" if not entry.repo_tags else repr(entry.repo_tags[0])
    if selection.all_platforms and entry.index is not None:
        index = index_to_push(entry.index, where)
        return (
            yield from push_index(endpoint, repository, tag, index, options=options, state=state)
        )
    image = choose_image(entry, selection, where)
    return (
        yield from push_image(
            endpoint, repository, tag, image_to_push(image), options=options, state=state
        )
    )


def push_archive(
    endpoint: RegistryEndpoint,
    path: str,
    repository: str,
    tag: str,
    *,
    source: str | None = None,
    selection: Selection | None = None,
    options: PushOptions | None = None,
    state: PushState | None = None,
) -> Flow[str]:
    """Push the image in the archive at `path` as `repository:tag`; return the digest.

    An archive holding several images needs `source`, one of its recorded tags.
    """
    archive = yield from read_archive(path)
    entry = _entry(archive, source)
    return (
        yield from _push_entry(
            endpoint,
            repository,
            tag,
            entry,
            selection or Selection(),
            options or PushOptions(),
            state if state is not None else PushState(),
        )
    )


def _target(endpoint: RegistryEndpoint, recorded: str) -> tuple[str, str]:
    """Where a recorded tag goes on `endpoint` (Docker Hub adds `library/` to bare names)."""
    repository, tag = split_original_tag(recorded)
    return endpoint.repository(repository), tag


def _tagged(archive: ImageArchive, path: str) -> None:
    if not archive.repo_tags:
        raise ValidationError(
            f"{path} records no tag; push it with push_docker_tar and name a repository and tag"
        )


def push_original_tag(
    endpoint: RegistryEndpoint,
    path: str,
    *,
    selection: Selection | None = None,
    options: PushOptions | None = None,
    state: PushState | None = None,
) -> Flow[PushResult]:
    """Push the archive's first recorded tag, without its original registry host."""
    archive = yield from read_archive(path)
    _tagged(archive, path)
    recorded = archive.repo_tags[0]
    repository, tag = _target(endpoint, recorded)
    digest = yield from _push_entry(
        endpoint,
        repository,
        tag,
        _entry(archive, recorded),
        selection or Selection(),
        options or PushOptions(),
        state if state is not None else PushState(),
    )
    return PushResult(repository, tag, digest)


def push_all_original_tags(
    endpoint: RegistryEndpoint,
    path: str,
    *,
    selection: Selection | None = None,
    options: PushOptions | None = None,
    state: PushState | None = None,
) -> Flow[list[PushResult]]:
    """Push every tag recorded in the archive, for every image in it.

    Tags are validated before anything is sent. Blobs shared between repositories are sent
    once and mounted into the others.
    """
    archive = yield from read_archive(path)
    _tagged(archive, path)
    state = state if state is not None else PushState()
    plan = [
        (entry, *_target(endpoint, recorded))
        for entry in archive.entries
        if entry.images
        for recorded in entry.repo_tags
    ]
    results = []
    for entry, repository, tag in dict.fromkeys(plan):
        digest = yield from _push_entry(
            endpoint,
            repository,
            tag,
            entry,
            selection or Selection(),
            options or PushOptions(),
            state,
        )
        results.append(PushResult(repository, tag, digest))
    return results

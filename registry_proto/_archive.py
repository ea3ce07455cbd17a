"""Reading image archives: `docker save`, `podman save`, `skopeo copy`, `oci-archive`.

An archive is indexed, never extracted: every blob becomes a `FileSlice` of the tar file.
Formats, detected from content (docs/protocol.md §10):

- legacy `docker save` (docker <= 24): `manifest.json`, `<config>.json`, `<id>/layer.tar`
  (a repeated layer is a symlink to its first copy);
- podman / skopeo / buildah `docker-archive`: `manifest.json`, layers as `<diff-id>.tar`;
- docker 25+ `docker save`: an OCI layout (`index.json`, `blobs/`) beside `manifest.json`;
- docker with the containerd image store: the same, holding the registry's original
  (compressed) blobs, nested indexes, attestation manifests and only some platforms' blobs;
- `oci-archive`: a bare OCI layout with no `manifest.json`;
- any of these compressed as a whole (gzip, xz, zstd, bzip2): the driver decompresses it to a
  temporary file first, since a compressed stream cannot be sliced.

Images are read as registries take them: a config need not record `rootfs.diff_ids`, and a
layer need not be a tar stream (its media type is chosen from its bytes: gzip, zstd, tar, else
an opaque `application/octet-stream`). Digests are the ones the archive records wherever it
records one (a config's diff_ids, `blobs/<algorithm>/<encoded>` names), so that they are checked.

Where `manifest.json` exists it decides which images there are and their layer order (some
docker 25.0 releases wrote the embedded OCI manifest's layers in a random order); an OCI
manifest stored in the archive is pushed byte for byte whenever it describes exactly the same
config and layers, so containerd exports keep their registry digests.
"""

from __future__ import annotations

from typing import Any

from ._archive_docker import fallback_tags, read_manifest_json, read_manifest_list, recorded_tags
from ._archive_layout import LayoutEntry, read_layout, read_layout_names
from ._archive_members import distinct_tags
from ._archive_model import (
    ArchiveEntry,
    ArchiveImage,
    ArchiveIndex,
    ArchiveTags,
    BlobSource,
    ImageArchive,
    LayerSource,
    StoredManifest,
    compression_of,
)
from ._effects import Flow, decompressed, read_file
from ._errors import ValidationError
from ._platform import Platform
from ._tar import index_tar

__all__ = [
    "ArchiveEntry",
    "ArchiveImage",
    "ArchiveIndex",
    "ArchiveTags",
    "BlobSource",
    "ImageArchive",
    "LayerSource",
    "Platform",
    "StoredManifest",
    "compression_of",
    "read_archive",
    "read_archive_tags",
]


def _plain_tar(path: str) -> Flow[tuple[str, str | None]]:
    """The tar file to index, and the compression of the archive as a whole (if any)."""
    head = yield from read_file(path, 0, 8)
    compression = compression_of(head)
    if compression is None:
        return path, None
    return (yield from decompressed(path, compression)), compression


def _not_an_archive(path: str) -> ValidationError:
    return ValidationError(
        f"{path} is not an image archive: it has neither manifest.json nor an OCI "
        "index.json (is it docker save, podman save or skopeo copy output?)"
    )


def read_archive(path: str) -> Flow[ImageArchive]:
    """Index the archive at `path` and describe everything in it."""
    tar_path, compression = yield from _plain_tar(path)
    index = yield from index_tar(tar_path)
    layout: list[LayoutEntry] = []
    if "index.json" in index:
        layout = yield from read_layout(index)
    if "manifest.json" in index:
        entries = yield from read_manifest_json(index, layout)
        kind = "docker-archive" if "index.json" not in index else "docker-oci-archive"
    elif layout or ("index.json" in index and "oci-layout" in index):
        entries = [entry.entry() for entry in layout]
        kind = "oci-archive"
    else:
        raise _not_an_archive(path)
    if not any(entry.images for entry in entries):
        raise ValidationError(f"{path} holds no image whose blobs are all present")
    return ImageArchive(tar_path, kind, tuple(entries), compression)


def read_archive_tags(path: str) -> Flow[ArchiveTags]:
    """The tags recorded in the archive at `path`, from what records them alone.

    That is manifest.json's `RepoTags` (or, for a lone untagged image, the legacy
    `repositories` file) and index.json's name annotations; no config or layer is read, so an
    archive whose images could not be pushed still shows its tags.
    """
    tar_path, _ = yield from _plain_tar(path)
    index = yield from index_tar(tar_path)
    manifest: list[Any] | None = None
    recorded: list[str] = []
    if "manifest.json" in index:
        manifest = yield from read_manifest_list(index)
        for number, entry in enumerate(manifest):
            recorded.extend(recorded_tags(entry, number))
        recorded.extend((yield from fallback_tags(index, manifest)))
    if "index.json" in index:
        recorded.extend((yield from read_layout_names(index)))
    elif manifest is None:
        raise _not_an_archive(path)
    return ArchiveTags(distinct_tags(recorded), tuple(manifest) if manifest is not None else None)

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

Where `manifest.json` exists it decides which images there are and their layer order (some
docker 25.0 releases wrote the embedded OCI manifest's layers in a random order); an OCI
manifest stored in the archive is pushed byte for byte whenever it describes exactly the same
config and layers, so containerd exports keep their registry digests.
"""

from __future__ import annotations

from ._archive_docker import read_manifest_json
from ._archive_layout import LayoutEntry, read_layout
from ._archive_model import (
    ArchiveEntry,
    ArchiveImage,
    ArchiveIndex,
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
    "BlobSource",
    "ImageArchive",
    "LayerSource",
    "Platform",
    "StoredManifest",
    "compression_of",
    "read_archive",
]


def read_archive(path: str) -> Flow[ImageArchive]:
    """Index the archive at `path` and describe everything in it."""
    head = yield from read_file(path, 0, 8)
    compression = compression_of(head)
    tar_path = path
    if compression is not None:
        tar_path = yield from decompressed(path, compression)
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
        raise ValidationError(
            f"{path} is not an image archive: it has neither manifest.json nor an OCI "
            "index.json (is it docker save, podman save or skopeo copy output?)"
        )
    if not any(entry.images for entry in entries):
        raise ValidationError(f"{path} holds no image whose blobs are all present")
    return ImageArchive(tar_path, kind, tuple(entries), compression)

"""Reading the one image of a ``docker save`` archive: standard library only.

The contender scripts run in other virtual environments (the peers'), so this module imports
nothing beyond the standard library. It follows ``manifest.json``, which both the legacy layout
(``<id>/layer.tar``) and the Docker 25+ layout (``blobs/sha256/<hex>``) write, and takes the
layer digests from the config's ``rootfs.diff_ids``: the layers must be stored uncompressed, as
``docker save`` stores them, so each one hashes to its diff_id.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "OCI_CONFIG",
    "OCI_LAYER_TAR",
    "OCI_MANIFEST",
    "Blob",
    "Image",
    "file_slice",
    "image_manifest",
    "read_image",
]

CHUNK_SIZE = 1024 * 1024
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"


@dataclass(frozen=True)
class Blob:
    """One blob: its digest, size and where its bytes are (in the archive, or in memory)."""

    digest: str
    size: int
    offset: int = 0
    data: bytes | None = None


@dataclass(frozen=True)
class Image:
    """The archive's image: its config blob first, then its layers, in order."""

    config: Blob
    layers: list[Blob]

    @property
    def blobs(self) -> list[Blob]:
        return [self.config, *self.layers]


def _member(archive: tarfile.TarFile, name: str) -> tarfile.TarInfo:
    """The regular-file member called ``name``, following symbolic links inside the tar."""
    member = archive.getmember(name)
    while member.issym():
        target = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), member.linkname))
        member = archive.getmember(target)
    return member


def read_image(path: str) -> Image:
    """The config and the layers of the archive's (first) image."""
    with tarfile.open(path) as archive:
        manifest_file = archive.extractfile(_member(archive, "manifest.json"))
        assert manifest_file is not None
        entry = json.loads(manifest_file.read())[0]
        config_file = archive.extractfile(_member(archive, entry["Config"]))
        assert config_file is not None
        config = config_file.read()
        layers = [_member(archive, name) for name in entry["Layers"]]
    diff_ids: list[str] = json.loads(config)["rootfs"]["diff_ids"]
    return Image(
        config=Blob("sha256:" + hashlib.sha256(config).hexdigest(), len(config), data=config),
        layers=[
            Blob(diff_id, layer.size, offset=layer.offset_data)
            for layer, diff_id in zip(layers, diff_ids, strict=True)
        ],
    )


def image_manifest(
    config: Blob, layers: Sequence[Blob], layer_media_type: str = OCI_LAYER_TAR
) -> dict[str, Any]:
    """An OCI image manifest for ``config`` and ``layers`` (all of ``layer_media_type``)."""
    return {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config.digest, "size": config.size},
        "layers": [
            {"mediaType": layer_media_type, "digest": layer.digest, "size": layer.size}
            for layer in layers
        ],
    }


def file_slice(path: str, offset: int, length: int) -> Iterator[bytes]:
    """The bytes of ``path`` from ``offset`` on, ``length`` of them, a MiB at a time."""
    with open(path, "rb") as file:
        file.seek(offset)
        while length:
            chunk = file.read(min(CHUNK_SIZE, length))
            if not chunk:
                raise OSError(f"{path} ended early")
            length -= len(chunk)
            yield chunk

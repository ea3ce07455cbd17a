"""Media types, descriptors and image manifests (OCI image-spec manifest.md, descriptor.md;
Docker image manifest v2 schema 2)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ._reference import validate_digest

__all__ = [
    "DOCKER_CONFIG",
    "DOCKER_LAYER_TAR",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "IMAGE_TYPES",
    "INDEX_TYPES",
    "MANIFEST_ACCEPT",
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_LAYER_GZIP",
    "OCI_LAYER_TAR",
    "OCI_LAYER_ZSTD",
    "OCI_MANIFEST",
    "OPAQUE_BLOB",
    "UNCOMPRESSED_LAYERS",
    "Descriptor",
    "ImageManifest",
    "digest_like",
    "sha256_digest",
]

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
# A layer that is no tar stream: image-spec's type for content of no declared kind.
OPAQUE_BLOB = "application/octet-stream"

# Layers that are tar streams as stored: each is its own diff_id.
UNCOMPRESSED_LAYERS = frozenset({OCI_LAYER_TAR, DOCKER_LAYER_TAR})

# The two kinds of manifest: one image, or an index of them.
IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})

# Every manifest type this client reads; registries must be told all of them, or some answer
# with a schema1 rewrite or a single platform's child (docs/protocol.md §6.3).
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))


# A descriptor's size is an int64 (image-spec descriptor.md, "Properties").
MAX_SIZE = 2**63 - 1


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_like(data: bytes, digest: str) -> str:
    """The digest of `data` by the algorithm `digest` names (sha256 or sha512, as every digest
    that passed `validate_digest` does), to compare with it."""
    algorithm = digest.partition(":")[0]
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A content descriptor: what a manifest says about one blob."""

    media_type: str
    digest: str
    size: int

    @classmethod
    def from_json(cls, raw: object) -> Descriptor:
        """Read a descriptor; `ValueError` says what is wrong with it.

        The digest is checked against the grammar: it ends up in URLs and file names.
        """
        if not isinstance(raw, dict):
            raise ValueError("not a descriptor object")
        media_type, digest, size = raw.get("mediaType"), raw.get("digest"), raw.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_SIZE:
            raise ValueError("no valid size")
        validate_digest(digest)  # a ValidationError is a ValueError
        assert isinstance(digest, str)
        return cls(media_type if isinstance(media_type, str) else "", digest, size)

    def to_json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True, slots=True)
class ImageManifest:
    """A serialised single-platform image manifest.

    `data` holds the exact bytes that are sent; the digest is the hash of those bytes and never
    of a re-serialisation (distribution-spec "Pushing Manifests").
    """

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    data: bytes

    @classmethod
    def build(
        cls, media_type: str, config: Descriptor, layers: tuple[Descriptor, ...]
    ) -> ImageManifest:
        document = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": config.to_json(),
            "layers": [layer.to_json() for layer in layers],
        }
        data = json.dumps(document, indent=3).encode() + b"\n"
        return cls(media_type=media_type, config=config, layers=layers, data=data)

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

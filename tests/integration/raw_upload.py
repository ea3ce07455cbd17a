"""Put blobs and manifests into a test registry by hand, bypassing the library: content the
library would never push itself (a config that is no JSON object, a sha512 blob)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def put_blob(registry_url: str, repository: str, data: bytes, algorithm: str = "sha256") -> str:
    """Upload `data` monolithically under its `algorithm` digest; return that digest."""
    digest = digest_of(data, algorithm)
    with httpx.Client(base_url=registry_url, trust_env=False) as client:
        started = client.post(f"/v2/{repository}/blobs/uploads/")
        started.raise_for_status()
        location = started.headers["Location"]
        separator = "&" if "?" in location else "?"  # keeping distribution's `_state`
        done = client.put(
            f"{location}{separator}digest={digest}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        done.raise_for_status()
    return digest


def put_image(
    registry_url: str,
    repository: str,
    tag: str,
    config: bytes,
    layers: list[bytes],
    algorithm: str = "sha256",
) -> str:
    """Upload `config` and `layers` (digests of `algorithm`) and an OCI manifest naming them,
    tagged `tag`; return the manifest's digest."""

    def descriptor(media_type: str, data: bytes) -> dict[str, Any]:
        digest = put_blob(registry_url, repository, data, algorithm)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [descriptor(OCI_LAYER_TAR, layer) for layer in layers],
        }
    ).encode()
    with httpx.Client(base_url=registry_url, trust_env=False) as client:
        response = client.put(
            f"/v2/{repository}/manifests/{tag}",
            content=manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        response.raise_for_status()
    return digest_of(manifest)

"""Pull an image into one archive file with python-dxf, the way its API offers.

Usage: ``python dxf_pull.py HOST:PORT REPOSITORY TAG DEST`` (runs in python-dxf's own virtual
environment; see ``benchmarks/_venvs.py``).

python-dxf pulls blobs, not images: this script gets the image manifest, then streams the config
and each layer with ``DXF.pull_blob`` (which checks each blob's sha256 once it is read to the
end) one after the other into a tar at ``DEST`` in the Docker 25+ ``docker save`` layout
(``blobs/sha256/<hex>``, ``oci-layout``, ``index.json``, ``manifest.json``), as
``registry_*.pull_image`` writes it. Blobs are read in pieces of 1 MiB (the library's default is
8 KiB). There is no temporary name renamed into place: a failed pull leaves a partial file.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tarfile
from typing import IO, Any

from dxf import DXF

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
BLOCK = 512
CHUNK_SIZE = 1024 * 1024


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _pad(file: IO[bytes], size: int) -> None:
    file.write(bytes(-size % BLOCK))


def _add(file: IO[bytes], name: str, data: bytes) -> None:
    file.write(_header(name, len(data)) + data)
    _pad(file, len(data))


def _blob_name(digest: str) -> str:
    algorithm, _, hex_digest = digest.partition(":")
    return f"blobs/{algorithm}/{hex_digest}"


def pull(host: str, repository: str, tag: str, path: str) -> None:
    """Pull ``repository:tag`` from the plain-HTTP registry at ``host`` into ``path``."""
    dxf = DXF(host, repository, insecure=True)
    with dxf, open(path, "wb") as file:
        text, response = dxf.get_manifest_and_response(tag)
        raw = text.encode()
        manifest: dict[str, Any] = json.loads(raw)
        media_type = response.headers["Content-Type"].split(";")[0].strip()
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        descriptors = [manifest["config"], *manifest["layers"]]
        for descriptor in descriptors:
            size = int(descriptor["size"])
            file.write(_header(_blob_name(descriptor["digest"]), size))
            written = 0
            for chunk in dxf.pull_blob(descriptor["digest"], chunk_size=CHUNK_SIZE):
                file.write(chunk)
                written += len(chunk)
            if written != size:
                raise OSError(f"{descriptor['digest']}: {written} bytes, expected {size}")
            _pad(file, size)
        reference = f"{repository}:{tag}"
        entry = {
            "mediaType": media_type,
            "digest": digest,
            "size": len(raw),
            "annotations": {"io.containerd.image.name": reference},
        }
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}
        docker = [
            {
                "Config": _blob_name(manifest["config"]["digest"]),
                "RepoTags": [reference],
                "Layers": [_blob_name(layer["digest"]) for layer in manifest["layers"]],
            }
        ]
        _add(file, _blob_name(digest), raw)
        _add(file, "oci-layout", OCI_LAYOUT)
        _add(file, "index.json", json.dumps(index).encode())
        _add(file, "manifest.json", json.dumps(docker).encode())
        file.write(bytes(2 * BLOCK))


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    pull(*argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

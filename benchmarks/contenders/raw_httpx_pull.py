"""The Python floor for a pull: download every byte and check it, with httpx and nothing else.

Usage: ``python benchmarks/contenders/raw_httpx_pull.py REGISTRY_URL REPOSITORY TAG DEST``

It ``GET``s the image manifest (an OCI or Docker schema 2 image manifest, not an index), lays
out an OCI image layout tar at ``DEST`` (``oci-layout``, ``index.json``, the manifest, then the
config and the layers under ``blobs/sha256/``) from the sizes in the manifest, and streams every
blob in parallel on a thread pool straight into its place in the file, hashing it on the way. A
blob whose sha256 or size differs from its descriptor fails the pull. There is no retry, no
index or platform handling, no temporary name renamed into place and no ``manifest.json``: this
is what any pull has to do at least, not a usable client. ``DEST`` reads as ``oci-archive:``.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
BLOCK = 512
END_OF_ARCHIVE = bytes(2 * BLOCK)
MAX_WORKERS = 6


@dataclass(frozen=True)
class Blob:
    """One blob to download: its digest, its size and where its bytes go in the archive."""

    digest: str
    size: int
    offset: int


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _padded(size: int) -> int:
    return size + -size % BLOCK


def _blob_name(digest: str) -> str:
    algorithm, _, hex_digest = digest.partition(":")
    return f"blobs/{algorithm}/{hex_digest}"


def layout(manifest: bytes, media_type: str) -> tuple[list[tuple[int, bytes]], list[Blob], int]:
    """The archive's layout: (offset, bytes) to write, the blobs to download, the total size."""
    document: dict[str, Any] = json.loads(manifest)
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    entry = {"mediaType": media_type, "digest": digest, "size": len(manifest)}
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]})
    writes: list[tuple[int, bytes]] = []
    offset = 0
    for name, data in (
        ("oci-layout", OCI_LAYOUT),
        ("index.json", index.encode()),
        (_blob_name(digest), manifest),
    ):
        writes.append((offset, _header(name, len(data)) + data))
        offset += BLOCK + _padded(len(data))
    blobs = []
    for descriptor in [document["config"], *document["layers"]]:
        size = int(descriptor["size"])
        writes.append((offset, _header(_blob_name(descriptor["digest"]), size)))
        blobs.append(Blob(descriptor["digest"], size, offset + BLOCK))
        offset += BLOCK + _padded(size)
    writes.append((offset, END_OF_ARCHIVE))
    return writes, blobs, offset + len(END_OF_ARCHIVE)


def download(client: httpx.Client, base: str, repository: str, blob: Blob, path: str) -> None:
    """``GET`` one blob into its place in the file at ``path``, checking its size and sha256."""
    digest = hashlib.sha256()
    received = 0
    with (
        client.stream("GET", f"{base}/v2/{repository}/blobs/{blob.digest}") as response,
        open(path, "r+b") as file,
    ):
        response.raise_for_status()
        file.seek(blob.offset)
        for chunk in response.iter_bytes():
            received += len(chunk)
            if received > blob.size:
                raise OSError(f"{blob.digest}: more than the {blob.size} bytes expected")
            digest.update(chunk)
            file.write(chunk)
    if received != blob.size or "sha256:" + digest.hexdigest() != blob.digest:
        raise OSError(f"{blob.digest}: received {received} bytes hashing to {digest.hexdigest()}")


def pull(base: str, repository: str, tag: str, path: str) -> None:
    """Pull ``repository:tag`` from the registry at ``base`` into an OCI archive at ``path``."""
    with httpx.Client(timeout=httpx.Timeout(300.0), follow_redirects=True) as client:
        response = client.get(
            f"{base}/v2/{repository}/manifests/{tag}",
            headers={"Accept": f"{OCI_MANIFEST}, {DOCKER_MANIFEST}"},
        )
        response.raise_for_status()
        media_type = response.headers["Content-Type"].split(";")[0].strip()
        if media_type not in (OCI_MANIFEST, DOCKER_MANIFEST):
            raise OSError(f"{repository}:{tag} is a {media_type}, not an image manifest")
        writes, blobs, total = layout(response.content, media_type)
        with open(path, "wb") as file:
            file.truncate(total)  # the padding between members stays zero
            for offset, data in writes:
                file.seek(offset)
                file.write(data)
        with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
            futures = [pool.submit(download, client, base, repository, b, path) for b in blobs]
            for future in futures:
                future.result()


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    base, repository, tag, path = argv
    pull(base.rstrip("/"), repository, tag, path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

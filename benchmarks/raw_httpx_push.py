"""The wire lower bound for a push: the fewest requests, sent with httpx and no client library.

Usage: ``python benchmarks/raw_httpx_push.py ARCHIVE REGISTRY_URL REPOSITORY TAG``

It pushes the single image of a ``docker-archive`` tar whose layers are stored uncompressed
(as ``skopeo copy ... docker-archive:`` writes them): per blob one ``POST`` to open an upload
session and one streamed ``PUT ...&digest=``, every blob in parallel on a thread pool, then the
manifest ``PUT``. Layer digests are the config's ``rootfs.diff_ids`` (the bytes of an
uncompressed layer hash to its diff_id), so nothing is hashed on the client. There is no
existence check, retry, validation or error reporting beyond an HTTP status check: this is what
any client has to do at least, not a usable client.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import sys
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
CHUNK_SIZE = 1024 * 1024
MAX_WORKERS = 6


@dataclass(frozen=True)
class Blob:
    """One blob to upload: its digest and where its bytes are (in the archive or in memory)."""

    digest: str
    size: int
    offset: int = 0
    data: bytes | None = None


def _member(archive: tarfile.TarFile, name: str) -> tarfile.TarInfo:
    """The regular-file member called ``name``, following symbolic links inside the tar."""
    member = archive.getmember(name)
    while member.issym():
        target = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), member.linkname))
        member = archive.getmember(target)
    return member


def read_image(path: str) -> tuple[bytes, list[Blob]]:
    """The config bytes and the blobs (config first, then layers) of the archive's image."""
    with tarfile.open(path) as archive:
        manifest_file = archive.extractfile(_member(archive, "manifest.json"))
        assert manifest_file is not None
        entry = json.loads(manifest_file.read())[0]
        config_file = archive.extractfile(_member(archive, entry["Config"]))
        assert config_file is not None
        config = config_file.read()
        layers = [_member(archive, name) for name in entry["Layers"]]
    diff_ids: list[str] = json.loads(config)["rootfs"]["diff_ids"]
    blobs = [Blob("sha256:" + hashlib.sha256(config).hexdigest(), len(config), data=config)]
    blobs += [
        Blob(diff_id, layer.size, offset=layer.offset_data)
        for layer, diff_id in zip(layers, diff_ids, strict=True)
    ]
    return config, blobs


def _file_slice(path: str, offset: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as file:
        file.seek(offset)
        while length:
            chunk = file.read(min(CHUNK_SIZE, length))
            if not chunk:
                raise OSError(f"{path} ended early")
            length -= len(chunk)
            yield chunk


def upload(client: httpx.Client, path: str, base: str, repository: str, blob: Blob) -> None:
    """``POST`` an upload session, then ``PUT`` the whole blob with its digest."""
    started = client.post(f"{base}/v2/{repository}/blobs/uploads/", headers={"Content-Length": "0"})
    started.raise_for_status()
    location = urljoin(str(started.url), started.headers["Location"])
    separator = "&" if "?" in location else "?"
    content = blob.data if blob.data is not None else _file_slice(path, blob.offset, blob.size)
    done = client.put(
        f"{location}{separator}digest={blob.digest}",
        content=content,
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(blob.size)},
    )
    done.raise_for_status()


def push(path: str, base: str, repository: str, tag: str) -> None:
    """Push the archive's image as ``repository:tag`` on the registry at ``base``."""
    _config, blobs = read_image(path)
    config_blob, layer_blobs = blobs[0], blobs[1:]
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_blob.digest, "size": config_blob.size},
        "layers": [
            {"mediaType": OCI_LAYER_TAR, "digest": blob.digest, "size": blob.size}
            for blob in layer_blobs
        ],
    }
    with (
        httpx.Client(timeout=httpx.Timeout(300.0)) as client,
        ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool,
    ):
        futures = [pool.submit(upload, client, path, base, repository, blob) for blob in blobs]
        for future in futures:
            future.result()
        response = client.put(
            f"{base}/v2/{repository}/manifests/{tag}",
            content=json.dumps(manifest).encode(),
            headers={"Content-Type": OCI_MANIFEST},
        )
        response.raise_for_status()


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, base, repository, tag = argv
    push(path, base.rstrip("/"), repository, tag)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

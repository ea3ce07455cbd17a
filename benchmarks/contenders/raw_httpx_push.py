"""The Python floor for a push: the fewest requests, sent with httpx and no client library.

Usage: ``python benchmarks/contenders/raw_httpx_push.py ARCHIVE REGISTRY_URL REPOSITORY TAG``

It pushes the single image of a ``docker save`` archive whose layers are stored uncompressed
(as ``docker save`` writes them): per blob one ``POST`` to open an upload
session and one streamed ``PUT ...&digest=``, every blob in parallel on a thread pool, then the
manifest ``PUT``. Layer digests are the config's ``rootfs.diff_ids`` (the bytes of an
uncompressed layer hash to its diff_id), so nothing is hashed on the client. There is no
existence check, retry, validation or error reporting beyond an HTTP status check: this is what
any client has to do at least, not a usable client.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import httpx
from docker_save import OCI_MANIFEST, Blob, file_slice, image_manifest, read_image

MAX_WORKERS = 6


def upload(client: httpx.Client, path: str, base: str, repository: str, blob: Blob) -> None:
    """``POST`` an upload session, then ``PUT`` the whole blob with its digest."""
    started = client.post(f"{base}/v2/{repository}/blobs/uploads/", headers={"Content-Length": "0"})
    started.raise_for_status()
    location = urljoin(str(started.url), started.headers["Location"])
    separator = "&" if "?" in location else "?"
    content = blob.data if blob.data is not None else file_slice(path, blob.offset, blob.size)
    done = client.put(
        f"{location}{separator}digest={blob.digest}",
        content=content,
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(blob.size)},
    )
    done.raise_for_status()


def push(path: str, base: str, repository: str, tag: str) -> None:
    """Push the archive's image as ``repository:tag`` on the registry at ``base``."""
    image = read_image(path)
    manifest = image_manifest(image.config, image.layers)
    with (
        httpx.Client(timeout=httpx.Timeout(300.0)) as client,
        ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool,
    ):
        futures = [pool.submit(upload, client, path, base, repository, b) for b in image.blobs]
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

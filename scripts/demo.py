"""The main job end to end: build a real image archive, push it, list it, inspect it.

Run by `make demo`, which first starts the local registry on 127.0.0.1:$REGISTRY_PORT (15000
by default). `REGISTRY_URL` points the demo at another registry. The image is built with umoci
from files on this machine and saved by skopeo as a docker-archive, the format `docker save`
and `podman save` write. Only the runtime dependencies are needed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import registry_async  # noqa: E402
from tests.integration.images import build_docker_archive  # noqa: E402

REGISTRY_PORT = os.environ.get("REGISTRY_PORT") or "15000"
REGISTRY_URL = os.environ.get("REGISTRY_URL") or f"http://127.0.0.1:{REGISTRY_PORT}"
RECORDED_TAG = "example.com/demo/hello:1.0"


async def main() -> int:
    if not await registry_async.check_registry_connectivity(REGISTRY_URL):
        print(
            f"no registry answers at {REGISTRY_URL}; run `REGISTRY_PORT={REGISTRY_PORT} make "
            "start-registry`",
            file=sys.stderr,
        )
        return 1
    print(f"registry at {REGISTRY_URL}: reachable")

    archive = build_docker_archive(ROOT / ".demo" / "hello.tar", reference=RECORDED_TAG)
    print(f"built {archive.relative_to(ROOT)} ({archive.stat().st_size} bytes)")
    print(f"recorded tags: {registry_async.extract_original_tags(archive)}")
    repository, tag = registry_async.get_primary_tag(archive)

    digest = await registry_async.push_docker_tar_with_original_tags(archive, REGISTRY_URL)
    print(f"pushed {repository}:{tag}")

    repositories = await registry_async.list_repositories(REGISTRY_URL)
    tags = await registry_async.list_tags(REGISTRY_URL, repository)
    print(f"repositories: {repositories}")
    print(f"tags of {repository}: {tags}")
    if repository not in repositories or tag not in tags:
        print("the pushed image is missing from the listing", file=sys.stderr)
        return 1

    info = await registry_async.get_image_info(REGISTRY_URL, repository, tag)
    print(
        f"inspected: {info.media_type}, {info.platform}, {len(info.layers)} layers, "
        f"{info.total_size} bytes, entrypoint {list(info.entrypoint or ())}"
    )
    if info.digest != digest:
        print("the registry describes another digest than the one pushed", file=sys.stderr)
        return 1

    print(f"digest: {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

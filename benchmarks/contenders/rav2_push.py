"""Push a ``docker save`` archive with registry-api-v2-client 1.2.0 from PyPI.

Usage: ``python rav2_push.py ARCHIVE REGISTRY_URL REPOSITORY TAG`` (runs in that package's own
virtual environment; see ``benchmarks/_venvs.py``).

It calls the package's documented ``push_docker_tar(tar_path, registry_url, repository, tag)``
under asyncio. That release reads only the Docker 25+ layout (``blobs/sha256/<hex>``), reads
each blob whole into memory, and uploads blobs above 5 MB in 5 MB ``PATCH`` chunks.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from typing import Any


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    # Imported by name: the package has this project's import name, so the type checker would
    # read this project's module instead of the one installed next to this interpreter.
    peer: Any = importlib.import_module("registry_api_v2_client")
    if peer.__version__ != "1.2.0":
        raise RuntimeError(f"registry_api_v2_client {peer.__version__} imported, not 1.2.0")
    asyncio.run(peer.push_docker_tar(*argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

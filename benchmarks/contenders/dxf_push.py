"""Push the image of a ``docker save`` archive with python-dxf, the way its API offers.

Usage: ``python dxf_push.py ARCHIVE HOST:PORT REPOSITORY TAG`` (runs in python-dxf's own
virtual environment; see ``benchmarks/_venvs.py``).

python-dxf pushes blobs, not archives: this script reads the archive's ``manifest.json`` and
config (``docker_save.py``), pushes the config and each layer with ``DXF.push_blob`` (a ``HEAD``
existence check, a ``POST`` and one streamed ``PUT ...?digest=``) one after the other, since the
library has no parallel transfers of its own, then the image manifest with ``set_manifest``.
All requests share one keep-alive session (``with dxf:``).
"""

from __future__ import annotations

import json
import sys

from docker_save import file_slice, image_manifest, read_image
from dxf import DXF


def push(path: str, host: str, repository: str, tag: str) -> None:
    """Push the archive's image as ``repository:tag`` to the plain-HTTP registry at ``host``."""
    image = read_image(path)
    assert image.config.data is not None
    manifest = image_manifest(image.config, image.layers)
    dxf = DXF(host, repository, insecure=True)
    with dxf:
        dxf.push_blob(data=iter([image.config.data]), digest=image.config.digest)
        for layer in image.layers:
            dxf.push_blob(data=file_slice(path, layer.offset, layer.size), digest=layer.digest)
        dxf.set_manifest(tag, json.dumps(manifest))


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    push(*argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

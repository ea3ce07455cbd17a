"""List a registry's catalog with python-dxf and print one name a line.

Usage: ``python dxf_catalog.py HOST:PORT [PAGE_SIZE]`` (runs in python-dxf's own virtual
environment; see ``benchmarks/_venvs.py``). Without ``PAGE_SIZE`` it calls
``DXFBase.list_repos()`` as documented, which sends no ``n`` (so the registry's default pages
of 100); with it, ``list_repos(batch_size=PAGE_SIZE)``. Either way it follows ``Link``.
"""

from __future__ import annotations

import sys

from dxf import DXFBase


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    batch_size = int(argv[1]) if len(argv) == 2 else None
    with DXFBase(argv[0], insecure=True) as dxf:
        names = dxf.list_repos(batch_size=batch_size)
    sys.stdout.write("".join(f"{name}\n" for name in names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The real image archives in `tests/fixtures/`, described in `tests/fixtures/README.md`.

They ship with the repository, so a missing archive is a broken checkout: it fails the test
that asks for it instead of skipping it.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_path(name: str) -> Path:
    """The path of the archive `name` in `tests/fixtures/`; FileNotFoundError if it is missing."""
    path = FIXTURES / name
    if not path.is_file():
        raise FileNotFoundError(f"fixture archive {path} is missing from the checkout")
    return path


def fixture_archives(pattern: str) -> list[Path]:
    """Every archive matching `pattern`, sorted; FileNotFoundError if none does."""
    paths = sorted(FIXTURES.glob(pattern))
    if not paths:
        raise FileNotFoundError(f"no fixture archive matches {FIXTURES / pattern}")
    return paths

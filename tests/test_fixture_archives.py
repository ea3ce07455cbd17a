"""`tests/fixtures/` holds exactly the archives its README lists, with the sha256 it gives."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.fixture_archives import FIXTURES, fixture_path

# A row of the README's table: | `file` | `sha256` | ...
ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| `(?P<sha256>[0-9a-f]{64})` \|", re.MULTILINE)


def documented() -> dict[str, str]:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    return {match["name"]: match["sha256"] for match in ROW.finditer(readme)}


def test_the_readme_lists_every_archive_and_nothing_else() -> None:
    present = {path.name for path in FIXTURES.iterdir() if path.name != "README.md"}
    assert present == set(documented())


@pytest.mark.parametrize(("name", "sha256"), sorted(documented().items()))
def test_archive_is_unchanged(name: str, sha256: str) -> None:
    assert hashlib.sha256(fixture_path(name).read_bytes()).hexdigest() == sha256

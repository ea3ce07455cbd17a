"""docs/guarantees.md names, for each promise, the tests that hold it: they must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUARANTEES = ROOT / "docs" / "guarantees.md"
# `- `tests/proto/test_pull.py`: `test_a`, `test_b`` (a list item may continue on the next
# lines, indented), or a file alone: `(all of it)`.
_ITEM = re.compile(r"^- (.+(?:\n  .+)*)", re.MULTILINE)
_FILE = re.compile(r"`(tests/[\w/]+\.py)`(?::((?:\s*`\w+`,?)+))?")


def cited() -> list[tuple[str, list[str]]]:
    citations = []
    for item in _ITEM.findall(GUARANTEES.read_text()):
        for path, names in _FILE.findall(item):
            citations.append((path, re.findall(r"`(\w+)`", names)))
    return citations


def test_every_promise_names_tests() -> None:
    text = GUARANTEES.read_text()
    promises = re.findall(r"^\*\*[^*]+\*\*", text, re.MULTILINE)
    assert len(promises) >= 10
    assert len(cited()) >= len(promises)


def test_the_tests_named_exist() -> None:
    for path, names in cited():
        source = (ROOT / path).read_text()
        for name in names:
            assert re.search(rf"^(async )?def {name}\(", source, re.MULTILINE), (path, name)

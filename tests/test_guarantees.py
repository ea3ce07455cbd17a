"""docs/guarantees.md names, for each promise, the tests that hold it: they must exist.

A test is named as `path::test`, or in a list item as a file and its tests
(`- `tests/proto/test_pull.py`: `test_a`, `test_b``), or as a file alone (all of it)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUARANTEES = ROOT / "docs" / "guarantees.md"
_NAMED = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
# A list item may continue on the next lines, indented.
_ITEM = re.compile(r"^- (.+(?:\n  .+)*)", re.MULTILINE)
_FILE = re.compile(r"`(tests/[\w/]+\.py)`(?::((?:\s*`\w+`,?)+))?")


def cited() -> list[tuple[str, list[str]]]:
    """`(file, tests)` for every citation; no tests: the whole file."""
    text = GUARANTEES.read_text()
    citations = [(path, [name]) for path, name in _NAMED.findall(text)]
    for item in _ITEM.findall(text):
        for path, names in _FILE.findall(item):
            citations.append((path, re.findall(r"`(\w+)`", names)))
    return citations


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


def test_every_promise_names_tests() -> None:
    text = GUARANTEES.read_text()
    promises = re.findall(r"^\*\*[^*]+\*\*", text, re.MULTILINE)
    assert len(promises) >= 14
    assert len(cited()) >= len(promises)


def test_every_named_test_exists() -> None:
    missing = []
    for path, names in cited():
        if not (ROOT / path).is_file():
            missing.append(path)
            continue
        defined = _tests_in(ROOT / path)
        missing += [f"{path}::{name}" for name in names if name not in defined]
    assert missing == []

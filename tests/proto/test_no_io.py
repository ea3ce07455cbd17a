"""`registry_proto` does no I/O: a scan of its source, so a stray import fails the build."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import registry_proto

PACKAGE = Path(registry_proto.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))
FLOW_MODULES = sorted((PACKAGE / "flows").glob("*.py"))

# Event loops, HTTP stacks, sockets, clocks, threads, processes, randomness, streams.
BANNED = {
    "asyncio",
    "trio",
    "anyio",
    "httpx",
    "httpcore",
    "socket",
    "ssl",
    "time",
    "threading",
    "subprocess",
    "requests",
    "aiohttp",
    "urllib.request",
    "http.client",
    "concurrent",
    "random",
    "secrets",
    "selectors",
    "tempfile",
    "shutil",
    "io",
}
# Modules allowed only for type annotations (under `if TYPE_CHECKING:`).
TYPING_ONLY = {"io"}


def _banned(module: str) -> str | None:
    for name in BANNED:
        if module == name or module.startswith(name + "."):
            return name
    return None


def _type_checking_nodes(tree: ast.Module) -> set[ast.AST]:
    """Every node inside an `if TYPE_CHECKING:` block."""
    inside: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    inside.update(ast.walk(child))
    return inside


def _imports(tree: ast.Module) -> list[tuple[ast.stmt, str]]:
    found: list[tuple[ast.stmt, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node, node.module))
            # `from urllib import request` imports urllib.request just the same.
            found.extend((node, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_scan_sees_the_package() -> None:
    names = {path.name for path in MODULES}
    assert {"_effects.py", "_models.py", "_driver.py", "_registry.py", "operations.py"} <= names
    assert FLOW_MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_io_imports(path: Path) -> None:
    tree = _parse(path)
    typing_only = _type_checking_nodes(tree)
    offending = []
    for node, module in _imports(tree):
        banned = _banned(module)
        if banned is None or (banned in TYPING_ONLY and node in typing_only):
            continue
        offending.append(f"line {node.lineno}: {module}")
    assert not offending, f"{path.name} imports I/O modules: {offending}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_calls_to_open(path: Path) -> None:
    calls = []
    for node in ast.walk(_parse(path)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("open", "__import__", "exec", "eval"):
            calls.append(f"line {node.lineno}: {func.id}()")
        elif isinstance(func, ast.Attribute) and func.attr in ("open", "import_module"):
            calls.append(f"line {node.lineno}: .{func.attr}()")
    assert not calls, f"{path.name} opens files or imports dynamically: {calls}"


@pytest.mark.parametrize("path", FLOW_MODULES, ids=lambda p: p.name)
def test_flows_only_yield_from(path: Path) -> None:
    bare = [node.lineno for node in ast.walk(_parse(path)) if isinstance(node, ast.Yield)]
    assert not bare, f"{path.name} has a bare `yield` at lines {bare}; use the typed helpers"


def test_the_scanner_catches_what_it_should() -> None:
    source = (
        "import time\n"
        "from urllib import request\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import io\n"
        "def f():\n"
        "    x = yield 1\n"
        "    open('x')\n"
    )
    tree = ast.parse(source)
    typing_only = _type_checking_nodes(tree)
    flagged = {
        module
        for node, module in _imports(tree)
        if _banned(module) and not (module in TYPING_ONLY and node in typing_only)
    }
    assert flagged == {"time", "urllib.request"}
    assert any(isinstance(node, ast.Yield) for node in ast.walk(tree))

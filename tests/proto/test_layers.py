"""The layers import only downward, as docs/architecture.md draws them.

`registry_io` (the driver side both drivers share) imports neither driver; `registry_async`
and `registry_sync` do not import each other; all three import only the public names of
`registry_proto` (its package, `registry_proto.flows` and `registry_proto.operations`).
A scan of the source, plus a fresh interpreter to see what importing a driver loads.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_CORE = ("registry_proto", "registry_proto.flows", "registry_proto.operations")
# package -> the project packages it must never import
FORBIDDEN = {
    "registry_io": {"registry_async", "registry_sync", "registry_api_v2_client"},
    "registry_async": {"registry_sync", "registry_api_v2_client"},
    "registry_sync": {"registry_async", "registry_api_v2_client"},
}


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """`(module, names, line)` of every absolute import in `path`."""
    found: list[tuple[str, list[str], int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, [a.name for a in node.names], node.lineno))
    return found


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_driver_package_imports_no_other_driver(package: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _sources(package)
        for module, _, line in _imports(path)
        if module.split(".")[0] in FORBIDDEN[package]
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_drivers_use_only_public_core_names(package: str) -> None:
    wrong = []
    for path in _sources(package):
        for module, names, line in _imports(path):
            if not module.startswith("registry_proto"):
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            if module not in PUBLIC_CORE:
                wrong.append(f"{where} imports the private module {module}")
                continue
            exported = set(importlib.import_module(module).__all__)
            wrong += [
                f"{where} imports {module}.{n}, not exported"
                for n in names
                if n not in exported and f"{module}.{n}" not in PUBLIC_CORE
            ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("package", "absent"),
    [("registry_async", "registry_sync"), ("registry_sync", "registry_async")],
)
def test_importing_one_driver_loads_not_the_other(package: str, absent: str) -> None:
    probe = f"import sys, {package}; print({absent!r} in sys.modules)"
    answer = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert answer.stdout.strip() == "False"


def test_the_core_exports_no_internals() -> None:
    import registry_proto

    internals = {"start_session", "upload_chunked", "intercept", "declare_scopes"}
    assert not internals & set(registry_proto.__all__)

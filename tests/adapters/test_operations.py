"""Each operation is defined once (`registry_io.ClientCore`) and shows itself the same way
everywhere it is bound: as a method of either client and as a module-level function of either
package, with the definition's name, docstring and signature, less `self`."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest

import registry_async
import registry_sync
from registry_io import ClientCore, ClientOperations

NAMES = ClientOperations.names()


Bindings = Callable[[str], dict[str, Callable[..., Any]]]


@pytest.fixture
def bound() -> Iterator[Bindings]:
    """Where each operation is bound, by name: the packages and a client of each kind (the
    methods are only looked at, never called; the clients' pools are closed unused)."""
    awaiting = registry_async.AsyncRegistryClient()
    blocking = registry_sync.RegistryClient()
    yield lambda name: {
        "registry_async": getattr(registry_async, name),
        "registry_sync": getattr(registry_sync, name),
        "AsyncRegistryClient": getattr(awaiting, name),
        "RegistryClient": getattr(blocking, name),
    }
    blocking.close()
    anyio.run(awaiting.aclose)


def test_both_packages_export_every_operation() -> None:
    assert len(NAMES) == 13
    for package in (registry_async, registry_sync):
        assert set(NAMES) <= set(package.__all__)
        assert all(callable(getattr(package, name)) for name in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_binding_presents_the_definition(name: str, bound: Bindings) -> None:
    definition = getattr(ClientCore, name)
    parameters = list(inspect.signature(definition).parameters)
    assert parameters[0] == "self"
    for where, function in bound(name).items():
        assert function.__name__ == name, where
        assert function.__doc__ == definition.__doc__, where
        assert list(inspect.signature(function).parameters) == parameters[1:], where


@pytest.mark.parametrize("name", NAMES)
def test_awaiting_and_blocking_bindings(name: str, bound: Bindings) -> None:
    iterates = name.startswith("iter_")
    for where in ("registry_async", "AsyncRegistryClient"):
        function = bound(name)[where]
        assert (
            inspect.isasyncgenfunction(function)
            if iterates
            else inspect.iscoroutinefunction(function)
        ), where
    for where in ("registry_sync", "RegistryClient"):
        function = bound(name)[where]
        assert inspect.isgeneratorfunction(function) == iterates, where
        assert not inspect.iscoroutinefunction(function), where

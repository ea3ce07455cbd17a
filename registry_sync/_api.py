"""The module-level functions of `registry_sync`: each blocks on one operation run by a
`RegistryClient` made for it from the client options in its keywords."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Concatenate, ParamSpec, TypeVar

from registry_io import Call, ClientCore, ClientOperations, Pages, presents

from ._client import RegistryClient

P = ParamSpec("P")
T = TypeVar("T")


class _EachCall(ClientOperations):
    """The operations as functions, each opening a `RegistryClient` with the client options
    given to it."""

    def bind(self, definition: Callable[Concatenate[ClientCore, P], Call[T]]) -> Callable[P, T]:
        @presents(definition)
        def function(*args: P.args, **kwargs: P.kwargs) -> T:
            client_options, own = ClientCore.split(kwargs)
            with RegistryClient(**client_options) as client:
                return client.bind(definition)(*args, **own)

        return function

    def bind_pages(
        self, definition: Callable[Concatenate[ClientCore, P], Pages]
    ) -> Callable[P, Iterator[str]]:
        @presents(definition)
        def function(*args: P.args, **kwargs: P.kwargs) -> Iterator[str]:
            client_options, own = ClientCore.split(kwargs)
            with RegistryClient(**client_options) as client:
                yield from client.bind_pages(definition)(*args, **own)

        return function


each_call = _EachCall()

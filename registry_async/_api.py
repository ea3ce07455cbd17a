"""The module-level coroutine functions of `registry_async`, each awaiting one operation on a
client of its own, opened with the client options it was given (`username=`, `timeout=`,
...; see `ClientOptions`) and closed when the operation ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from registry_io import Call, ClientCore, ClientOperations, Pages, presents

from ._client import AsyncRegistryClient

P = ParamSpec("P")
T = TypeVar("T")


class _EachCall(ClientOperations):
    """The operations as functions, each opening an `AsyncRegistryClient` with the client
    options given to it."""

    def bind(
        self, definition: Callable[Concatenate[ClientCore, P], Call[T]]
    ) -> Callable[P, Coroutine[Any, Any, T]]:
        @presents(definition)
        async def function(*args: P.args, **kwargs: P.kwargs) -> T:
            client_options, own = ClientCore.split(kwargs)
            async with AsyncRegistryClient(**client_options) as client:
                return await client.bind(definition)(*args, **own)

        return function

    def bind_pages(
        self, definition: Callable[Concatenate[ClientCore, P], Pages]
    ) -> Callable[P, AsyncIterator[str]]:
        @presents(definition)
        async def function(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[str]:
            client_options, own = ClientCore.split(kwargs)
            async with AsyncRegistryClient(**client_options) as client:
                async for name in client.bind_pages(definition)(*args, **own):
                    yield name

        return function


each_call = _EachCall()

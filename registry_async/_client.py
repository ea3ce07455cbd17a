"""`AsyncRegistryClient`: the asyncio and trio client. One connection pool and one token
cache for many calls.

Its operations are declared once in `registry_io.ClientOperations`; this class says how to
run one (`bind`: await it on the current event loop).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar, Unpack

import anyio.to_thread

from registry_io import Call, ClientCore, ClientOperations, ClientOptions, Pages, presents
from registry_proto import Flow

from ._driver import AsyncDriver

__all__ = ["AsyncRegistryClient"]

P = ParamSpec("P")
T = TypeVar("T")


class AsyncRegistryClient(ClientOperations):
    """An async registry client (asyncio or trio) holding a connection pool and its tokens.

    Use it as an async context manager, or call `aclose()`. Many calls may run on one client
    at once (gathered pushes, say); they share its pool. It is not tied to one registry: every
    method takes the registry URL. Options (credentials, TLS, timeouts, `max_concurrency`)
    are described in `ClientOptions` and docs/api-reference.md.
    """

    def __init__(self, **options: Unpack[ClientOptions]) -> None:
        self._core = ClientCore(**options)
        import httpx  # here, not with the package: docs/performance.md

        self._http = httpx.AsyncClient(**self._core.settings.http_options())
        self._driver = AsyncDriver(self._http)

    async def __aenter__(self) -> AsyncRegistryClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def run(self, flow: Flow[T], *, registry_url: str | None = None) -> T:
        """Drive any `registry_proto` flow with this client's connection pool.

        Transient failures are retried; with `registry_url`, requests to that registry are
        also authenticated.
        """
        registries = () if registry_url is None else (registry_url,)
        return await self.execute(Call(flow, registries))

    async def execute(self, call: Call[T]) -> T:
        """Run an operation's `Call`: credentials looked up, authenticated, retried."""
        for endpoint in self._core.missing_credentials(call):
            # Reading docker's config may run a credential helper: not on the event loop.
            await anyio.to_thread.run_sync(self._core.add_credentials, endpoint)
        driver = self._driver
        if call.progress is not None:
            driver = AsyncDriver(self._http, on_event=call.progress)
        return await driver.run(self._core.prepared(call))

    def bind(
        self, definition: Callable[Concatenate[ClientCore, P], Call[T]]
    ) -> Callable[P, Coroutine[Any, Any, T]]:
        """The method running `definition`'s calls on this client."""

        @presents(definition)
        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await self.execute(self._core.call(definition, args, kwargs))

        return method

    def bind_pages(
        self, definition: Callable[Concatenate[ClientCore, P], Pages]
    ) -> Callable[P, AsyncIterator[str]]:
        """The method iterating over `definition`'s listing, a page fetched at a time."""

        @presents(definition)
        async def method(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[str]:
            pages = self._core.call(definition, args, kwargs)
            while (call := pages.next()) is not None:
                for name in await self.execute(call):
                    yield name

        return method

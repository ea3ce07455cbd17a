"""`RegistryClient`: the blocking client. One connection pool and one token cache for many
calls.

Its operations are declared once in `registry_io.ClientOperations`; this class says how to
run one (`bind`: block until it is done).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Concatenate, ParamSpec, TypeVar, Unpack

from registry_io import Call, ClientCore, ClientOperations, ClientOptions, Pages, presents
from registry_proto import Flow

from ._driver import SyncDriver

__all__ = ["RegistryClient"]

P = ParamSpec("P")
T = TypeVar("T")


class RegistryClient(ClientOperations):
    """A blocking registry client holding one connection pool and the tokens it earned.

    Use it as a context manager, or call `close()`. It is not tied to one registry: every
    method takes the registry URL. Options (credentials, TLS, timeouts, `max_concurrency`)
    are described in `ClientOptions` and docs/api-reference.md.
    """

    def __init__(self, **options: Unpack[ClientOptions]) -> None:
        self._core = ClientCore(**options)
        import httpx  # here, not with the package: docs/performance.md

        self._http = httpx.Client(**self._core.settings.http_options())

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def run(self, flow: Flow[T], *, registry_url: str | None = None) -> T:
        """Drive any `registry_proto` flow with this client's connection pool.

        Transient failures are retried; with `registry_url`, requests to that registry are
        also authenticated.
        """
        registries = () if registry_url is None else (registry_url,)
        return self.execute(Call(flow, registries))

    def execute(self, call: Call[T]) -> T:
        """Run an operation's `Call`: credentials looked up, authenticated, retried."""
        for endpoint in self._core.missing_credentials(call):
            self._core.add_credentials(endpoint)
        driver = SyncDriver(
            self._http, max_workers=self._core.settings.max_concurrency, on_event=call.progress
        )
        return driver.run(self._core.prepared(call))

    def bind(self, definition: Callable[Concatenate[ClientCore, P], Call[T]]) -> Callable[P, T]:
        """The method running `definition`'s calls on this client."""

        @presents(definition)
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return self.execute(self._core.call(definition, args, kwargs))

        return method

    def bind_pages(
        self, definition: Callable[Concatenate[ClientCore, P], Pages]
    ) -> Callable[P, Iterator[str]]:
        """The method iterating over `definition`'s listing, a page fetched at a time."""

        @presents(definition)
        def method(*args: P.args, **kwargs: P.kwargs) -> Iterator[str]:
            pages = self._core.call(definition, args, kwargs)
            while (call := pages.next()) is not None:
                yield from self.execute(call)

        return method

"""Every public operation declared once, for both clients and their module-level functions.

`ClientOperations` lists the operations as descriptors over `ClientCore`'s definitions. A
class that inherits it and says how to run a `Call` (`bind` and `bind_pages`) gets them all,
with their signatures and docstrings: the asyncio/trio client awaits, the blocking client
blocks, and the module-level functions open a client for each call. Type checkers see the
right one: an operation read from an object whose `bind` makes coroutine functions is a
coroutine function, from one whose `bind` blocks a plain function.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar, overload

from ._client_core import Call, ClientCore, Pages

__all__ = ["AwaitingClient", "BlockingClient", "ClientOperations", "Listing", "Operation"]

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")

Definition = Callable[Concatenate[ClientCore, P], R]


class AwaitingClient(Protocol):
    """Runs operations as coroutine functions."""

    def bind(self, definition: Definition[P, Call[T]]) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def bind_pages(self, definition: Definition[P, Pages]) -> Callable[P, AsyncIterator[str]]: ...


class BlockingClient(Protocol):
    """Runs operations as functions that block until done."""

    def bind(self, definition: Definition[P, Call[T]]) -> Callable[P, T]: ...
    def bind_pages(self, definition: Definition[P, Pages]) -> Callable[P, Iterator[str]]: ...


class Operation(Generic[P, T]):
    """One operation: read from a client, the method that runs it there."""

    def __init__(self, definition: Definition[P, Call[T]]) -> None:
        self.definition = definition
        self.__doc__ = definition.__doc__

    @overload
    def __get__(self, client: None, owner: type) -> Operation[P, T]: ...
    @overload
    def __get__(
        self, client: AwaitingClient, owner: type
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    @overload
    def __get__(self, client: BlockingClient, owner: type) -> Callable[P, T]: ...
    def __get__(self, client: Any, owner: type) -> Any:
        return self if client is None else client.bind(self.definition)


class Listing(Generic[P]):
    """A listing read page by page: from a client, the method iterating over it."""

    def __init__(self, definition: Definition[P, Pages]) -> None:
        self.definition = definition
        self.__doc__ = definition.__doc__

    @overload
    def __get__(self, client: None, owner: type) -> Listing[P]: ...
    @overload
    def __get__(self, client: AwaitingClient, owner: type) -> Callable[P, AsyncIterator[str]]: ...
    @overload
    def __get__(self, client: BlockingClient, owner: type) -> Callable[P, Iterator[str]]: ...
    def __get__(self, client: Any, owner: type) -> Any:
        return self if client is None else client.bind_pages(self.definition)


class ClientOperations:
    """The public operations, for a class that can `bind` them (see the module docstring)."""

    check_registry_connectivity = Operation(ClientCore.check_registry_connectivity)
    ping = Operation(ClientCore.ping)
    push_docker_tar = Operation(ClientCore.push_docker_tar)
    push_docker_tar_with_original_tags = Operation(ClientCore.push_docker_tar_with_original_tags)
    push_docker_tar_with_all_original_tags = Operation(
        ClientCore.push_docker_tar_with_all_original_tags
    )
    list_repositories = Operation(ClientCore.list_repositories)
    list_tags = Operation(ClientCore.list_tags)
    iter_repositories = Listing(ClientCore.iter_repositories)
    iter_tags = Listing(ClientCore.iter_tags)
    get_image_info = Operation(ClientCore.get_image_info)
    delete_image = Operation(ClientCore.delete_image)
    pull_image = Operation(ClientCore.pull_image)
    copy_image = Operation(ClientCore.copy_image)

    @classmethod
    def names(cls) -> list[str]:
        """The operations' names, as module-level functions are named."""
        return [n for n, v in vars(ClientOperations).items() if isinstance(v, Operation | Listing)]

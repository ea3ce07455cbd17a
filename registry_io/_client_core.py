"""The client skeleton both clients share: settings, tokens, push state, and every public
operation defined once.

Each operation of `ClientCore` validates its arguments and returns a `Call`: the flow to run,
the registries to authenticate it to, and who listens to its progress. The asyncio/trio client
awaits a `Call`, the blocking client blocks on it; neither writes an operation's signature
again (they derive their methods from these, see `registry_async._client`).

The module-level functions take the client options as well (`username=`, `timeout=`, ...) and
open a client with them for one call; that is why every operation here accepts
`**client_options`. A client's own methods refuse them: they belong to its constructor.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, Unpack, cast

from registry_proto import (
    Flow,
    ProgressEvent,
    RegistryEndpoint,
    ValidationError,
    send_cleanups,
    with_auth,
    with_retries,
)
from registry_proto import operations as ops
from registry_proto.flows import ApiVersion, ImageInfo, Paginator, PullResult, PushResult, PushState
from registry_proto.operations import PushArgs, PushContext

from ._arguments import check_arguments
from ._host import host_platform
from ._settings import (
    Authenticators,
    ClientOptions,
    PushCallOptions,
    Settings,
    split_options,
)
from .jobs import Job

__all__ = ["Call", "ClientCore", "Pages", "presents"]

T = TypeVar("T")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])
Listener = Callable[[Any], object]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One operation, ready to run: its flow, the registries whose credentials it needs
    (none: sent as is), its progress listener, and whether transient failures are retried."""

    flow: Flow[T]
    registries: tuple[str, ...] = ()
    progress: Listener | None = None
    retried: bool = True


class Pages:
    """A listing read lazily: each `next()` is the `Call` fetching one more page."""

    def __init__(self, pager: Paginator, registry_url: str) -> None:
        self._pager = pager
        self._registry_url = registry_url

    def next(self) -> Call[list[str]] | None:
        page = self._pager.next_page()
        return None if page is None else Call(page, (self._registry_url,))


def _push_args(options: PushCallOptions) -> tuple[PushArgs, Listener | None]:
    """A push's own options and its listener; the client options were taken already (by the
    module-level function that opened the client)."""
    args = dict(options)
    return cast(PushArgs, args), _listener(args.pop("progress", None))


def _listener(progress: object) -> Listener | None:
    """The `progress=` callable, checked before anything is sent."""
    if progress is not None and not callable(progress):
        raise ValidationError(
            f"progress must be a callable taking push events, or None, not {progress!r}"
        )
    return progress


def _variadic(definition: Callable[..., Any]) -> tuple[str, ...]:
    """The keywords a definition's `**options` take besides the client options (which only
    module-level functions accept, and take out first): a push's own."""
    for parameter in inspect.signature(definition).parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD and "PushCallOptions" in str(
            parameter.annotation
        ):
            return tuple(PushArgs.__annotations__)
    return ()


def presents(definition: Callable[..., Any]) -> Callable[[F], F]:
    """A decorator: the function it wraps shows itself as `definition` does, its name,
    docstring and signature, less the `self` that a bound method or a module-level function
    does not take."""

    def decorate(function: F) -> F:
        functools.update_wrapper(function, definition)
        function.__signature__ = _public_signature(definition)  # type: ignore[attr-defined]
        return function

    return decorate


@functools.cache
def _public_signature(definition: Callable[..., Any]) -> inspect.Signature:
    """`definition`'s signature less `self`: worked out once per operation, since a client
    binds its methods again at every attribute access."""
    signature = inspect.signature(definition)
    parameters = list(signature.parameters.values())[1:]
    return signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty)


class ClientCore:
    """What a client holds across calls, and the definition of each of its operations."""

    def __init__(self, **options: Unpack[ClientOptions]) -> None:
        check_arguments(Settings.from_options, (), dict(options))
        self.settings = Settings.from_options(**options)
        self._push_state = PushState()
        self._authenticators = Authenticators()

    # -- running ---------------------------------------------------------------------------

    @staticmethod
    def split(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """`(client options, the operation's own)` of a module-level call's keywords."""
        return split_options(kwargs)

    def call(
        self, definition: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> R:
        """`definition`'s `Call` (or `Pages`) for a client method's arguments, which must fit
        it: client options go to the client's constructor, and an unknown keyword, a missing
        or an extra argument is a `ValidationError`."""
        given, _ = split_options(kwargs)
        if given:
            names = ", ".join(sorted(given))
            raise ValidationError(f"{names}: pass client options to the client, not to a call")
        check_arguments(definition, (self, *args), kwargs, keywords=_variadic(definition))
        return definition(self, *args, **kwargs)

    def missing_credentials(self, call: Call[Any]) -> list[RegistryEndpoint]:
        """The registries of `call` whose credentials have not been looked up yet."""
        endpoints = (RegistryEndpoint.parse(url) for url in call.registries)
        return [e for e in endpoints if self._authenticators.get(e) is None]

    def add_credentials(self, endpoint: RegistryEndpoint) -> None:
        """Look up `endpoint`'s credentials (reading docker's config may run a credential
        helper: the async client calls this on a worker thread)."""
        if self._authenticators.get(endpoint) is None:
            self._authenticators.add(endpoint, self.settings.credentials_for(endpoint))

    def prepared(self, call: Call[T]) -> Job[T]:
        """`call` as a driver runs it: authenticated to its registries, retried as the
        settings say (retries wrap authentication, so a retried request is authorised
        afresh), within the call's deadline; what it leaves to undo (`Cleanup`: open upload
        sessions) is authenticated as its own requests are, and never retried."""
        flow = self._authenticated(call.flow, call.registries)
        return Job(
            with_retries(flow, self.settings.retry) if call.retried else flow,
            cleanup=lambda undo: self._authenticated(send_cleanups(undo), call.registries),
            deadline=self.settings.deadline,
        )

    def _authenticated(self, flow: Flow[T], registries: tuple[str, ...]) -> Flow[T]:
        for url in dict.fromkeys(registries):
            authenticator = self._authenticators.get(RegistryEndpoint.parse(url))
            assert authenticator is not None, "missing_credentials() first"
            flow = with_auth(flow, authenticator)
        return flow

    def _push_context(self) -> PushContext:
        return {
            "max_concurrency": self.settings.max_concurrency,
            "host_platform": host_platform(),
            "state": self._push_state,
        }

    # -- the operations --------------------------------------------------------------------

    def check_registry_connectivity(
        self, registry_url: str, **client_options: Unpack[ClientOptions]
    ) -> Call[bool]:
        """True when a v2 registry answers at `registry_url` (even one that asks for a
        login); False when nothing, or something else, does."""
        # Sent without credentials: a 401 is an answer, not a failure.
        return Call(ops.check_registry_connectivity(registry_url))

    def ping(self, registry_url: str, **client_options: Unpack[ClientOptions]) -> Call[ApiVersion]:
        """The registry's API version header and the auth schemes it asks for.

        The request is sent without credentials, so the challenge shows.
        """
        return Call(ops.ping(registry_url), retried=False)

    def push_docker_tar(
        self,
        tar_path: str | os.PathLike[str],
        registry_url: str,
        repository: str,
        tag: str,
        **options: Unpack[PushCallOptions],
    ) -> Call[str]:
        """Push the image in an archive as `repository:tag`; return the manifest digest.

        Options (`source`, `platform`, `all_platforms`, `compression`, `chunk_size`,
        `progress`) are described in `PushArgs` and docs/api-reference.md.
        """
        args, progress = _push_args(options)
        flow = ops.push_docker_tar(
            tar_path, registry_url, repository, tag, **self._push_context(), **args
        )
        return Call(flow, (registry_url,), progress)

    def push_docker_tar_with_original_tags(
        self,
        tar_path: str | os.PathLike[str],
        registry_url: str,
        **options: Unpack[PushCallOptions],
    ) -> Call[str]:
        """Push under the first tag recorded in the archive (host removed); return the digest."""
        args, progress = _push_args(options)
        flow = ops.push_docker_tar_with_original_tags(
            tar_path, registry_url, **self._push_context(), **args
        )
        return Call(flow, (registry_url,), progress)

    def push_docker_tar_with_all_original_tags(
        self,
        tar_path: str | os.PathLike[str],
        registry_url: str,
        **options: Unpack[PushCallOptions],
    ) -> Call[list[PushResult]]:
        """Push every tag recorded in the archive (all images); return what was pushed."""
        args, progress = _push_args(options)
        flow = ops.push_docker_tar_with_all_original_tags(
            tar_path, registry_url, **self._push_context(), **args
        )
        return Call(flow, (registry_url,), progress)

    def list_repositories(
        self,
        registry_url: str,
        *,
        page_size: int | None = None,
        **client_options: Unpack[ClientOptions],
    ) -> Call[list[str]]:
        """Every repository in the registry's catalog (all pages followed)."""
        return Call(ops.list_repositories(registry_url, page_size=page_size), (registry_url,))

    def list_tags(
        self,
        registry_url: str,
        repository: str,
        *,
        page_size: int | None = None,
        **client_options: Unpack[ClientOptions],
    ) -> Call[list[str]]:
        """Every tag of `repository` (all pages followed)."""
        flow = ops.list_tags(registry_url, repository, page_size=page_size)
        return Call(flow, (registry_url,))

    def iter_repositories(
        self,
        registry_url: str,
        *,
        page_size: int | None = None,
        **client_options: Unpack[ClientOptions],
    ) -> Pages:
        """Repository names, fetched lazily one catalog page at a time."""
        return Pages(ops.repositories_pager(registry_url, page_size=page_size), registry_url)

    def iter_tags(
        self,
        registry_url: str,
        repository: str,
        *,
        page_size: int | None = None,
        **client_options: Unpack[ClientOptions],
    ) -> Pages:
        """Tags of `repository`, fetched lazily one page at a time."""
        pager = ops.tags_pager(registry_url, repository, page_size=page_size)
        return Pages(pager, registry_url)

    def get_image_info(
        self,
        registry_url: str,
        repository: str,
        reference: str,
        *,
        platform: str | None = None,
        **client_options: Unpack[ClientOptions],
    ) -> Call[ImageInfo]:
        """Describe an image or index by tag or digest; `platform` picks one image of an index."""
        flow = ops.get_image_info(registry_url, repository, reference, platform=platform)
        return Call(flow, (registry_url,))

    def delete_image(
        self,
        registry_url: str,
        repository: str,
        reference: str,
        **client_options: Unpack[ClientOptions],
    ) -> Call[bool]:
        """Delete the manifest a tag or digest points at (and so every tag on it)."""
        return Call(ops.delete_image(registry_url, repository, reference), (registry_url,))

    def pull_image(
        self,
        registry_url: str,
        repository: str,
        reference: str,
        destination: str | os.PathLike[str],
        *,
        platform: str | None = None,
        progress: Callable[[ProgressEvent], object] | None = None,
        **client_options: Unpack[ClientOptions],
    ) -> Call[PullResult]:
        """Pull an image by tag or digest into an archive file (docker 25+ `docker save`
        layout, also an OCI layout); `platform` picks one image of an index, `progress`
        receives `ProgressEvent`s."""
        flow = ops.pull_image(
            registry_url,
            repository,
            reference,
            destination,
            platform=platform,
            host_platform=host_platform(),
            max_concurrency=self.settings.max_concurrency,
        )
        return Call(flow, (registry_url,), progress)

    def copy_image(
        self,
        source_registry_url: str,
        source_repository: str,
        reference: str,
        destination_registry_url: str,
        destination_repository: str,
        tag: str | None = None,
        *,
        platform: str | None = None,
        all_platforms: bool = False,
        progress: Callable[[ProgressEvent], object] | None = None,
        **client_options: Unpack[ClientOptions],
    ) -> Call[str]:
        """Copy an image to another repository or registry, byte for byte; return its digest.

        Within one registry blobs are mounted; across registries they stream through
        temporary files. From an index, `platform` picks one image, `all_platforms` copies it
        all. Credentials are looked up for each registry. `progress` receives
        `ProgressEvent`s.
        """
        flow = ops.copy_image(
            source_registry_url,
            source_repository,
            reference,
            destination_registry_url,
            destination_repository,
            tag,
            platform=platform,
            all_platforms=all_platforms,
            host_platform=host_platform(),
            max_concurrency=self.settings.max_concurrency,
            state=self._push_state,
        )
        registries = (destination_registry_url, source_registry_url)
        return Call(flow, registries, _listener(progress))

"""`RegistryClient`: the blocking client. One connection pool and one token cache for many
calls."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, TypeVar, Unpack

import httpx

from registry_proto import Flow, RegistryEndpoint
from registry_proto import operations as ops
from registry_proto._auth import Authenticator, with_auth
from registry_proto._events import PushEvent
from registry_proto._retry import with_retries
from registry_proto.flows import ApiVersion, ImageInfo, PullResult, PushResult, PushState
from registry_proto.operations import PushArgs, PushContext

from ._driver import SyncDriver
from ._host import host_platform
from ._settings import Authenticators, ClientOptions, Settings

__all__ = ["RegistryClient"]

T = TypeVar("T")


class RegistryClient:
    """A blocking registry client holding one connection pool and the tokens it earned.

    Use it as a context manager, or call `close()`. It is not tied to one registry: every
    method takes the registry URL. Options (credentials, TLS, timeouts, `max_concurrency`)
    are described in `ClientOptions` and docs/api-reference.md.
    """

    def __init__(self, **options: Unpack[ClientOptions]) -> None:
        self._settings = Settings.from_options(**options)
        self._http = httpx.Client(**self._settings.http_options())
        self._driver = SyncDriver(self._http, max_workers=self._settings.max_concurrency)
        self._push_state = PushState()
        self._authenticators = Authenticators()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- running flows ----------------------------------------------------------------------

    def run(self, flow: Flow[T], *, registry_url: str | None = None) -> T:
        """Drive any `registry_proto` flow with this client's connection pool.

        Transient failures are retried; with `registry_url`, requests to that registry are
        also authenticated.
        """
        if registry_url is not None:
            flow = with_auth(flow, self._authenticator(registry_url))
        return self._driver.run(with_retries(flow, self._settings.retry))

    def _authenticator(self, registry_url: str) -> Authenticator:
        endpoint = RegistryEndpoint.parse(registry_url)
        found = self._authenticators.get(endpoint)
        if found is None:
            found = self._authenticators.add(endpoint, self._settings.credentials_for(endpoint))
        return found

    def _call(
        self,
        registry_url: str,
        flow: Flow[T],
        progress: Callable[[Any], object] | None = None,
        *,
        also: str | None = None,
    ) -> T:
        """Run `flow` authenticated to `registry_url` (and to `also`), retrying what is
        transient."""
        for url in dict.fromkeys(u for u in (registry_url, also) if u is not None):
            flow = with_auth(flow, self._authenticator(url))
        flow = with_retries(flow, self._settings.retry)
        if progress is None:
            return self._driver.run(flow)
        workers = self._settings.max_concurrency
        return SyncDriver(self._http, max_workers=workers, on_event=progress).run(flow)

    def _push_context(self) -> PushContext:
        return {
            "max_concurrency": self._settings.max_concurrency,
            "host_platform": host_platform(),
            "state": self._push_state,
        }

    # -- the API ----------------------------------------------------------------------------

    def check_registry_connectivity(self, registry_url: str) -> bool:
        """True when a v2 registry answers at `registry_url`; False when nothing does."""
        return self._call(registry_url, ops.check_registry_connectivity(registry_url))

    def ping(self, registry_url: str) -> ApiVersion:
        """The registry's API version header and the auth schemes it asks for.

        The request is sent without credentials, so the challenge shows.
        """
        return self._driver.run(ops.ping(registry_url))

    def push_docker_tar(
        self,
        tar_path: str | os.PathLike[str],
        registry_url: str,
        repository: str,
        tag: str,
        **options: Unpack[PushArgs],
    ) -> str:
        """Push the image in an archive as `repository:tag`; return the manifest digest.

        Options (`source`, `platform`, `all_platforms`, `compression`, `chunk_size`,
        `progress`) are described in `PushArgs` and docs/api-reference.md.
        """
        progress = options.pop("progress", None)
        flow = ops.push_docker_tar(
            tar_path, registry_url, repository, tag, **self._push_context(), **options
        )
        return self._call(registry_url, flow, progress)

    def push_docker_tar_with_original_tags(
        self, tar_path: str | os.PathLike[str], registry_url: str, **options: Unpack[PushArgs]
    ) -> str:
        """Push under the first tag recorded in the archive (host removed); return the digest."""
        progress = options.pop("progress", None)
        flow = ops.push_docker_tar_with_original_tags(
            tar_path, registry_url, **self._push_context(), **options
        )
        return self._call(registry_url, flow, progress)

    def push_docker_tar_with_all_original_tags(
        self, tar_path: str | os.PathLike[str], registry_url: str, **options: Unpack[PushArgs]
    ) -> list[PushResult]:
        """Push every tag recorded in the archive (all images); return what was pushed."""
        progress = options.pop("progress", None)
        flow = ops.push_docker_tar_with_all_original_tags(
            tar_path, registry_url, **self._push_context(), **options
        )
        return self._call(registry_url, flow, progress)

    def list_repositories(self, registry_url: str, *, page_size: int | None = None) -> list[str]:
        """Every repository in the registry's catalog (all pages followed)."""
        return self._call(registry_url, ops.list_repositories(registry_url, page_size=page_size))

    def list_tags(
        self, registry_url: str, repository: str, *, page_size: int | None = None
    ) -> list[str]:
        """Every tag of `repository` (all pages followed)."""
        flow = ops.list_tags(registry_url, repository, page_size=page_size)
        return self._call(registry_url, flow)

    def iter_repositories(
        self, registry_url: str, *, page_size: int | None = None
    ) -> Iterator[str]:
        """Repository names, fetched lazily one catalog page at a time."""
        pager = ops.repositories_pager(registry_url, page_size=page_size)
        while (page := pager.next_page()) is not None:
            yield from self._call(registry_url, page)

    def iter_tags(
        self, registry_url: str, repository: str, *, page_size: int | None = None
    ) -> Iterator[str]:
        """Tags of `repository`, fetched lazily one page at a time."""
        pager = ops.tags_pager(registry_url, repository, page_size=page_size)
        while (page := pager.next_page()) is not None:
            yield from self._call(registry_url, page)

    def get_image_info(
        self, registry_url: str, repository: str, reference: str, *, platform: str | None = None
    ) -> ImageInfo:
        """Describe an image or index by tag or digest; `platform` picks one image of an index."""
        flow = ops.get_image_info(registry_url, repository, reference, platform=platform)
        return self._call(registry_url, flow)

    def delete_image(self, registry_url: str, repository: str, reference: str) -> bool:
        """Delete the manifest a tag or digest points at (and so every tag on it)."""
        return self._call(registry_url, ops.delete_image(registry_url, repository, reference))

    def pull_image(
        self,
        registry_url: str,
        repository: str,
        reference: str,
        destination: str | os.PathLike[str],
        *,
        platform: str | None = None,
    ) -> PullResult:
        """Pull an image by tag or digest into an archive file (docker 25+ `docker save`
        layout, also an OCI layout); `platform` picks one image of an index."""
        flow = ops.pull_image(
            registry_url,
            repository,
            reference,
            destination,
            platform=platform,
            host_platform=host_platform(),
            max_concurrency=self._settings.max_concurrency,
        )
        return self._call(registry_url, flow)

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
        progress: Callable[[PushEvent], object] | None = None,
    ) -> str:
        """Copy an image to another repository or registry, byte for byte; return its digest.

        Within one registry blobs are mounted; across registries they stream through
        temporary files. From an index, `platform` picks one image, `all_platforms` copies it
        all. Credentials are looked up for each registry.
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
            max_concurrency=self._settings.max_concurrency,
            state=self._push_state,
        )
        return self._call(destination_registry_url, flow, progress, also=source_registry_url)

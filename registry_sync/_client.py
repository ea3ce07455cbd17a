"""`RegistryClient`: the blocking client. One connection pool for many calls."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TypeVar, Unpack

import httpx

from registry_proto import Flow, __version__
from registry_proto import operations as ops
from registry_proto._events import PushEvent
from registry_proto.flows import ApiVersion, ImageInfo, PushResult, PushState
from registry_proto.flows.push import DEFAULT_MAX_CONCURRENCY
from registry_proto.operations import PushArgs, PushContext

from ._driver import SyncDriver
from ._host import host_platform

__all__ = ["DEFAULT_TIMEOUT", "USER_AGENT", "RegistryClient"]

T = TypeVar("T")

USER_AGENT = f"registry-api-v2-client/{__version__}"
# Connecting should be quick; a single read or write may wait on a busy registry.
DEFAULT_TIMEOUT = httpx.Timeout(300.0, connect=30.0)


class RegistryClient:
    """A blocking registry client holding one connection pool.

    Use it as a context manager, or call `close()`. `max_concurrency` bounds how many blobs of
    one image are pushed at once. The client is not tied to one registry: every method takes
    the registry URL.
    """

    def __init__(
        self,
        *,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        verify: bool | str = True,
    ) -> None:
        self._max_concurrency = ops.validate_concurrency(max_concurrency)
        self._http = httpx.Client(
            timeout=timeout,
            verify=verify,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=max(16, 2 * max_concurrency)),
        )
        self._driver = SyncDriver(self._http, max_workers=self._max_concurrency)
        self._push_state = PushState()

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

    def _reporting_driver(self, progress: Callable[[PushEvent], object]) -> SyncDriver:
        return SyncDriver(self._http, max_workers=self._max_concurrency, on_event=progress)

    def run(self, flow: Flow[T]) -> T:
        """Drive any `registry_proto` flow with this client's connection pool."""
        return self._driver.run(flow)

    def check_registry_connectivity(self, registry_url: str) -> bool:
        """True when a v2 registry answers at `registry_url`; False when nothing does."""
        return self.run(ops.check_registry_connectivity(registry_url))

    def ping(self, registry_url: str) -> ApiVersion:
        """The registry's API version header and the auth schemes it asks for."""
        return self.run(ops.ping(registry_url))

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
        `progress`) are described in docs/api-reference.md.
        """
        progress = options.pop("progress", None)
        flow = ops.push_docker_tar(
            tar_path, registry_url, repository, tag, **self._push_context(), **options
        )
        return self._run_reporting(flow, progress)

    def push_docker_tar_with_original_tags(
        self, tar_path: str | os.PathLike[str], registry_url: str, **options: Unpack[PushArgs]
    ) -> str:
        """Push under the first tag recorded in the archive (host removed); return the digest."""
        progress = options.pop("progress", None)
        flow = ops.push_docker_tar_with_original_tags(
            tar_path, registry_url, **self._push_context(), **options
        )
        return self._run_reporting(flow, progress)

    def push_docker_tar_with_all_original_tags(
        self, tar_path: str | os.PathLike[str], registry_url: str, **options: Unpack[PushArgs]
    ) -> list[PushResult]:
        """Push every tag recorded in the archive (all images); return what was pushed."""
        progress = options.pop("progress", None)
        flow = ops.push_docker_tar_with_all_original_tags(
            tar_path, registry_url, **self._push_context(), **options
        )
        return self._run_reporting(flow, progress)

    def _push_context(self) -> PushContext:
        return {
            "max_concurrency": self._max_concurrency,
            "host_platform": host_platform(),
            "state": self._push_state,
        }

    def _run_reporting(self, flow: Flow[T], progress: Callable[[PushEvent], object] | None) -> T:
        if progress is None:
            return self.run(flow)
        return self._reporting_driver(progress).run(flow)

    def list_repositories(self, registry_url: str, *, page_size: int | None = None) -> list[str]:
        """Every repository in the registry's catalog (all pages followed)."""
        return self.run(ops.list_repositories(registry_url, page_size=page_size))

    def list_tags(
        self, registry_url: str, repository: str, *, page_size: int | None = None
    ) -> list[str]:
        """Every tag of `repository` (all pages followed)."""
        return self.run(ops.list_tags(registry_url, repository, page_size=page_size))

    def iter_repositories(
        self, registry_url: str, *, page_size: int | None = None
    ) -> Iterator[str]:
        """Repository names, fetched lazily one catalog page at a time."""
        pager = ops.repositories_pager(registry_url, page_size=page_size)
        while (page := pager.next_page()) is not None:
            yield from self.run(page)

    def iter_tags(
        self, registry_url: str, repository: str, *, page_size: int | None = None
    ) -> Iterator[str]:
        """Tags of `repository`, fetched lazily one page at a time."""
        pager = ops.tags_pager(registry_url, repository, page_size=page_size)
        while (page := pager.next_page()) is not None:
            yield from self.run(page)

    def get_image_info(
        self, registry_url: str, repository: str, reference: str, *, platform: str | None = None
    ) -> ImageInfo:
        """Describe an image or index by tag or digest; `platform` picks one image of an index."""
        return self.run(ops.get_image_info(registry_url, repository, reference, platform=platform))

    def delete_image(self, registry_url: str, repository: str, reference: str) -> bool:
        """Delete the manifest a tag or digest points at (and so every tag on it)."""
        return self.run(ops.delete_image(registry_url, repository, reference))

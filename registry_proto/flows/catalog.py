"""Listing repositories and tags, page by page (distribution-spec "Listing Tags",
distribution's `_catalog`; docs/protocol.md §7).

Pages are followed only through `Link: <...>; rel="next"`: the reference registry ignores `n`
and `last` on tag lists, and some registries page with opaque tokens, so building `last=`
ourselves could loop or skip. Every name is returned once, even if a registry repeats one
across pages, and a registry whose pages stop making progress (a link back to a page already
read, or pages that add nothing new) ends the walk with a `RemoteProtocolError`.

Unless the caller picks a page size, the first page asks for `n=1000`: distribution walks its
whole repository tree for every catalog page (§7.1), so 5,000 repositories cost 50 walks in its
default pages of 100 and 6 in pages of 1,000. 1,000 is distribution's default
`catalog.maxentries` and ECR's ceiling. A registry that refuses the size with 400 (distribution
configured lower answers PAGINATION_NUMBER_INVALID) gets the first page asked again with `n=100`,
then with no `n` at all. A size the caller chose is never changed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .._effects import Flow, http
from .._errors import RemoteProtocolError
from .._headers import add_query, parse_link_next
from .._models import Request, Response
from .._reference import RegistryEndpoint
from ._common import expect

__all__ = ["Paginator", "repositories_pager", "tags_pager"]

# The first page's `n` when the caller does not choose one, then the smaller sizes tried in turn
# when a registry refuses it; None asks without `n`, for the registry's own default.
DEFAULT_PAGE_SIZE = 1000
SMALLER_PAGE_SIZES: tuple[int | None, ...] = (100, None)

# Pages in a row that bring nothing new before the walk is declared a loop. One is normal:
# distribution links to a last, empty page when the count is a multiple of the page size.
MAX_IDLE_PAGES = 3
# The largest `n` registries take (docs/protocol.md §7.1).
MAX_PAGE_SIZE = 1000


class Paginator:
    """Walks a paginated listing one page at a time.

    `next_page()` returns the flow that fetches the next page (its new names), or None when the
    listing is complete. Drivers loop over it to stream a listing lazily; `collect()` is the
    flow that reads the whole listing. `fallback_urls` are asked in turn, instead of
    `first_url`, when the registry answers the first page with 400 (a page size it refuses).
    """

    def __init__(
        self, first_url: str, field: str, what: str, *, fallback_urls: Sequence[str] = ()
    ) -> None:
        self._url: str | None = first_url
        self._fallbacks = list(fallback_urls)
        self._field = field
        self._what = what
        self._visited: set[str] = set()
        self._seen: set[str] = set()
        self._idle = 0

    def next_page(self) -> Flow[list[str]] | None:
        if self._url is None:
            return None
        return self._fetch(self._url)

    def collect(self) -> Flow[list[str]]:
        items: list[str] = []
        while (page := self.next_page()) is not None:
            items.extend((yield from page))
        return items

    def _fetch(self, url: str) -> Flow[list[str]]:
        if url in self._visited:
            raise RemoteProtocolError(f"the registry's {self._what} pages loop back to {url}")
        request, response = yield from self._get(url)
        while response.status == 400 and self._fallbacks:
            request, response = yield from self._get(self._fallbacks.pop(0))
        # Only the first page's size is ours: later URLs come from the registry's Link.
        self._fallbacks.clear()
        expect(response, request, 200, context=f"listing {self._what}")
        fresh = [item for item in self._page_items(response.body) if item not in self._seen]
        fresh = list(dict.fromkeys(fresh))
        self._seen.update(fresh)
        self._url = parse_link_next(response.headers.get_all("Link"), request.url)
        self._idle = 0 if fresh else self._idle + 1
        if self._url is not None and self._idle >= MAX_IDLE_PAGES:
            raise RemoteProtocolError(
                f"the registry's {self._what} pages keep linking on without new names"
            )
        return fresh

    def _get(self, url: str) -> Flow[tuple[Request, Response]]:
        self._visited.add(url)
        request = Request(method="GET", url=url)
        response = yield from http(request)
        return request, response

    def _page_items(self, body: bytes) -> list[str]:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise RemoteProtocolError(f"the registry's {self._what} page is not JSON") from None
        if not isinstance(document, dict):
            raise RemoteProtocolError(f"the registry's {self._what} page is not a JSON object")
        values = document.get(self._field)
        if values is None:  # distribution answers `"tags": null` once every tag is deleted
            return []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise RemoteProtocolError(
                f"the registry's {self._what} page has no list of {self._field}"
            )
        return values


def _sized_url(url: str, page_size: int | None) -> str:
    if page_size is None:
        return url
    # Larger pages are refused (400) by ECR, and by distribution's catalog: ask for the most
    # they take; the pages that follow bring the rest.
    return add_query(url, [("n", str(min(page_size, MAX_PAGE_SIZE)))])


def _pager(url: str, page_size: int | None, field: str, what: str) -> Paginator:
    """A paginator from `url`: with the caller's page size, or the default and its fallbacks."""
    if page_size is not None:
        return Paginator(_sized_url(url, page_size), field, what)
    fallbacks = [_sized_url(url, size) for size in SMALLER_PAGE_SIZES]
    return Paginator(_sized_url(url, DEFAULT_PAGE_SIZE), field, what, fallback_urls=fallbacks)


def repositories_pager(endpoint: RegistryEndpoint, *, page_size: int | None = None) -> Paginator:
    """A paginator over `GET /v2/_catalog` (it needs the `registry:catalog:*` scope)."""
    return _pager(endpoint.url("/v2/_catalog"), page_size, "repositories", "catalog")


def tags_pager(
    endpoint: RegistryEndpoint, repository: str, *, page_size: int | None = None
) -> Paginator:
    """A paginator over `GET /v2/<name>/tags/list`."""
    url = endpoint.url(f"/v2/{repository}/tags/list")
    return _pager(url, page_size, "tags", f"tags of {repository}")

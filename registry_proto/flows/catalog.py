"""Listing repositories and tags, page by page (distribution-spec "Listing Tags",
distribution's `_catalog`; docs/protocol.md §7).

Pages are followed only through `Link: <...>; rel="next"`: the reference registry ignores `n`
and `last` on tag lists, and some registries page with opaque tokens, so building `last=`
ourselves could loop or skip. Every name is returned once, even if a registry repeats one
across pages, and a registry whose pages stop making progress (a link back to a page already
read, or pages that add nothing new) ends the walk with a `RemoteProtocolError`.
"""

from __future__ import annotations

import json

from .._effects import Flow, http
from .._errors import RemoteProtocolError
from .._headers import add_query, parse_link_next
from .._models import Request
from .._reference import RegistryEndpoint
from ._common import expect

__all__ = ["Paginator", "repositories_pager", "tags_pager"]

# Pages in a row that bring nothing new before the walk is declared a loop. One is normal:
# distribution links to a last, empty page when the count is a multiple of the page size.
MAX_IDLE_PAGES = 3
# The largest `n` registries take (docs/protocol.md §7.1).
MAX_PAGE_SIZE = 1000


class Paginator:
    """Walks a paginated listing one page at a time.

    `next_page()` returns the flow that fetches the next page (its new names), or None when the
    listing is complete. Drivers loop over it to stream a listing lazily; `collect()` is the
    flow that reads the whole listing.
    """

    def __init__(self, first_url: str, field: str, what: str) -> None:
        self._url: str | None = first_url
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
        self._visited.add(url)
        request = Request(method="GET", url=url)
        response = yield from http(request)
        expect(response, request, 200, context=f"listing {self._what}")
        fresh = [item for item in self._page_items(response.body) if item not in self._seen]
        fresh = list(dict.fromkeys(fresh))
        self._seen.update(fresh)
        self._url = parse_link_next(response.headers.get_all("Link"), url)
        self._idle = 0 if fresh else self._idle + 1
        if self._url is not None and self._idle >= MAX_IDLE_PAGES:
            raise RemoteProtocolError(
                f"the registry's {self._what} pages keep linking on without new names"
            )
        return fresh

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


def _first_url(endpoint: RegistryEndpoint, path: str, page_size: int | None) -> str:
    url = endpoint.url(path)
    if page_size is None:
        return url
    # Larger pages are refused (400) by ECR, and by distribution's catalog: ask for the most
    # they take; the pages that follow bring the rest.
    return add_query(url, [("n", str(min(page_size, MAX_PAGE_SIZE)))])


def repositories_pager(endpoint: RegistryEndpoint, *, page_size: int | None = None) -> Paginator:
    """A paginator over `GET /v2/_catalog` (it needs the `registry:catalog:*` scope)."""
    return Paginator(_first_url(endpoint, "/v2/_catalog", page_size), "repositories", "catalog")


def tags_pager(
    endpoint: RegistryEndpoint, repository: str, *, page_size: int | None = None
) -> Paginator:
    """A paginator over `GET /v2/<name>/tags/list`."""
    first = _first_url(endpoint, f"/v2/{repository}/tags/list", page_size)
    return Paginator(first, "tags", f"tags of {repository}")

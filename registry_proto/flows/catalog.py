"""Listing repositories and tags, page by page (distribution-spec "Listing Tags",
distribution's `_catalog`; protocol.md §7).

Pages are followed only through `Link: <...>; rel="next"`: the reference registry ignores `n`
and `last` on tag lists, and some registries page with opaque tokens, so building `last=`
ourselves could loop or skip. A next link that was already visited ends the walk with a
`RemoteProtocolError` instead of looping forever.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .._effects import Flow, emit, http
from .._errors import RemoteProtocolError
from .._headers import add_query, parse_link_next
from .._models import Request
from .._reference import RegistryEndpoint
from ._common import expect

__all__ = ["CatalogPage", "TagsPage", "list_repositories", "list_tags", "paginate"]

# Enough for any real registry; a server sending more pages than this is looping.
MAX_PAGES = 100_000


class CatalogPage(tuple[str, ...]):
    """The repository names of one catalog page (emitted while listing)."""

    __slots__ = ()


class TagsPage(tuple[str, ...]):
    """The tags of one tags-list page (emitted while listing)."""

    __slots__ = ()


def paginate(
    first_url: str, field: str, what: str, page_type: Callable[[list[str]], tuple[str, ...]]
) -> Flow[list[str]]:
    """Fetch `first_url` and every `rel="next"` page after it; return `field` of every page.

    Each page is also emitted (as `page_type`) so callers can stream huge listings.
    """
    items: list[str] = []
    seen: set[str] = set()
    url: str | None = first_url
    while url is not None:
        if url in seen or len(seen) >= MAX_PAGES:
            raise RemoteProtocolError(f"the registry's {what} pages loop back to {url}")
        seen.add(url)
        request = Request(method="GET", url=url)
        response = yield from http(request)
        expect(response, request, 200, context=f"listing {what}")
        page = _page_items(response.body, field, what)
        items.extend(page)
        yield from emit(page_type(page))
        url = parse_link_next(response.headers.get_all("Link"), url)
    return items


def _page_items(body: bytes, field: str, what: str) -> list[str]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RemoteProtocolError(f"the registry's {what} page is not JSON") from None
    if not isinstance(document, dict):
        raise RemoteProtocolError(f"the registry's {what} page is not a JSON object")
    values = document.get(field)
    if values is None:  # distribution answers `"tags": null` once every tag is deleted
        return []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise RemoteProtocolError(f"the registry's {what} page has no list of {field}")
    return values


def _first_url(endpoint: RegistryEndpoint, path: str, page_size: int | None) -> str:
    url = endpoint.url(path)
    return add_query(url, [("n", str(page_size))]) if page_size is not None else url


def list_repositories(
    endpoint: RegistryEndpoint, *, page_size: int | None = None
) -> Flow[list[str]]:
    """`GET /v2/_catalog`, every page: all repository names the registry shows."""
    return (
        yield from paginate(
            _first_url(endpoint, "/v2/_catalog", page_size), "repositories", "catalog", CatalogPage
        )
    )


def list_tags(
    endpoint: RegistryEndpoint, repository: str, *, page_size: int | None = None
) -> Flow[list[str]]:
    """`GET /v2/<name>/tags/list`, every page: all tags of `repository`."""
    first = _first_url(endpoint, f"/v2/{repository}/tags/list", page_size)
    return (yield from paginate(first, "tags", f"tags of {repository}", TagsPage))

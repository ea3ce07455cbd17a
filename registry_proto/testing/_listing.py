"""Tag lists and the catalog, paged as distribution pages them (docs/protocol.md §7)."""

from __future__ import annotations

from .._models import Response
from ._answers import error, json_response, next_link
from ._requests import Context, catalog_key, page_size
from ._store import Store

__all__ = ["catalog", "tags"]


def tags(store: Store, context: Context, name: str) -> Response:
    """`GET /v2/<name>/tags/list`: sorted and paged with `n`/`last`, a `Link` while more remain;
    with `paginate_tags` off, every tag unsorted and `n`/`last` ignored (distribution 2.8)."""
    repo = store.repositories.get(name)
    if repo is None or (not repo.tags and not repo.had_tags):
        return error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": name})
    if not repo.tags:
        return json_response(200, {"name": name, "tags": None})
    names = list(repo.tags)
    if not store.options.paginate_tags:
        return json_response(200, {"name": name, "tags": names})
    names.sort()
    last = context.query.get("last")
    if last is not None:
        names = [t for t in names if t > last]
    size = page_size(context.query.get("n"), default=len(names))
    page = names[:size]
    headers: dict[str, str] = {}
    if size and len(names) > size:
        headers["Link"] = next_link(f"/v2/{name}/tags/list", page[-1], size)
    return json_response(200, {"name": name, "tags": page}, headers)


def catalog(store: Store, context: Context) -> Response:
    """`GET /v2/_catalog`: paged with `n`/`last` and a relative `Link`."""
    options = store.options
    size = page_size(context.query.get("n"), default=options.catalog_default_page)
    if size > options.catalog_max_entries:
        return error(
            400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested", {"n": size}
        )
    names = store.names()
    last = context.query.get("last")
    if last is not None:
        names = [n for n in names if catalog_key(n) > catalog_key(last)]
    page = names[:size]
    headers: dict[str, str] = {}
    if size and len(page) == size:
        # distribution links to a next page whenever this one is full (docs/protocol.md §7.1).
        headers["Link"] = next_link("/v2/_catalog", page[-1], size)
    return json_response(200, {"repositories": page}, headers)

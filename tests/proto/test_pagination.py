"""Pagination: every name exactly once, whatever the server's paging, and no endless walks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from registry_proto import (
    RegistryEndpoint,
    RegistryError,
    RemoteProtocolError,
    Request,
    Response,
)
from registry_proto import operations as ops
from registry_proto._models import Headers
from registry_proto.flows import Paginator, repositories_pager, tags_pager
from registry_proto.testing import FakeRegistry, PureDriver

ENDPOINT = RegistryEndpoint.parse("http://registry.test:5000")
Handler = Callable[[Request], Response]


def drive(flow: Any, handler: Handler, *, max_requests: int = 10_000) -> Any:
    """Answer each request of `flow` with `handler`; return the flow's result."""
    value: Any = None
    requests = 0
    try:
        while True:
            effect = flow.send(value)
            assert isinstance(effect, Request)
            requests += 1
            assert requests <= max_requests, "the flow did not stop"
            value = handler(effect)
    except StopIteration as stop:
        return stop.value


def page_response(field: str, names: list[str] | None, next_link: str | None) -> Response:
    headers = Headers.of([("Link", f'<{next_link}>; rel="next"')] if next_link else [])
    return Response(status=200, headers=headers, body=json.dumps({field: names}).encode())


def paging_server(
    names: list[str],
    *,
    page_size: int,
    link_style: str,
    repeat_boundary: bool,
    trailing_empty_page: bool,
    field: str,
    path: str,
) -> Handler:
    """A registry listing `names` in pages of `page_size` (whatever `n` the client asked)."""

    def handler(request: Request) -> Response:
        query = parse_qs(urlsplit(request.url).query)
        start = int(query.get("cursor", ["0"])[0])
        page = names[start : start + page_size]
        if repeat_boundary and 0 < start < len(names):
            page = [names[start - 1], *page]  # a name from the previous page again
        end = start + page_size
        more = end < len(names) or (trailing_empty_page and start < len(names))
        link = None
        if more:
            target = f"{path}?cursor={end}"
            if link_style == "opaque":
                target = f"{path}?cursor={end}&next_page=tok{end:x}"
            link = target if link_style != "absolute" else ENDPOINT.url(target)
        return page_response(field, page, link)

    return handler


names_strategy = st.lists(
    st.from_regex(r"[a-z0-9]{1,8}(/[a-z0-9]{1,8})?", fullmatch=True), unique=True, max_size=60
)


@given(
    names=names_strategy,
    page_size=st.integers(1, 25),
    asked=st.one_of(st.none(), st.integers(1, 50)),
    link_style=st.sampled_from(["relative", "absolute", "opaque"]),
    repeat_boundary=st.booleans(),
    trailing_empty_page=st.booleans(),
)
def test_catalog_returns_every_name_once(
    names: list[str],
    page_size: int,
    asked: int | None,
    link_style: str,
    repeat_boundary: bool,
    trailing_empty_page: bool,
) -> None:
    server = paging_server(
        names,
        page_size=page_size,
        link_style=link_style,
        repeat_boundary=repeat_boundary,
        trailing_empty_page=trailing_empty_page,
        field="repositories",
        path="/v2/_catalog",
    )
    result = drive(repositories_pager(ENDPOINT, page_size=asked).collect(), server)
    assert result == names


@given(names=names_strategy, page_size=st.integers(1, 10))
def test_streaming_pages_concatenate_to_the_listing(names: list[str], page_size: int) -> None:
    server = paging_server(
        names,
        page_size=page_size,
        link_style="relative",
        repeat_boundary=False,
        trailing_empty_page=False,
        field="tags",
        path="/v2/app/tags/list",
    )
    pager = tags_pager(ENDPOINT, "app")
    streamed: list[str] = []
    pages = 0
    while (page := pager.next_page()) is not None:
        streamed.extend(drive(page, server))
        pages += 1
    assert streamed == names
    assert pages == max(1, -(-len(names) // page_size))


def test_null_tags_is_an_empty_listing() -> None:
    def server(request: Request) -> Response:
        return page_response("tags", None, None)

    assert drive(tags_pager(ENDPOINT, "emptied").collect(), server) == []


@given(cycle=st.integers(1, 5), relative=st.booleans())
def test_a_link_back_to_a_read_page_ends_the_walk(cycle: int, relative: bool) -> None:
    def server(request: Request) -> Response:
        step = int(parse_qs(urlsplit(request.url).query).get("p", ["0"])[0])
        target = f"/v2/_catalog?p={(step + 1) % cycle}"
        link = target if relative else ENDPOINT.url(target)
        return page_response("repositories", [f"repo{step}"], link)

    with pytest.raises(RemoteProtocolError, match="loop"):
        drive(repositories_pager(ENDPOINT).collect(), server, max_requests=cycle + 2)


@given(names=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3))
def test_pages_that_never_bring_new_names_end_the_walk(names: list[str]) -> None:
    counter = iter(range(1_000_000))

    def server(request: Request) -> Response:
        # Every page repeats the same names and links to a fresh URL: no progress.
        return page_response("repositories", names, f"/v2/_catalog?token={next(counter)}")

    with pytest.raises(RemoteProtocolError, match="without new names"):
        drive(repositories_pager(ENDPOINT).collect(), server, max_requests=10)


def test_page_size_is_sent_as_n() -> None:
    seen: list[str] = []

    def server(request: Request) -> Response:
        seen.append(request.url)
        return page_response("repositories", [], None)

    drive(repositories_pager(ENDPOINT, page_size=50).collect(), server)
    assert seen == ["http://registry.test:5000/v2/_catalog?n=50"]


def test_a_page_size_over_1000_asks_for_1000() -> None:
    """distribution refuses more in its catalog (`catalog.maxentries`), ECR anywhere; the
    pages are followed anyway, so nothing is lost."""
    fake = FakeRegistry()
    for number in range(1500):
        fake.add_blob(f"repo{number:04}", b"x")
    driver = PureDriver(fake.handle)
    names = driver.run(ops.list_repositories("http://registry.test:5000", page_size=5000))
    assert len(names) == 1500
    assert driver.requests[0].url.endswith("/v2/_catalog?n=1000")


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"repositories": "x"}', b'{"repositories": [1, 2]}'],
)
def test_malformed_pages_are_protocol_errors(body: bytes) -> None:
    def server(request: Request) -> Response:
        return Response(status=200, body=body)

    with pytest.raises(RemoteProtocolError):
        drive(Paginator(ENDPOINT.url("/v2/_catalog"), "repositories", "catalog").collect(), server)


# -- page size: large by default, smaller when the registry refuses it ------------------------


def _catalog_sizes(urls: list[str]) -> list[str | None]:
    return [parse_qs(urlsplit(url).query).get("n", [None])[0] for url in urls]


@pytest.mark.parametrize("pager", ["catalog", "tags"])
def test_default_first_page_asks_for_a_thousand(pager: str) -> None:
    seen: list[str] = []

    def server(request: Request) -> Response:
        seen.append(request.url)
        return page_response("repositories" if pager == "catalog" else "tags", [], None)

    flow = repositories_pager(ENDPOINT) if pager == "catalog" else tags_pager(ENDPOINT, "app")
    drive(flow.collect(), server)
    assert _catalog_sizes(seen) == ["1000"]


@pytest.mark.parametrize(
    ("max_entries", "default_page", "first_pages", "page"),
    [
        (1000, 100, ["1000"], 1000),  # distribution's defaults: 1,000 fits
        (500, 100, ["1000", "100"], 100),  # maxentries below 1,000: pages of 100
        (50, 20, ["1000", "100", None], 20),  # below 100 too: the registry's default
    ],
)
def test_catalog_falls_back_when_the_registry_refuses_the_size(
    max_entries: int, default_page: int, first_pages: list[str | None], page: int
) -> None:
    fake = FakeRegistry(catalog_default_page=default_page, catalog_max_entries=max_entries)
    names = [f"team/app{number:04d}" for number in range(3000)]
    for name in names:
        fake.add_blob(name, b"x")
    result = drive(repositories_pager(ENDPOINT).collect(), fake.handle)
    assert result == sorted(names)
    # The accepted first page, then the registry's links, each carrying the size it used,
    # and distribution's trailing empty page (3,000 is a multiple of every size here).
    pages = len(names) // page + 1
    expected = [*first_pages, *[str(page)] * (pages - 1)]
    assert _catalog_sizes([request.url for request in fake.requests]) == expected


def test_only_the_first_page_falls_back() -> None:
    """A 400 on a page the registry linked to is the registry's error, not a size refusal."""
    seen: list[str] = []

    def server(request: Request) -> Response:
        seen.append(request.url)
        if "last=" in request.url:
            return Response(status=400, body=b'{"errors":[{"code":"UNSUPPORTED"}]}')
        return page_response("repositories", ["a"], "/v2/_catalog?last=a&n=1000")

    with pytest.raises(RegistryError) as caught:
        drive(repositories_pager(ENDPOINT).collect(), server)
    assert not isinstance(caught.value, RemoteProtocolError)
    assert _catalog_sizes(seen) == ["1000", "1000"]


def test_a_chosen_page_size_is_never_changed() -> None:
    fake = FakeRegistry(catalog_max_entries=10)
    fake.add_blob("app", b"x")
    with pytest.raises(RegistryError, match="PAGINATION_NUMBER_INVALID"):
        drive(repositories_pager(ENDPOINT, page_size=50).collect(), fake.handle)
    assert _catalog_sizes([request.url for request in fake.requests]) == ["50"]


def test_refusals_end_with_the_last_answer_when_no_size_is_accepted() -> None:
    seen: list[str] = []

    def server(request: Request) -> Response:
        seen.append(request.url)
        return Response(status=400, body=b'{"errors":[{"code":"PAGINATION_NUMBER_INVALID"}]}')

    with pytest.raises(RegistryError):
        drive(repositories_pager(ENDPOINT).collect(), server)
    assert _catalog_sizes(seen) == ["1000", "100", None]


@given(
    names=names_strategy,
    max_entries=st.integers(1, 1200),
    default_page=st.integers(1, 30),
)
def test_every_name_once_whatever_the_size_limit(
    names: list[str], max_entries: int, default_page: int
) -> None:
    assume(default_page <= max_entries)  # else the registry refuses even its own default
    fake = FakeRegistry(catalog_default_page=default_page, catalog_max_entries=max_entries)
    for name in names:
        fake.add_blob(name, b"x")
    result = drive(repositories_pager(ENDPOINT).collect(), fake.handle)
    assert result == fake.repositories()
    assert sorted(result) == sorted(names)

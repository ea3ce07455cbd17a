"""Pagination: every name exactly once, whatever the server's paging, and no endless walks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry_proto import RegistryEndpoint, RemoteProtocolError, Request, Response
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

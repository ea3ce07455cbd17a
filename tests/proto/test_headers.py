"""Header parsers: WWW-Authenticate, Link, upload Range, Location and query building."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry_proto import RemoteProtocolError
from registry_proto._headers import (
    Challenge,
    add_query,
    parse_link_next,
    parse_upload_range,
    parse_www_authenticate,
    resolve_location,
)

# -- WWW-Authenticate (RFC 9110 §11.6.1, RFC 6750 §3, docs/protocol.md §2.1) --------------------


def test_bearer_challenge_from_distribution() -> None:
    value = (
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:foo/bar:pull,push"'
    )
    assert parse_www_authenticate(value) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.example/token",
                "service": "registry.example",
                "scope": "repository:foo/bar:pull,push",
            },
        )
    ]


def test_several_challenges_in_one_value() -> None:
    value = 'Basic realm="basic-realm", Bearer realm="https://a/token",service="reg"'
    challenges = parse_www_authenticate(value)
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[0].params == {"realm": "basic-realm"}
    assert challenges[1].params == {"realm": "https://a/token", "service": "reg"}


def test_challenge_without_parameters_followed_by_another() -> None:
    challenges = parse_www_authenticate('Negotiate, Basic realm="r"')
    assert challenges == [Challenge("negotiate", {}), Challenge("basic", {"realm": "r"})]


def test_several_field_values() -> None:
    challenges = parse_www_authenticate(['Basic realm="r"', 'Bearer realm="t",service="s"'])
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[1].params["service"] == "s"


def test_commas_inside_quoted_values_stay_in_the_value() -> None:
    value = 'Bearer realm="https://a/token?x=1,2", scope="repository:a:pull,push,delete"'
    (challenge,) = parse_www_authenticate(value)
    assert challenge.params == {
        "realm": "https://a/token?x=1,2",
        "scope": "repository:a:pull,push,delete",
    }


def test_escaped_quotes_and_backslashes_are_unescaped() -> None:
    (challenge,) = parse_www_authenticate(r'Basic realm="say \"hi\" \\ there"')
    assert challenge.params["realm"] == 'say "hi" \\ there'


def test_scheme_and_parameter_names_are_case_insensitive_values_are_not() -> None:
    (challenge,) = parse_www_authenticate('BEARER Realm="https://A/Token", SERVICE=Registry')
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://A/Token", "service": "Registry"}


def test_bearer_error_and_multi_scope() -> None:
    value = (
        'Bearer realm="https://auth/token",service="reg",'
        'scope="repository:a/b:pull repository:c/d:pull,push",error="insufficient_scope"'
    )
    (challenge,) = parse_www_authenticate(value)
    assert challenge.params["scope"].split(" ") == [
        "repository:a/b:pull",
        "repository:c/d:pull,push",
    ]
    assert challenge.params["error"] == "insufficient_scope"


def test_token68_credentials_parameter() -> None:
    (challenge,) = parse_www_authenticate("Custom abc123==")
    assert challenge == Challenge("custom", {"": "abc123=="})


def test_empty_value_has_no_challenges() -> None:
    assert parse_www_authenticate("") == []
    assert parse_www_authenticate([]) == []


@pytest.mark.parametrize(
    "value",
    ['realm="no scheme"', 'Bearer realm="unterminated', "Bearer realm=@", "Basic \x00"],
)
def test_malformed_challenges_raise_remote_protocol_error(value: str) -> None:
    with pytest.raises(RemoteProtocolError, match="WWW-Authenticate"):
        parse_www_authenticate(value)


_SCHEME = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,10}", fullmatch=True)
_PARAM_NAME = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)
_PARAM_VALUE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@given(
    st.lists(
        st.tuples(_SCHEME, st.dictionaries(_PARAM_NAME, _PARAM_VALUE, max_size=4)),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from([", ", ",", " , "]),
    st.sampled_from([",", ", "]),
)
def test_any_list_of_challenges_round_trips(
    challenges: list[tuple[str, dict[str, str]]], between: str, params_sep: str
) -> None:
    text = between.join(
        scheme + (" " + params_sep.join(f"{k}={_quote(v)}" for k, v in params.items()))
        if params
        else scheme
        for scheme, params in challenges
    )
    parsed = parse_www_authenticate(text)
    assert parsed == [Challenge(scheme.lower(), params) for scheme, params in challenges]


# -- Link (RFC 8288, docs/protocol.md §7) --------------------------------------------------------


def test_relative_link_resolves_against_the_request_url() -> None:
    link = '</v2/_catalog?last=test%2Fa&n=1>; rel="next"'
    assert (
        parse_link_next(link, "http://registry:5000/v2/_catalog?n=1")
        == "http://registry:5000/v2/_catalog?last=test%2Fa&n=1"
    )


def test_absolute_link_is_kept() -> None:
    link = '<https://cdn.example/v2/a/tags/list?last=x&n=2>; rel="next"'
    assert (
        parse_link_next(link, "http://registry/v2/a/tags/list")
        == "https://cdn.example/v2/a/tags/list?last=x&n=2"
    )


def test_next_is_found_among_several_links() -> None:
    link = (
        '<http://r/v2/a/tags/list?last=a>; rel="prev", <http://r/v2/a/tags/list?last=c>; rel=next'
    )
    assert parse_link_next(link, "http://r/") == "http://r/v2/a/tags/list?last=c"


def test_next_is_found_in_separate_field_values() -> None:
    values = ['<http://r/first>; rel="first"', '<http://r/second>; title="x"; rel="next"']
    assert parse_link_next(values, "http://r/") == "http://r/second"


def test_rel_lists_and_case() -> None:
    assert parse_link_next('<http://r/n>; rel="prev NEXT"', "http://r/") == "http://r/n"


@pytest.mark.parametrize(
    "values",
    [[], "", '<http://r/p>; rel="prev"', "<http://r/n>", "garbage", '<http://r/n>; rel="nextpage"'],
)
def test_no_next_link(values: list[str] | str) -> None:
    assert parse_link_next(values, "http://r/") is None


def test_unusable_link_target_is_a_protocol_error() -> None:
    with pytest.raises(RemoteProtocolError):
        parse_link_next('<http://[::1/v2/_catalog>; rel="next"', "http://r/")


# -- upload Range (docs/protocol.md §3.4) --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0-0", (0, 0)), ("0-5", (0, 5)), ("bytes=0-5", (0, 5)), (" 0-1023 ", (0, 1023))],
)
def test_upload_range(value: str, expected: tuple[int, int]) -> None:
    assert parse_upload_range(value) == expected


def test_missing_upload_range_is_none() -> None:
    assert parse_upload_range(None) is None


@pytest.mark.parametrize(
    "value", ["", "garbage", "0-", "-5", "5-3", "0-5/10", "bytes 0-5", "0x0-0x5", "0--1"]
)
def test_garbage_upload_range_raises(value: str) -> None:
    with pytest.raises(RemoteProtocolError, match="Range"):
        parse_upload_range(value)


@given(st.text(max_size=20))
def test_upload_range_never_raises_anything_else(value: str) -> None:
    try:
        result = parse_upload_range(value)
    except RemoteProtocolError:
        return
    assert result is not None
    assert 0 <= result[0] <= result[1]


# -- Location (RFC 3986 §5, docs/protocol.md §3.1) -----------------------------------------------

_REQUEST_URL = "http://registry:5000/v2/app/blobs/uploads/"


def test_relative_location() -> None:
    assert (
        resolve_location(_REQUEST_URL, "/v2/app/blobs/uploads/u1?_state=abc")
        == "http://registry:5000/v2/app/blobs/uploads/u1?_state=abc"
    )


def test_absolute_location_on_another_host() -> None:
    location = "https://uploads.example/v2/app/blobs/uploads/u1?_state=a%3D"
    assert resolve_location(_REQUEST_URL, location) == location


@pytest.mark.parametrize("location", [None, "", "   "])
def test_missing_location(location: str | None) -> None:
    with pytest.raises(RemoteProtocolError, match="no Location"):
        resolve_location(_REQUEST_URL, location)


@pytest.mark.parametrize(
    "location",
    [
        "ftp://host/v2/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://[::1",
        "http://host:99999/v2/x",
    ],
)
def test_unusable_location(location: str) -> None:
    with pytest.raises(RemoteProtocolError, match="unusable Location"):
        resolve_location(_REQUEST_URL, location)


def test_what_names_the_header() -> None:
    with pytest.raises(RemoteProtocolError, match="no Content-Location"):
        resolve_location(_REQUEST_URL, None, what="Content-Location")


@given(st.text(max_size=40))
def test_resolve_location_only_raises_protocol_errors(location: str) -> None:
    try:
        resolved = resolve_location(_REQUEST_URL, location)
    except RemoteProtocolError:
        return
    assert urlsplit(resolved).scheme in ("http", "https")


# -- adding the digest to an upload Location (docs/protocol.md §3.3) -----------------------------

_QUERY_CHARS = st.sampled_from(
    [*"abcXYZ0129-._~!$'()*+,;=:@/?&", "%3D", "%2B", "%2F", "%20", "%zz", "%"]
)
_DIGEST = "sha256:" + "a" * 64


@given(st.lists(_QUERY_CHARS, min_size=1, max_size=40).map("".join))
def test_add_query_keeps_an_existing_query_byte_for_byte(query: str) -> None:
    url = f"https://registry:5000/v2/app/blobs/uploads/u1?{query}"
    result = add_query(url, [("digest", _DIGEST)])
    assert result == f"{url}&digest={quote(_DIGEST, safe='')}"
    assert parse_qsl(urlsplit(result).query, keep_blank_values=True)[-1] == ("digest", _DIGEST)


def test_add_query_keeps_distribution_state() -> None:
    location = "http://r:5000/v2/test/a/blobs/uploads/8a2c?_state=eyJOYW1lIjoidGVzdC9hIn0%3D"
    result = add_query(location, [("digest", _DIGEST)])
    assert result == location + "&digest=sha256%3A" + "a" * 64
    assert dict(parse_qsl(urlsplit(result).query)) == {
        "_state": "eyJOYW1lIjoidGVzdC9hIn0=",
        "digest": _DIGEST,
    }


def test_add_query_without_existing_query() -> None:
    assert (
        add_query("http://r/v2/a/blobs/uploads/u", [("digest", _DIGEST)])
        == "http://r/v2/a/blobs/uploads/u?digest=sha256%3A" + "a" * 64
    )


def test_add_query_with_several_parameters() -> None:
    assert add_query("http://r/x?a=1", [("b", "2"), ("c", "x y")]) == "http://r/x?a=1&b=2&c=x+y"

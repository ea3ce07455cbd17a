"""Names, tags, digests and references (docs/protocol.md §9)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from registry_proto import RegistryEndpoint, ValidationError
from registry_proto._reference import (
    ImageReference,
    parse_reference,
    validate_digest,
    validate_reference,
    validate_repository,
    validate_tag,
)

_COMPONENT = st.from_regex(r"[a-z0-9]{1,5}(?:(?:\.|_|__|-{1,3})[a-z0-9]{1,5}){0,3}", fullmatch=True)
REPOSITORIES = (
    st.lists(_COMPONENT, min_size=1, max_size=4).map("/".join).filter(lambda n: len(n) <= 255)
)
TAGS = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}", fullmatch=True)
SHA256 = st.from_regex(r"[a-f0-9]{64}", fullmatch=True).map(lambda h: f"sha256:{h}")

# -- repositories --------------------------------------------------------------------------------


@given(REPOSITORIES)
def test_generated_repository_names_are_valid(name: str) -> None:
    assert validate_repository(name) == name


@given(REPOSITORIES, st.data())
def test_upper_case_is_refused_with_a_hint(name: str, data: st.DataObject) -> None:
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    assume(letters)
    i = data.draw(st.sampled_from(letters))
    with pytest.raises(ValidationError, match="lower case"):
        validate_repository(name[:i] + name[i].upper() + name[i + 1 :])


@given(REPOSITORIES, st.sampled_from([".", "_", "-", "/", "__"]), st.booleans())
def test_leading_or_trailing_separators_are_refused(name: str, sep: str, leading: bool) -> None:
    with pytest.raises(ValidationError):
        validate_repository(sep + name if leading else name + sep)


@pytest.mark.parametrize(
    "name",
    ["", "a//b", "a..b", "a___b", "a b", "a:b", "a@b", "a/./b", "ä", "a/-b", "a" * 256, "x/" * 128],
)
def test_invalid_repository_names(name: str) -> None:
    with pytest.raises(ValidationError):
        validate_repository(name)


@pytest.mark.parametrize("name", ["a", "library/busybox", "a-b", "a--b", "a__b", "a.b_c/d-e/f"])
def test_valid_repository_names(name: str) -> None:
    assert validate_repository(name) == name


def test_repository_must_be_a_string() -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        validate_repository(b"busybox")


def test_repository_of_255_characters_is_the_limit() -> None:
    assert validate_repository("a" * 255)
    with pytest.raises(ValidationError, match="255"):
        validate_repository("a" * 256)


# -- tags ----------------------------------------------------------------------------------------


@given(TAGS)
def test_generated_tags_are_valid(tag: str) -> None:
    assert validate_tag(tag) == tag
    assert validate_reference(tag) == tag


@given(TAGS, st.sampled_from([".", "-"]))
def test_tags_cannot_start_with_dot_or_dash(tag: str, first: str) -> None:
    with pytest.raises(ValidationError):
        validate_tag(first + tag[:127])


@pytest.mark.parametrize("tag", ["", "a" * 129, "a:b", "a/b", "a b", "ü", "a@b", None, 1])
def test_invalid_tags(tag: object) -> None:
    with pytest.raises(ValidationError):
        validate_tag(tag)


def test_128_character_tag_is_the_limit() -> None:
    assert validate_tag("A" * 128)


# -- digests -------------------------------------------------------------------------------------


@given(SHA256)
def test_sha256_digests(digest: str) -> None:
    assert validate_digest(digest) == digest
    assert validate_reference(digest) == digest


def test_sha512_and_unknown_algorithms() -> None:
    """Only the algorithms the image-spec registers: content named otherwise cannot be checked."""
    assert validate_digest("sha512:" + "0" * 128)
    for digest in ("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBD", "sha384:" + "0" * 96):
        with pytest.raises(ValidationError, match="is not sha256 or sha512"):
            validate_digest(digest)
        assert validate_digest(digest, any_algorithm=True) == digest


@given(st.integers(min_value=0, max_value=200).filter(lambda n: n != 64))
def test_sha256_of_the_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(ValidationError):
        validate_digest("sha256:" + "a" * length)


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:" + "A" * 64,
        "sha256:" + "g" * 64,
        "sha256:abc",
        "sha512:" + "a" * 64,
        "sha256",
        "sha256:",
        ":abc",
        "SHA256:" + "a" * 64,
        "sha256:" + "a" * 64 + "\n",
        "sha256 :" + "a" * 64,
    ],
)
def test_invalid_digests(digest: str) -> None:
    with pytest.raises(ValidationError):
        validate_digest(digest)


# -- docker-style references (docs/protocol.md §9.2) --------------------------------------------

_DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("localhost/foo", ImageReference("localhost", "foo")),
        ("localhost:5000/foo/bar:1", ImageReference("localhost:5000", "foo/bar", "1")),
        ("foo:5000/bar", ImageReference("foo:5000", "bar")),
        ("foo/bar", ImageReference("docker.io", "foo/bar")),
        ("foo:5000", ImageReference("docker.io", "library/foo", "5000")),
        ("busybox", ImageReference("docker.io", "library/busybox")),
        ("busybox:1.36", ImageReference("docker.io", "library/busybox", "1.36")),
        ("docker.io/busybox", ImageReference("docker.io", "library/busybox")),
        ("index.docker.io/busybox", ImageReference("docker.io", "library/busybox")),
        ("index.docker.io/library/busybox", ImageReference("docker.io", "library/busybox")),
        ("registry-1.docker.io/foo", ImageReference("registry-1.docker.io", "foo")),
        ("example.com/a/b/c:v2", ImageReference("example.com", "a/b/c", "v2")),
        ("Example.com/app", ImageReference("Example.com", "app")),
        ("UPPER/case", ImageReference("UPPER", "case")),
        (f"foo/bar@{_DIGEST}", ImageReference("docker.io", "foo/bar", None, _DIGEST)),
        (f"r.io/foo:1@{_DIGEST}", ImageReference("r.io", "foo", "1", _DIGEST)),
    ],
)
def test_parse_reference(text: str, expected: ImageReference) -> None:
    assert parse_reference(text) == expected


def test_image_id_is_not_a_reference() -> None:
    with pytest.raises(ValidationError, match="64-byte hexadecimal"):
        parse_reference("0123456789abcdef" * 4)


def test_reference_str() -> None:
    assert str(parse_reference("busybox")) == "docker.io/library/busybox"
    assert str(parse_reference(f"r.io/a:1@{_DIGEST}")) == f"r.io/a:1@{_DIGEST}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "upper/Case",
        "docker.io/Foo",
        "foo:bad tag",
        "foo@sha256:abc",
        "foo:-tag",
        "r.io/",
        "/foo",
        "a" * 64,
        "r.io/" + "a" * 251,
    ],
)
def test_invalid_references(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_reference(text)


@given(REPOSITORIES.filter(lambda n: "/" in n), TAGS)
def test_references_with_a_host_round_trip(name: str, tag: str) -> None:
    assume(len("registry.example:5000/" + name) <= 255)
    reference = parse_reference(f"registry.example:5000/{name}:{tag}")
    assert reference == ImageReference("registry.example:5000", name, tag)
    assert parse_reference(str(reference)) == reference


# -- registry endpoints --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "scheme", "netloc", "path"),
    [
        ("localhost:5000", "https", "localhost:5000", ""),
        ("registry.example", "https", "registry.example", ""),
        ("http://127.0.0.1:5000", "http", "127.0.0.1:5000", ""),
        ("http://127.0.0.1:5000/", "http", "127.0.0.1:5000", ""),
        ("https://r.example/v2", "https", "r.example", ""),
        ("https://r.example/v2/", "https", "r.example", ""),
        ("https://r.example/prefix", "https", "r.example", "/prefix"),
        ("https://r.example/prefix/v2/", "https", "r.example", "/prefix"),
        ("  HTTPS://R.Example:443  ", "https", "r.example:443", ""),
        ("http://[::1]:5000", "http", "[::1]:5000", ""),
    ],
)
def test_endpoint_parse(url: str, scheme: str, netloc: str, path: str) -> None:
    endpoint = RegistryEndpoint.parse(url)
    assert (endpoint.scheme, endpoint.netloc, endpoint.path) == (scheme, netloc, path)


def test_endpoint_urls() -> None:
    endpoint = RegistryEndpoint.parse("http://r:5000/prefix/v2/")
    assert endpoint.base_url == "http://r:5000/prefix"
    assert endpoint.url("/v2/a/blobs/x") == "http://r:5000/prefix/v2/a/blobs/x"
    assert endpoint.host == "r:5000"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://user:secret@r:5000", "credentials"),
        ("https://token@r", "credentials"),
        ("ftp://r", "http or https"),
        ("file:///tmp/x", "http or https"),
        ("", "non-empty"),
        ("   ", "non-empty"),
        ("http://", "no host"),
        ("http://r:99999", "invalid port"),
        ("http://[::1", "malformed"),
        ("http://user:secret@[::1", "credentials"),
        ("http://r/?q=1", "query"),
        ("http://r/#frag", "query or fragment"),
    ],
)
def test_endpoint_refuses(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RegistryEndpoint.parse(url)


def test_endpoint_must_be_a_string() -> None:
    with pytest.raises(ValidationError):
        RegistryEndpoint.parse(None)


@pytest.mark.parametrize("url", ["http://user:secret@r:5000", "http://user:secret@[::1"])
def test_credentials_never_appear_in_the_error(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        RegistryEndpoint.parse(url)
    assert "secret" not in str(caught.value)


@given(st.text(max_size=40))
def test_endpoint_parse_raises_only_validation_errors(url: str) -> None:
    try:
        endpoint = RegistryEndpoint.parse(url)
    except ValidationError:
        return
    assert endpoint.scheme in ("http", "https")
    assert endpoint.netloc


@given(st.text(max_size=60))
def test_parse_reference_raises_only_validation_errors(text: str) -> None:
    try:
        reference = parse_reference(text)
    except ValidationError:
        return
    assert validate_repository(reference.repository)


@pytest.mark.parametrize(
    "url", ["docker.io", "https://docker.io", "https://index.docker.io/v1/", "registry-1.docker.io"]
)
def test_docker_hub_is_reached_at_its_api_host(url: str) -> None:
    endpoint = RegistryEndpoint.parse(url)
    assert endpoint.base_url == "https://registry-1.docker.io"
    assert endpoint.is_docker_hub
    # `docker pull busybox` means library/busybox; other names are left as they are.
    assert endpoint.repository("busybox") == "library/busybox"
    assert endpoint.repository("someone/app") == "someone/app"


def test_other_registries_keep_bare_names() -> None:
    endpoint = RegistryEndpoint.parse("http://localhost:5000")
    assert not endpoint.is_docker_hub
    assert endpoint.repository("busybox") == "busybox"
    with pytest.raises(ValidationError):
        endpoint.repository("Upper")

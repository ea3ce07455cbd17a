"""No secret reaches a message or a repr: passwords in URLs, credentials, tokens."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from registry_proto import (
    Credentials,
    Headers,
    RegistryEndpoint,
    RegistryProtoError,
    Request,
    ValidationError,
)
from registry_proto import operations as ops
from registry_proto._auth import Authenticator, _Token

SECRET = "Zq7secretXw"
# Characters a careless password may hold, URL delimiters included.
_PASSWORD_CHARS = st.text(st.sampled_from("abc123/?#:@[]%!$&'()*+,;=-._~ "), max_size=6)
_HOSTS = st.sampled_from(["r", "r:5000", "r:99999", "[::1", "", "r/p?q=1", "r/#f", "r:x"])


def _urls() -> st.SearchStrategy[str]:
    passwords = st.builds(lambda a, b: a + SECRET + b, _PASSWORD_CHARS, _PASSWORD_CHARS)
    return st.builds(
        lambda scheme, user, password, host: f"{scheme}{user}:{password}@{host}",
        st.sampled_from(["https://", "http://", "HTTP://", "", "ftp://"]),
        st.sampled_from(["user", "", "u@x"]),
        passwords,
        _HOSTS,
    )


def _shown(exc: BaseException) -> str:
    """Everything an exception shows: its message, its repr, and its causes'."""
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        parts += [str(current), repr(current)]
        current = current.__cause__
    return "\n".join(parts)


@example("https://user:a/b" + SECRET + "@r:99999")
@example("http://user:" + SECRET + "@r/?q=1")
@example("https://u/" + SECRET + "@r")
@given(_urls())
def test_a_password_in_a_registry_url_is_never_shown(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        RegistryEndpoint.parse(url)
    assert SECRET not in _shown(caught.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda url: ops.ping(url),
        lambda url: ops.list_tags(url, "app"),
        lambda url: ops.get_image_info(url, "app", "1"),
        lambda url: ops.pull_image(url, "app", "1", "out.tar"),
        lambda url: ops.push_docker_tar("in.tar", url, "app", "1"),
        lambda url: ops.copy_image("http://r", "a", "1", url, "b"),
    ],
)
@pytest.mark.parametrize(
    "url", [f"https://user:{SECRET}@r:99999", f"https://user:{SECRET}@r/?q", f"u:{SECRET}@r:x"]
)
def test_operations_never_show_a_password_in_their_url(call: object, url: str) -> None:
    assert callable(call)
    with pytest.raises(RegistryProtoError) as caught:
        call(url)
    assert SECRET not in _shown(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        f"https://user:{SECRET}@storage.test/x",
        f"https://user:a/{SECRET}@storage.test/x",
        f"https://{SECRET}@storage.test/x?a=b",
    ],
)
def test_request_reprs_hide_userinfo_and_authorization(url: str) -> None:
    request = Request(
        method="GET", url=url, headers=Headers.of({"Authorization": f"Bearer {SECRET}"})
    )
    assert SECRET not in repr(request)
    assert SECRET not in repr(request.headers)
    assert "storage.test" in repr(request)


def test_authenticator_and_credentials_reprs_hide_secrets() -> None:
    endpoint = RegistryEndpoint.parse("https://registry.test")
    for credentials in (Credentials("user", SECRET), Credentials(identity_token=SECRET)):
        assert SECRET not in repr(credentials)
        assert SECRET not in repr(Authenticator(endpoint, credentials))


def test_token_reprs_hide_the_token() -> None:
    assert SECRET not in repr(_Token(SECRET, 60.0))

"""No secret shows through the clients: not in the messages of refused options, not in the
reprs of what holds them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

import registry_async
import registry_sync
from registry_io import ClientCore
from registry_proto import ValidationError

SECRET = "Zq7secretXw"
URLS = [f"https://user:{SECRET}@r", f"https://user:{SECRET}@", f"https://u:a/{SECRET}@r:99999"]


def _blocking(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return function(*args, **kwargs)


def _asyncio(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return anyio.run(lambda: function(*args, **kwargs))


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    ("package", "run"), [(registry_sync, _blocking), (registry_async, _asyncio)]
)
def test_a_password_in_the_registry_url_is_never_shown(
    url: str, package: Any, run: Callable[..., Any]
) -> None:
    with pytest.raises(ValidationError) as caught:
        run(package.list_tags, url, "app", docker_config=False)
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value)
    with pytest.raises(ValidationError) as caught:
        registry_sync.RegistryClient(registry_credentials={url: ("user", "pw")})
    assert SECRET not in str(caught.value)


def test_client_state_reprs_hide_passwords() -> None:
    core = ClientCore(
        username="user",
        password=SECRET,
        registry_credentials={"registry.test": ("user", SECRET)},
        docker_config=False,
    )
    assert SECRET not in repr(core.settings)

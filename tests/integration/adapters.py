"""Call the public API through each adapter: blocking, asyncio and trio."""

from __future__ import annotations

import functools
from typing import Any

import anyio

import registry_async
import registry_sync

ADAPTERS = ("sync", "asyncio", "trio")


def call(adapter: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Run the public function `name` through `adapter` and return its result."""
    if adapter == "sync":
        return getattr(registry_sync, name)(*args, **kwargs)
    function = getattr(registry_async, name)
    return anyio.run(functools.partial(function, *args, **kwargs), backend=adapter)

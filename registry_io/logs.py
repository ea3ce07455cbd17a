"""The library's logging, done here once for both drivers.

Everything goes through the standard `logging` module, under `registry_api_v2_client`:

- `registry_api_v2_client.http`: DEBUG, one line per request (method, URL without secrets,
  status, elapsed time), written by `registry_io.transport.exchange`;
- `registry_api_v2_client.retry`, `.auth`, `.push`, `.pull`, `.copy`: INFO, the decisions the
  core describes as `Notice` events (a retry, a token fetch, a fallback), and skipped or
  mounted blobs.

The top logger has a `NullHandler`: the library stays silent until the application configures
logging, and it never prints. Secrets are never logged: URLs are shown without userinfo or
secret query values, tokens and passwords not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from registry_proto import BlobMounted, BlobSkipped, Notice

__all__ = ["ROOT_LOGGER", "logger", "report"]

ROOT_LOGGER = "registry_api_v2_client"
logging.getLogger(ROOT_LOGGER).addHandler(logging.NullHandler())

# Attributes every log record has: a notice's details must not overwrite them.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def logger(topic: str) -> logging.Logger:
    """The logger `registry_api_v2_client.<topic>`."""
    return logging.getLogger(f"{ROOT_LOGGER}.{topic}")


def report(event: object, listener: Callable[[Any], object] | None) -> None:
    """Handle an event a flow emitted: log what it says, and hand it to `listener` unless it is
    a `Notice` (which is for the logs only)."""
    if isinstance(event, Notice):
        details = {k: v for k, v in event.details if k not in _RECORD_FIELDS}
        logger(event.topic).info("%s", event.message, extra=details)
        return
    if isinstance(event, BlobSkipped):
        logger("push").info(
            "blob %s (%d bytes) is in the repository already: skipped", event.digest, event.size
        )
    elif isinstance(event, BlobMounted):
        logger("push").info(
            "blob %s (%d bytes) mounted from %s: nothing sent",
            event.digest,
            event.size,
            event.from_repository,
        )
    if listener is not None:
        listener(event)

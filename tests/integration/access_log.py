"""Read the requests a test registry served from its access log.

distribution writes one Apache "combined" line per request to its standard output, which the
harness sends to ``registry.log``. To know which lines belong to a test action, the action is
bracketed by marker requests: once a marker's line is in the log, every request answered
before it was sent is logged too.
"""

from __future__ import annotations

import contextlib
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from tests.integration.registry_server import RegistryServer

CLIENT_AGENT = "registry-api-v2-client/"

_LINE = re.compile(
    r'^\S+ \S+ \S+ \[[^\]]*\] "(?P<method>[A-Z]+) (?P<target>\S+) HTTP/[\d.]+" '
    r'(?P<status>\d{3}) \S+ "[^"]*" "(?P<agent>[^"]*)"'
)
_MARKER_PREFIX = "/v2/log-marker/"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Access:
    """One request the registry answered."""

    method: str
    target: str  # path and query
    status: int
    agent: str

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]


def entries(server: RegistryServer) -> list[Access]:
    """Every access-log entry so far, oldest first."""
    found = []
    for line in server.read_log().splitlines():
        match = _LINE.match(line)
        if match is not None:
            found.append(
                Access(
                    method=match["method"],
                    target=match["target"],
                    status=int(match["status"]),
                    agent=match["agent"],
                )
            )
    return found


def _marker(server: RegistryServer) -> int:
    """Send a marker request and return the index of its entry once it is logged."""
    path = f"{_MARKER_PREFIX}{uuid.uuid4().hex}/tags/list"
    try:
        with _OPENER.open(f"{server.url}{path}", timeout=10) as response:
            response.read()
    except urllib.error.HTTPError as err:  # 401 or 404: logged all the same
        err.close()
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        for index, entry in enumerate(entries(server)):
            if entry.path == path:
                return index
        if time.monotonic() > deadline:
            raise AssertionError(f"the marker request {path} never reached the access log")
        time.sleep(0.01)


@contextlib.contextmanager
def client_requests(server: RegistryServer) -> Iterator[list[Access]]:
    """Collect the requests this library sends to ``server`` inside the ``with`` block.

    The list is filled when the block ends without an exception.
    """
    seen: list[Access] = []
    start = _marker(server)
    yield seen
    end = _marker(server)
    seen.extend(e for e in entries(server)[start + 1 : end] if e.agent.startswith(CLIENT_AGENT))

"""Test helpers: an in-memory registry and a driver that runs flows without any I/O.

`FakeRegistry` is a pure model of a Docker Registry HTTP API v2 server that behaves like the
reference implementation (CNCF distribution 2.8, docs/protocol.md §11). Call
`handle(request)` with a `Request` and get the `Response` the registry would send. It is
*total*: a malformed or unknown request gets a 4xx answer, never an exception.

`PureDriver` runs any flow with no I/O at all: requests go to a handler (usually a
`FakeRegistry`), files come from a `{path: bytes}` mapping, sleeps only add to a counter, and the
children of a `Parallel` effect are interleaved one effect at a time in an order chosen by a
`scheduler`. Pass hypothesis' `data.draw(st.integers(0, n - 1))` as the scheduler and hypothesis
explores (and shrinks) interleavings of concurrent uploads, with no threads or event loop::

    fake = FakeRegistry()
    driver = PureDriver(fake.handle, files={"image.tar": archive_bytes})
    digest = driver.run(push_docker_tar("image.tar", "http://registry.test", "app", "1",
                                        max_concurrency=4))
    assert fake.manifest("app", "1") is not None

Both are ordinary values: a test builds as many as it likes, and nothing is shared.
"""

from ._driver import PureDriver, RoundRobin, Scheduler
from ._registry import FakeRegistry

__all__ = ["FakeRegistry", "PureDriver", "RoundRobin", "Scheduler"]

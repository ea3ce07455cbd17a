"""`Started`: the context-manager half every test server shares. A server says how it starts
and stops; `with Server(...) as server:` starts it, stops it afterwards, and stops what a
failed start left half-running."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Started:
    """Base of the test servers: `start()` and `stop()` are theirs, `with` is this class's."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

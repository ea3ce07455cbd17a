"""The send/throw bookkeeping of driving one flow, shared by both drivers.

A driver asks for the next effect, performs it, and reports the value or the error; this
class feeds that back into the generator (`send` or `throw`) and catches its result. Only
`Exception`s are thrown into a flow: cancellation and interrupts unwind the driver, and the
flow is closed so its `finally` blocks run.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from registry_proto import Effect, Flow

__all__ = ["Stepper"]

T = TypeVar("T")


class Stepper(Generic[T]):
    """Steps `flow`: `next_effect()` until it returns None, then `result`."""

    def __init__(self, flow: Flow[T]) -> None:
        self._flow = flow
        self._value: Any = None
        self._error: Exception | None = None
        self.result: T

    def next_effect(self) -> Effect | None:
        """The flow's next effect, or None when it has returned (see `result`)."""
        value, error = self._value, self._error
        self._value, self._error = None, None
        try:
            return self._flow.throw(error) if error is not None else self._flow.send(value)
        except StopIteration as stop:
            self.result = stop.value
            return None

    def answer(self, value: Any) -> None:
        self._value = value

    def fail(self, error: Exception) -> None:
        self._error = error

    def close(self) -> None:
        self._flow.close()

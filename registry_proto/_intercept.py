"""The plumbing shared by wrapper flows (authentication, retries): forward every effect of a
flow, routing its requests through a handler, into `Parallel` children too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ._effects import Emit, Flow, Parallel
from ._models import Request, Response

__all__ = ["intercept"]

T = TypeVar("T")


def intercept(
    flow: Flow[T],
    send: Callable[[Request], Flow[Response]],
    *,
    on_event: Callable[[object], Flow[bool]] | None = None,
) -> Flow[T]:
    """`flow`, with each `Request` it yields answered by the sub-flow `send(request)`.

    `on_event` sees each emitted event first and returns True to swallow it; the flow's `Emit`
    is then answered with True (a driver answers None), so a flow can tell that a wrapper took
    it. Errors the driver or a handler raises reach the wrapped flow; closing the wrapper closes
    it.
    """
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                result: T = stop.value
                return result
            value, error = None, None
            try:
                if isinstance(effect, Request):
                    value = yield from send(effect)
                elif isinstance(effect, Parallel):
                    children = tuple(
                        intercept(child, send, on_event=on_event) for child in effect.flows
                    )
                    value = yield Parallel(children, effect.limit)
                elif (
                    isinstance(effect, Emit)
                    and on_event is not None
                    and (yield from on_event(effect.event))
                ):
                    value = True
                else:
                    value = yield effect
            except Exception as exc:  # handed on to the wrapped flow, which decides
                error = exc
    finally:
        flow.close()

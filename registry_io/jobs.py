"""`Job`: what a driver is given to run, a flow and the terms of its end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from registry_proto import Flow, Request, send_cleanups

__all__ = ["Job"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Job(Generic[T]):
    """A flow for a driver to drive to its result, whose errors propagate unchanged.

    - `deadline`: seconds; once they have passed the flow is stopped as a cancellation stops
      it (closed, never thrown into) and the run raises `DeadlineExceeded`.
    - `cleanup`: when the run ends, the temporary files the flow asked for (decompressed
      archives, partial downloads) are removed, and the requests of its `Cleanup` effects
      still kept (open upload sessions) are sent, by the flow `cleanup` makes of them; the
      clients' authenticate them. The driver gives that flow `CLEANUP_SECONDS` at most and
      ignores its failure, which must not hide the run's own.
    """

    flow: Flow[T]
    cleanup: Callable[[list[Request]], Flow[None]] = send_cleanups
    deadline: float | None = None

    @classmethod
    def of(cls, work: Flow[T] | Job[T]) -> Job[T]:
        """`work` as a job: a bare flow has no deadline, and its cleanup is sent as is."""
        return work if isinstance(work, Job) else cls(work)

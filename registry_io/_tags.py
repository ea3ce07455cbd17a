"""The tags an archive records, read on the calling thread: the synchronous functions both
packages offer (reading a local file needs no event loop)."""

from __future__ import annotations

import os
from typing import TypeVar

from registry_proto import Flow, TransportFailure
from registry_proto import operations as ops

from ._arguments import checked
from .interrupts import StopFlag
from .leftovers import Leftovers
from .local_effects import LOCAL_EFFECTS, perform_local
from .stepping import Stepper

__all__ = ["extract_original_tags", "get_primary_tag", "run_locally"]

T = TypeVar("T")


@checked
def extract_original_tags(tar_path: str | os.PathLike[str]) -> list[str]:
    """Every tag recorded in the archive, exactly as recorded (empty when untagged)."""
    return run_locally(ops.extract_original_tags(tar_path))


@checked
def get_primary_tag(tar_path: str | os.PathLike[str]) -> tuple[str, str]:
    """`(repository, tag)` of the first tag recorded in the archive, registry host removed."""
    return run_locally(ops.get_primary_tag(tar_path))


def run_locally(flow: Flow[T]) -> T:
    """Drive a flow that reads only local files, on the calling thread (a compressed archive
    is decompressed to a temporary file, removed when the flow ends)."""
    leftovers = Leftovers()
    stepper = Stepper(flow)
    try:
        while (effect := stepper.next_effect()) is not None:
            if not isinstance(effect, LOCAL_EFFECTS):
                stepper.fail(TransportFailure(f"{effect!r} needs a registry client"))
                continue
            try:
                stepper.answer(perform_local(effect, leftovers, StopFlag()))
            except Exception as exc:  # thrown into the flow, which decides
                stepper.fail(exc)
        return stepper.result
    finally:
        stepper.close()
        leftovers.end()

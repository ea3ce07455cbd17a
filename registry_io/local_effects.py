"""The effects that touch only this machine (files, decompression, offloaded work), performed
the same way by both drivers: blocking, on the calling thread or on a worker thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from registry_proto import (
    Cleanup,
    Decompress,
    Emit,
    MoveFile,
    Offload,
    ReadFile,
    RemoveFile,
    TempFile,
    WriteFile,
)

from .files import (
    create_temp,
    move_into_place,
    read_range,
    remove_quietly,
    spool_decompressed,
    write_at,
)
from .interrupts import StopFlag
from .leftovers import Leftovers
from .logs import report

__all__ = ["BOOKKEEPING", "LOCAL_EFFECTS", "LocalEffect", "keep_books", "perform_local"]

LocalEffect = ReadFile | Offload | Decompress | TempFile | WriteFile | MoveFile | RemoveFile
LOCAL_EFFECTS = (ReadFile, Offload, Decompress, TempFile, WriteFile, MoveFile, RemoveFile)
BOOKKEEPING = (Emit, Cleanup)


def perform_local(effect: LocalEffect, leftovers: Leftovers, stop: StopFlag) -> Any:
    """Perform `effect`, blocking; files it creates are added to `leftovers`, which the driver
    cleans up when the whole run ends (unless a `MoveFile` put them in place). Long work (a
    decompression) stops between chunks once `stop` is set."""
    if isinstance(effect, ReadFile):
        return read_range(effect.path, effect.offset, effect.length)
    if isinstance(effect, Offload):
        return effect.function(*effect.args)
    if isinstance(effect, Decompress):
        return spool_decompressed(
            effect.path, effect.codec, created=leftovers.add_temporary, stop=stop
        )
    if isinstance(effect, TempFile):
        path = create_temp(effect.directory, effect.suffix)
        leftovers.add_temporary(path)
        return path
    if isinstance(effect, WriteFile):
        write_at(effect.path, effect.offset, effect.data)
        return None
    if isinstance(effect, MoveFile):
        move_into_place(effect.source, effect.destination)
        return None
    remove_quietly([effect.path])
    return None


def keep_books(
    effect: Emit | Cleanup, leftovers: Leftovers, on_event: Callable[[Any], object] | None
) -> None:
    """Perform a bookkeeping effect, which a run told to stop performs too: an `Emit` goes to
    the logs and `on_event` (`registry_io.logs.report`), a `Cleanup` is kept in `leftovers`
    (it is what stopping sends)."""
    if isinstance(effect, Emit):
        report(effect.event, on_event)
    else:
        leftovers.keep(effect)

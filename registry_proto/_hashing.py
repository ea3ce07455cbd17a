"""The digest of part of a file, read through effects: a MiB at a time, hashed off the event
loop (an archive's layer whose name gives no digest, a download resumed after a cut)."""

from __future__ import annotations

import hashlib

from ._effects import Flow, offload, read_file
from ._errors import TarReadError
from ._models import FileSlice

__all__ = ["hash_slice"]

_READ_SIZE = 1024 * 1024


def hash_slice(source: FileSlice, algorithm: str, *, cut_short: str) -> Flow[str]:
    """The `algorithm:hex` digest of `source` (`algorithm` a hashlib name); `TarReadError`
    saying `cut_short` if the file ends before the slice does."""
    hasher = hashlib.new(algorithm)
    done = 0
    while done < source.length:
        data = yield from read_file(
            source.path, source.offset + done, min(_READ_SIZE, source.length - done)
        )
        if not data:
            raise TarReadError(cut_short)
        yield from offload(hasher.update, data)
        done += len(data)
    return f"{algorithm}:{hasher.hexdigest()}"

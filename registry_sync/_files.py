"""Local file access for the drivers: reading archive ranges and streaming file slices."""

from __future__ import annotations

from collections.abc import Iterator

from registry_proto import FileSlice, TarReadError

__all__ = ["CHUNK_SIZE", "iter_slice", "read_range"]

# Big enough that per-read overhead vanishes, small enough that memory stays flat.
CHUNK_SIZE = 1024 * 1024


def read_range(path: str, offset: int, length: int) -> bytes:
    """Up to `length` bytes of `path` from `offset`; fewer only at the end of the file."""
    try:
        with open(path, "rb") as file:
            file.seek(offset)
            return file.read(length)
    except OSError as exc:
        raise TarReadError(f"cannot read {path}: {exc.strerror or exc}") from exc


def iter_slice(body: FileSlice, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The bytes of `body` in chunks, failing if the file is shorter than the slice says."""
    try:
        with open(body.path, "rb") as file:
            file.seek(body.offset)
            remaining = body.length
            while remaining:
                chunk = file.read(min(chunk_size, remaining))
                if not chunk:
                    raise TarReadError(f"{body.path} ended early: it changed while being read")
                remaining -= len(chunk)
                yield chunk
    except OSError as exc:
        raise TarReadError(f"cannot read {body.path}: {exc.strerror or exc}") from exc

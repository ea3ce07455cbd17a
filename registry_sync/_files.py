"""Local file access for the drivers: reading archive ranges and streaming file slices."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO

from registry_proto import FileSlice, TarReadError

__all__ = ["CHUNK_SIZE", "iter_slice", "read_range", "remove_quietly", "spool_decompressed"]

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


def spool_decompressed(path: str, codec: str, directory: str | None = None) -> str:
    """Decompress `path` into a new temporary file and return its path.

    The caller owns the file and removes it. A failure leaves no file behind.
    """
    fd, target = tempfile.mkstemp(prefix="registry-archive-", suffix=".tar", dir=directory)
    try:
        with open(fd, "wb") as out, _open_decompressing(path, codec) as source:
            shutil.copyfileobj(source, out, CHUNK_SIZE)
    except TarReadError:
        os.unlink(target)
        raise
    except Exception as exc:  # each codec has its own error types (zlib, lzma, zstandard)
        os.unlink(target)
        raise TarReadError(f"cannot decompress {path} ({codec}): {exc}") from exc
    except BaseException:
        os.unlink(target)
        raise
    return target


def _open_decompressing(path: str, codec: str) -> io.BufferedIOBase | IO[bytes]:
    """A reader of the decompressed content of `path` (the caller closes it)."""
    if codec == "gzip":
        return gzip.open(path, "rb")
    if codec == "xz":
        return lzma.open(path, "rb")
    if codec == "bzip2":
        return bz2.open(path, "rb")
    if codec == "zstd":
        try:
            import zstandard
        except ImportError:
            raise TarReadError(
                f"{path} is zstd-compressed; install registry-api-v2-client[zstd] to read it"
            ) from None
        raw = open(path, "rb")  # noqa: SIM115 - closed with the reader (closefd)
        reader: IO[bytes] = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
        return reader
    raise TarReadError(f"{path} is compressed with {codec}, which this client cannot read")


def remove_quietly(paths: list[str]) -> None:
    """Delete temporary files, ignoring any already gone."""
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)

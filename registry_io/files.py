"""Local file access for the drivers: reading archive ranges and streaming file slices."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import lzma
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import IO, TypeAlias

from registry_proto import (
    ArchiveWriteError,
    BytesBody,
    FileSink,
    FileSlice,
    TarReadError,
    TransportFailure,
)

from .interrupts import StopFlag

__all__ = [
    "CHUNK_SIZE",
    "SinkWriter",
    "Streamed",
    "create_temp",
    "iter_body",
    "iter_slice",
    "move_into_place",
    "read_range",
    "remove_quietly",
    "spool_decompressed",
    "write_at",
]

Streamed: TypeAlias = FileSlice | BytesBody
"""A request body sent as a stream: a slice of a file, or bytes released once sent (see
`registry_io.transport.outgoing`)."""

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


def iter_body(body: Streamed) -> Iterator[bytes]:
    """The bytes of `body`: a file slice in chunks, an in-memory body in one piece (released
    once it has been taken)."""
    return iter((body.data,)) if isinstance(body, BytesBody) else iter_slice(body)


def spool_decompressed(
    path: str,
    codec: str,
    *,
    created: Callable[[str], object] | None = None,
    stop: StopFlag | None = None,
    directory: str | None = None,
) -> str:
    """Decompress `path` into a new temporary file and return its path.

    `created` learns the file's path before any work starts, so that whoever removes it knows
    it even if this is abandoned. `stop` is checked between chunks: once it is set at once,
    the work stops (`Stopped`). The caller owns the file and removes it; a failure leaves no
    file behind.
    """
    fd, target = tempfile.mkstemp(prefix="registry-archive-", suffix=".tar", dir=directory)
    if created is not None:
        created(target)
    try:
        with open(fd, "wb") as out, _open_decompressing(path, codec) as source:
            while chunk := source.read(CHUNK_SIZE):
                if stop is not None:
                    stop.check_now()
                out.write(chunk)
    except TarReadError:
        remove_quietly([target])
        raise
    except Exception as exc:  # each codec has its own error types (zlib, lzma, zstandard)
        remove_quietly([target])
        raise TarReadError(f"cannot decompress {path} ({codec}): {exc}") from exc
    except BaseException:
        remove_quietly([target])
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


def create_temp(directory: str, suffix: str = "") -> str:
    """A new empty file in `directory` (hidden, so half-written output is not mistaken for
    the real thing); the caller moves it into place or removes it."""
    try:
        fd, path = tempfile.mkstemp(prefix=".registry-", suffix=suffix, dir=directory or None)
    except OSError as exc:
        raise ArchiveWriteError(
            f"cannot create a file in {directory or '.'}: {exc.strerror or exc}"
        ) from exc
    os.close(fd)
    return path


def write_at(path: str, offset: int, data: bytes) -> None:
    """Write `data` into the existing file `path` at `offset`."""
    try:
        with open(path, "r+b") as file:
            file.seek(offset)
            file.write(data)
    except OSError as exc:
        raise ArchiveWriteError(f"cannot write {path}: {exc.strerror or exc}") from exc


def move_into_place(source: str, destination: str) -> None:
    """Rename `source` to `destination`, replacing it, in one step.

    The file gets the mode any new file of the process gets (0666 less the umask), not the
    0600 of a temporary file: an output is as readable as the user's other files.
    """
    try:
        os.chmod(source, 0o666 & ~umask())
        os.replace(source, destination)
    except OSError as exc:
        raise ArchiveWriteError(f"cannot write {destination}: {exc.strerror or exc}") from exc


_umask_lock = threading.Lock()
_umask: int | None = None


def umask() -> int:
    """The process umask, read once.

    Linux tells it in /proc/self/status. Elsewhere the only way is to set it and set it back,
    which briefly changes it for every thread: that is done once, under a lock.
    """
    global _umask
    with _umask_lock:
        if _umask is None:
            _umask = _proc_umask()
            if _umask is None:
                _umask = os.umask(0o077)
                os.umask(_umask)
        return _umask


def _proc_umask() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


class SinkWriter:
    """Writes a response body into a `FileSink`, counting and hashing it on the way."""

    def __init__(self, sink: FileSink) -> None:
        self._sink = sink
        self.written = 0
        self._hash = hashlib.new(sink.algorithm)
        try:
            self._file = open(sink.path, "r+b")  # noqa: SIM115 - closed by close()
            self._file.seek(sink.offset)
        except OSError as exc:
            raise ArchiveWriteError(f"cannot write {sink.path}: {exc.strerror or exc}") from exc

    def write(self, chunk: bytes) -> None:
        self.written += len(chunk)
        if self.written > self._sink.length:
            raise TransportFailure(
                f"the answer is larger than the {self._sink.length} bytes expected"
            )
        self._hash.update(chunk)
        try:
            self._file.write(chunk)
        except OSError as exc:
            raise ArchiveWriteError(
                f"cannot write {self._sink.path}: {exc.strerror or exc}"
            ) from exc

    def close(self) -> str:
        """Close the file; return the digest (`algorithm:hex`) of what was written."""
        self._file.close()
        return f"{self._sink.algorithm}:{self._hash.hexdigest()}"

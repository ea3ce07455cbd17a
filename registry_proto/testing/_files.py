"""The pure driver's disk: a `{path: bytes}` mapping that fails the way a real disk does.

Each failure raises the error class, with the message, that the real drivers raise for the
same case (`registry_sync._files`): reading fails with `TarReadError`, writing, moving and
creating a temporary file with `ArchiveWriteError`, so a flow meets the same errors whichever
driver runs it. Directories are implied by the paths of the files; a path below a *file* is
refused as the operating system refuses it ("Not a directory").
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Mapping, MutableMapping

from .._errors import ArchiveWriteError, TarReadError
from .._models import FileSlice

__all__ = ["create_temp", "decompress", "move", "read", "read_slice", "writable", "write_at"]

# The operating system's own words (strerror), which the real drivers quote.
_NO_SUCH_FILE = "No such file or directory"
_NOT_A_DIRECTORY = "Not a directory"
_INVALID_ARGUMENT = "Invalid argument"


def read(files: Mapping[str, bytes], path: str, offset: int, length: int) -> bytes:
    """Up to `length` bytes of `path` from `offset` (all of the rest when `length` < 0)."""
    data = files.get(path)
    if data is None:
        raise TarReadError(f"cannot read {path}: {_missing(files, path)}")
    if offset < 0:
        raise TarReadError(f"cannot read {path}: {_INVALID_ARGUMENT}")
    return data[offset:] if length < 0 else data[offset : offset + length]


def read_slice(files: Mapping[str, bytes], body: FileSlice) -> bytes:
    """The bytes a `FileSlice` names, failing if the file is shorter than the slice says."""
    chunk = read(files, body.path, body.offset, body.length)
    if len(chunk) != body.length:
        raise TarReadError(f"{body.path} ended early: it changed while being read")
    return chunk


def writable(files: Mapping[str, bytes], path: str, offset: int) -> None:
    """Fail as opening `path` for writing at `offset` would: it must already exist."""
    if path not in files:
        raise ArchiveWriteError(f"cannot write {path}: {_missing(files, path)}")
    if offset < 0:
        raise ArchiveWriteError(f"cannot write {path}: {_INVALID_ARGUMENT}")


def write_at(files: MutableMapping[str, bytes], path: str, offset: int, data: bytes) -> None:
    """Write `data` into the existing file `path` at `offset`, zero-filling any gap."""
    writable(files, path, offset)
    current = files[path]
    if len(current) < offset:
        current += bytes(offset - len(current))
    files[path] = current[:offset] + data + current[offset + len(data) :]


def move(files: MutableMapping[str, bytes], source: str, destination: str) -> None:
    """Rename `source` to `destination`, replacing it."""
    # rename(2) resolves both parent directories before it looks for the file itself.
    if _below_a_file(files, destination):
        raise ArchiveWriteError(f"cannot write {destination}: {_NOT_A_DIRECTORY}")
    if source not in files:
        raise ArchiveWriteError(f"cannot write {destination}: {_missing(files, source)}")
    files[destination] = files.pop(source)


def create_temp(files: MutableMapping[str, bytes], directory: str, suffix: str) -> str:
    """A new empty file in `directory` (the system's temporary directory when empty)."""
    parent = directory.rstrip("/") if directory else "/tmp"
    if parent in files or _below_a_file(files, parent):
        raise ArchiveWriteError(f"cannot create a file in {directory or '.'}: {_NOT_A_DIRECTORY}")
    path = f"{parent}/.tmp-{len(files)}{suffix}"
    while path in files:
        path += "_"
    files[path] = b""
    return path


def decompress(files: MutableMapping[str, bytes], path: str, codec: str) -> str:
    """Decompress `path` in memory into a new file; return that file's path."""
    function = _decompressor(path, codec)
    data = files.get(path)
    if data is None:
        # What `open` raises for it, quoted whole as the real drivers quote it.
        missing = FileNotFoundError(errno.ENOENT, _missing(files, path), path)
        raise TarReadError(f"cannot decompress {path} ({codec}): {missing}")
    try:
        plain = function(data)
    except Exception as exc:  # each codec has its own error types
        raise TarReadError(f"cannot decompress {path} ({codec}): {exc}") from exc
    target = f"{path}.decompressed-{len(files)}.tar"
    files[target] = plain
    return target


def _decompressor(path: str, codec: str) -> Callable[[bytes], bytes]:
    # Imported here: these modules pull in file and thread machinery the core never needs.
    if codec == "gzip":
        import gzip

        return gzip.decompress
    if codec == "xz":
        import lzma

        return lzma.decompress
    if codec == "bzip2":
        import bz2

        return bz2.decompress
    if codec == "zstd":
        try:
            import zstandard
        except ImportError:  # an optional dependency, as for the real drivers
            raise TarReadError(
                f"{path} is zstd-compressed; install registry-api-v2-client[zstd] to read it"
            ) from None
        return lambda data: zstandard.ZstdDecompressor().stream_reader(data).read()
    raise TarReadError(f"{path} is compressed with {codec}, which this client cannot read")


def _missing(files: Mapping[str, bytes], path: str) -> str:
    """Why `path`, which is not a file, cannot be opened."""
    return _NOT_A_DIRECTORY if _below_a_file(files, path) else _NO_SUCH_FILE


def _below_a_file(files: Mapping[str, bytes], path: str) -> bool:
    """Whether a parent directory of `path` is in fact a file."""
    parts = path.split("/")
    return any("/".join(parts[:end]) in files for end in range(1, len(parts)))

"""Compressing a layer while it streams: deterministic encoders, and the hashes taken on the way
(docs/protocol.md §10.8, §10.9).

The same input always gives the same bytes on one installation, so a layer compressed twice
(for two repositories, or after a failed attempt) gets one digest. gzip has no name and no
time in its header. It is written by ISA-L (the `isal` package, the `fast` extra) when that is
installed, else by zlib. The two encoders give different bytes for the same input (each
deterministic), so a layer's compressed digest depends on which one is installed; ISA-L at its
level 2 compresses more than ten times as fast as zlib at level 6, for output 12-20 % larger on
source text (docs/performance.md). zstd is written at level 3 by the `zstandard` package.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from collections.abc import Callable
from typing import Any

from ._errors import ValidationError

__all__ = ["GZIP_ENCODERS", "LayerCompressor", "gzip_encoder"]

# zlib's level 6 is the level docker and skopeo write; ISA-L's 2 is its own default.
GZIP_ENCODERS = {"zlib": 6, "isal": 2}
# wbits 31: a gzip wrapper with a zero mtime and no file name.
_GZIP_WBITS = 31


@functools.cache
def gzip_encoder() -> str:
    """The gzip encoder this installation uses: "isal" where installed, else "zlib"."""
    try:
        import isal.isal_zlib  # noqa: F401 - only whether it imports
    except ImportError:
        return "zlib"
    return "isal"


def _gzip(encoder: str) -> Any:
    if encoder == "isal":
        from isal import isal_zlib

        return isal_zlib.compressobj(GZIP_ENCODERS["isal"], isal_zlib.DEFLATED, _GZIP_WBITS)
    return zlib.compressobj(GZIP_ENCODERS["zlib"], zlib.DEFLATED, _GZIP_WBITS)


def _zstd() -> Any:
    try:
        import zstandard
    except ImportError:
        raise ValidationError(
            "compression='zstd' needs the zstandard package: install registry-api-v2-client[zstd]"
        ) from None
    return zstandard.ZstdCompressor(level=3).compressobj()


class LayerCompressor:
    """Compresses one layer piece by piece, hashing what goes in and what comes out.

    `feed` and `finish` are pure CPU work, meant for `Offload`; they must be called in order,
    one at a time.
    """

    def __init__(
        self, codec: str, *, encoder: str | None = None, raw_algorithm: str = "sha256"
    ) -> None:
        if codec == "gzip":
            stream = _gzip(encoder or gzip_encoder())
        elif codec == "zstd":
            stream = _zstd()
        else:
            raise ValidationError(f"unknown compression {codec!r}: use 'gzip' or 'zstd'")
        self._compress: Callable[[bytes], bytes] = stream.compress
        self._flush: Callable[[], bytes] = stream.flush
        # A diff_id may be a sha512 digest; the compressed blob is always named by its sha256.
        self._raw = hashlib.new(raw_algorithm)
        self._out = hashlib.sha256()

    def feed(self, data: bytes) -> bytes:
        """Compress the next piece of the layer; return the output it completed (maybe none)."""
        self._raw.update(data)
        output = self._compress(data)
        self._out.update(output)
        return output

    def finish(self) -> bytes:
        """The last bytes of output, once the whole layer was fed."""
        output = self._flush()
        self._out.update(output)
        return output

    def raw_digest(self) -> str:
        """The digest of everything fed: the layer's diff_id, if it is intact."""
        return f"{self._raw.name}:{self._raw.hexdigest()}"

    def digest(self) -> str:
        """The digest of all the output."""
        return "sha256:" + self._out.hexdigest()

"""`ProgressPrinter`: transfer progress events shown the way `docker push` shows them.

It takes the events a push reports through `progress=` (`registry_proto._events`: blob
skipped, mounted, in progress, uploaded; manifest pushed), keyed by blob digest, so pulls and
copies that report the same kinds of event are shown the same way. Events of any other kind
are shown as one line each, whatever they are.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TextIO

from registry_proto import (
    BlobDownloaded,
    BlobMounted,
    BlobProgress,
    BlobSkipped,
    BlobUploaded,
    ManifestPulled,
    ManifestPushed,
    TransferStarted,
)

__all__ = ["ProgressPrinter", "human_size"]

Action = Literal["push", "pull", "copy"]

_BAR_WIDTH = 30
# A terminal is redrawn at most this often for bytes moving.
_REDRAW_INTERVAL = 0.1
# Below this, a rate is mostly noise.
_MIN_RATE_SECONDS = 0.2
_DEFAULT_COLUMNS = 80
_SHORT_ID = 12


@dataclass(frozen=True, slots=True)
class _Words:
    active: str
    done: str
    exists: str


# docker's own words, so its users read the output at a glance.
_WORDS: dict[str, _Words] = {
    "push": _Words("Pushing", "Pushed", "Layer already exists"),
    "pull": _Words("Downloading", "Download complete", "Already exists"),
    "copy": _Words("Copying", "Copied", "Already exists"),
}


def human_size(size: float) -> str:
    """Bytes in decimal units, as docker writes them: `832 B`, `41.98 kB`, `1.2 GB`."""
    if abs(size) < 1000:
        return f"{size:.0f} B"
    for unit in ("kB", "MB", "GB", "TB"):
        size /= 1000
        if abs(size) < 1000:
            return f"{size:.4g} {unit}"
    return f"{size / 1000:.1f} PB"


@dataclass(slots=True)
class _Blob:
    """What is known of one blob's transfer."""

    label: str
    status: str = ""
    sent: int = 0
    total: int = 0
    started: float | None = None
    final: bool = False
    quarter: int = -1  # the last quarter of the transfer reported line by line


_Line = _Blob | str  # a blob's line, or a message that stays as it is


class ProgressPrinter:
    """Shows transfer progress: pass it as `progress=` and close it when the call returns.

    On a terminal, each blob gets a line with a bar, bytes and rate, redrawn in place (lines
    whose blob is done scroll away and are left alone). Anywhere else (a file, a pipe, a CI
    log) every event is one line of its own, and a blob's bytes are reported at most once a
    quarter. `interactive` forces either; by default it is whether `stream` is a terminal.
    `action` picks the words (`push`: Pushing / Pushed / Layer already exists, as docker).

    ::

        with ProgressPrinter() as progress:
            await registry_async.push_docker_tar("app.tar", url, "app", "1.0", progress=progress)

    It may be called from several threads (the blocking client's workers).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        action: Action = "push",
        interactive: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._words = _WORDS[action]
        if interactive is None:
            interactive = _is_terminal(self._stream)
        self._interactive = interactive
        self._clock = clock
        self._lock = threading.Lock()
        self._blobs: dict[str, _Blob] = {}
        self._lines: list[_Line] = []
        # Lines at the top that are done and drawn are never redrawn; `_live` holds how many
        # rows each line drawn below them takes, for the next redraw to go back over.
        self._settled = 0
        self._live: list[int] = []
        self._drawn_at: float | None = None
        self._dirty = False

    @property
    def interactive(self) -> bool:
        """Whether lines are redrawn in place (a terminal) rather than appended."""
        return self._interactive

    def __call__(self, event: object) -> None:
        """Take one progress event."""
        with self._lock:
            lines = len(self._lines)
            message = self._take(event)
            if self._interactive:
                # Bytes moving may wait for the next redraw; a new line or a new state may not.
                self._draw(force=len(self._lines) > lines or not isinstance(event, BlobProgress))
            elif message is not None:
                self._write(message + "\n")

    def close(self) -> None:
        """Draw the last state of every line (on a terminal, throttling may have held one)."""
        with self._lock:
            if self._interactive and self._dirty:
                self._draw(force=True)

    def __enter__(self) -> ProgressPrinter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- state ------------------------------------------------------------------------------

    def _blob(self, digest: str) -> _Blob:
        blob = self._blobs.get(digest)
        if blob is None:
            blob = self._blobs[digest] = _Blob(_short(digest))
            self._lines.append(blob)
        return blob

    def _take(self, event: object) -> str | None:
        """Record `event`; return its line for line-by-line output (None: nothing to say)."""
        words = self._words
        if isinstance(event, BlobProgress):
            blob = self._blob(event.digest)
            if blob.started is None:
                blob.started = self._clock()
            blob.status, blob.sent, blob.total = words.active, event.sent, event.total
            quarter = 4 * event.sent // event.total if event.total > 0 else 4
            if quarter <= blob.quarter:
                return None
            blob.quarter = quarter
            return f"{blob.label}: {words.active} {_fraction(blob)}"
        if isinstance(event, BlobSkipped):
            return self._finish(event.digest, words.exists, event.size)
        if isinstance(event, BlobMounted):
            return self._finish(event.digest, f"Mounted from {event.from_repository}", event.size)
        if isinstance(event, BlobUploaded):
            size = human_size(event.size)
            return self._finish(event.source_digest, f"{words.done} {size}", event.size)
        if isinstance(event, BlobDownloaded):
            if self._words is not _WORDS["pull"]:
                return None  # a copy sends the blob on next: its upload ends the line
            return self._finish(event.digest, f"{words.done} {human_size(event.size)}", event.size)
        if isinstance(event, TransferStarted):
            # Quiet on a terminal, where the blob lines say it all; one line in a log.
            if self._interactive:
                return None
            text = (
                f"{event.what} {event.repository}: {event.total_blobs} blobs, "
                f"{human_size(event.total_bytes)}"
            )
        else:
            text = _manifest_line(event)
        self._lines.append(text)
        return text

    def _finish(self, digest: str, status: str, size: int) -> str:
        blob = self._blob(digest)
        blob.status, blob.final, blob.total = status, True, size
        return f"{blob.label}: {status}"

    # -- drawing ----------------------------------------------------------------------------

    def _draw(self, *, force: bool) -> None:
        now = self._clock()
        if not force and self._drawn_at is not None and now - self._drawn_at < _REDRAW_INTERVAL:
            self._dirty = True
            return
        self._drawn_at, self._dirty = now, False
        columns = _columns(self._stream)
        parts = [f"\x1b[{sum(self._live)}A"] if self._live else []
        self._live = []
        for line in self._lines[self._settled :]:
            text = self._render(line, now)
            if isinstance(line, _Blob):
                text = text[: columns - 1]  # redrawn often: never wrapped, never the last column
            parts.append(f"\r\x1b[2K{text}\n")
            self._live.append(max(1, -(-len(text) // columns)))  # the rows it takes
        while self._live and _is_final(self._lines[self._settled]):
            self._settled += 1
            self._live.pop(0)
        self._write("".join(parts))

    def _render(self, line: _Line, now: float) -> str:
        if isinstance(line, str):
            return line
        if line.final or not line.total:
            return f"{line.label}: {line.status or 'Waiting'}"
        filled = _BAR_WIDTH * min(line.sent, line.total) // line.total
        bar = ("=" * filled + ">")[:_BAR_WIDTH].ljust(_BAR_WIDTH)
        text = f"{line.label}: {line.status} [{bar}] {human_size(line.sent)}/"
        text += human_size(line.total)
        elapsed = now - line.started if line.started is not None else 0.0
        if elapsed >= _MIN_RATE_SECONDS:
            text += f"  {human_size(line.sent / elapsed)}/s"
        return text

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # a closed stream, or no stream at all
        return False


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or _DEFAULT_COLUMNS
    except (AttributeError, OSError, ValueError):
        return _DEFAULT_COLUMNS


def _is_final(line: _Line) -> bool:
    return isinstance(line, str) or line.final


def _short(digest: str) -> str:
    """docker's short id: the first 12 digits of the digest."""
    return digest.partition(":")[2][:_SHORT_ID] or digest[:_SHORT_ID]


def _fraction(blob: _Blob) -> str:
    percent = 100 * blob.sent // blob.total if blob.total > 0 else 100
    return f"{human_size(blob.sent)}/{human_size(blob.total)} ({percent}%)"


def _manifest_line(event: object) -> str:
    if isinstance(event, ManifestPulled):
        return f"{event.repository}:{event.reference}: digest: {event.digest}"
    if not isinstance(event, ManifestPushed):
        return _describe(event)
    if event.reference == event.digest:  # a child manifest of an index, stored by digest
        return f"{event.repository}@{event.digest}: manifest stored"
    return f"{event.repository}:{event.reference}: digest: {event.digest}"


def _describe(event: object) -> str:
    """A line for an event of a kind this printer does not know: its name and fields."""
    if dataclasses.is_dataclass(event) and not isinstance(event, type):
        fields = " ".join(f"{f.name}={getattr(event, f.name)}" for f in dataclasses.fields(event))
        return f"{type(event).__name__}: {fields}"
    return str(event)

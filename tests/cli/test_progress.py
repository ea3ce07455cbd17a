"""`ProgressPrinter`: docker-style lines, redrawn in place on a terminal, else one per event."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import struct
import termios
from dataclasses import dataclass

import pytest

from registry_async import (
    BlobDownloaded,
    BlobMounted,
    BlobProgress,
    BlobSkipped,
    BlobUploaded,
    ManifestPulled,
    ManifestPushed,
    ProgressPrinter,
    TransferStarted,
)
from registry_io.progress import human_size
from tests.cli.terminal import screen

LAYER = "sha256:" + "a1" * 32
CONFIG = "sha256:" + "b2" * 32
SHARED = "sha256:" + "c3" * 32
MANIFEST = "sha256:" + "d4" * 32
CHILD = "sha256:" + "e5" * 32


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class FutureEvent:
    """An event of a kind the printer does not know."""

    name: str
    count: int


def drain(fd: int) -> bytes:
    """Everything written to the other side of a pseudo-terminal so far."""
    chunks = []
    while select.select([fd], [], [], 0)[0]:
        chunks.append(os.read(fd, 65536))
    return b"".join(chunks)


def push_events() -> list[object]:
    return [
        BlobProgress(LAYER, 0, 4000),
        BlobProgress(LAYER, 900, 4000),
        BlobProgress(LAYER, 1000, 4000),
        BlobProgress(LAYER, 4000, 4000),
        BlobUploaded(LAYER, LAYER, 4000),
        BlobSkipped(CONFIG, 10),
        BlobMounted(SHARED, 5, "other/repo"),
        ManifestPushed("demo/app", CHILD, CHILD),
        ManifestPushed("demo/app", "1.0", MANIFEST),
    ]


def test_one_line_per_event_and_per_quarter_of_a_blob() -> None:
    stream = io.StringIO()
    printer = ProgressPrinter(stream)
    assert not printer.interactive  # not a terminal
    for event in push_events():
        printer(event)
    printer.close()

    assert stream.getvalue().splitlines() == [
        "a1a1a1a1a1a1: Pushing 0 B/4 kB (0%)",
        "a1a1a1a1a1a1: Pushing 1 kB/4 kB (25%)",
        "a1a1a1a1a1a1: Pushing 4 kB/4 kB (100%)",
        "a1a1a1a1a1a1: Pushed 4 kB",
        "b2b2b2b2b2b2: Layer already exists",
        "c3c3c3c3c3c3: Mounted from other/repo",
        f"demo/app@{CHILD}: manifest stored",
        f"demo/app:1.0: digest: {MANIFEST}",
    ]
    assert "\x1b" not in stream.getvalue()


def test_the_words_follow_the_action() -> None:
    stream = io.StringIO()
    printer = ProgressPrinter(stream, action="pull")
    for event in (
        BlobProgress(LAYER, 0, 10),
        BlobUploaded(LAYER, LAYER, 10),
        BlobSkipped(CONFIG, 1),
    ):
        printer(event)
    assert stream.getvalue().splitlines() == [
        "a1a1a1a1a1a1: Downloading 0 B/10 B (0%)",
        "a1a1a1a1a1a1: Download complete 10 B",
        "b2b2b2b2b2b2: Already exists",
    ]


def test_a_pull_from_start_to_manifest() -> None:
    stream = io.StringIO()
    printer = ProgressPrinter(stream, action="pull")
    for event in (
        TransferStarted(4010, 2, "pull", "demo/app"),
        BlobProgress(LAYER, 4000, 4000, "download"),
        BlobDownloaded(LAYER, 4000),
        BlobDownloaded(CONFIG, 10),
        ManifestPulled("demo/app", "1.0", MANIFEST, "app.tar"),
    ):
        printer(event)
    assert stream.getvalue().splitlines() == [
        "pull demo/app: 2 blobs, 4.01 kB",
        "a1a1a1a1a1a1: Downloading 4 kB/4 kB (100%)",
        "a1a1a1a1a1a1: Download complete 4 kB",
        "b2b2b2b2b2b2: Download complete 10 B",
        f"demo/app:1.0: digest: {MANIFEST}",
    ]


def test_a_copy_ends_a_blob_line_when_the_blob_is_sent_on() -> None:
    stream = io.StringIO()
    printer = ProgressPrinter(stream, action="copy")
    for event in (
        BlobProgress(LAYER, 10, 10, "download"),
        BlobDownloaded(LAYER, 10),
        BlobUploaded(LAYER, LAYER, 10),
    ):
        printer(event)
    assert stream.getvalue().splitlines() == [
        "a1a1a1a1a1a1: Copying 10 B/10 B (100%)",
        "a1a1a1a1a1a1: Copied 10 B",
    ]


def test_events_of_other_kinds_are_shown_by_their_fields() -> None:
    stream = io.StringIO()
    printer = ProgressPrinter(stream)
    printer(FutureEvent("index", 3))
    printer("plain text event")
    assert stream.getvalue().splitlines() == [
        "FutureEvent: name=index count=3",
        "plain text event",
    ]


def test_terminal_lines_are_redrawn_in_place() -> None:
    stream, clock = io.StringIO(), Clock()
    printer = ProgressPrinter(stream, interactive=True, clock=clock)
    printer(BlobProgress(LAYER, 0, 3000))
    printer(BlobProgress(CONFIG, 0, 500))
    assert screen(stream.getvalue()) == [
        "a1a1a1a1a1a1: Pushing [>                             ] 0 B/3 kB",
        "b2b2b2b2b2b2: Pushing [>                             ] 0 B/500 B",
    ]

    clock.now += 0.5
    printer(BlobProgress(LAYER, 1500, 3000))
    assert screen(stream.getvalue())[0] == (
        "a1a1a1a1a1a1: Pushing [===============>              ] 1.5 kB/3 kB  3 kB/s"
    )

    printer(BlobUploaded(CONFIG, CONFIG, 500))
    printer(BlobUploaded(LAYER, LAYER, 3000))
    printer(ManifestPushed("demo/app", "1.0", MANIFEST))
    assert screen(stream.getvalue()) == [
        "a1a1a1a1a1a1: Pushed 3 kB",
        "b2b2b2b2b2b2: Pushed 500 B",
        f"demo/app:1.0: digest: {MANIFEST}",
    ]


def test_finished_lines_are_left_alone() -> None:
    stream, clock = io.StringIO(), Clock()
    printer = ProgressPrinter(stream, interactive=True, clock=clock)
    printer(BlobSkipped(CONFIG, 1))
    printer(ManifestPushed("demo/app", "1.0", MANIFEST))
    drawn = len(stream.getvalue())
    printer(BlobProgress(LAYER, 0, 10))
    # Nothing above the new line is redrawn: no cursor movement at all.
    assert "\x1b[" not in stream.getvalue()[drawn:].replace("\x1b[2K", "")


def test_bytes_moving_are_redrawn_at_most_ten_times_a_second() -> None:
    stream, clock = io.StringIO(), Clock()
    printer = ProgressPrinter(stream, interactive=True, clock=clock)
    printer(BlobProgress(LAYER, 0, 100))
    drawn = stream.getvalue()
    clock.now += 0.05
    printer(BlobProgress(LAYER, 50, 100))
    assert stream.getvalue() == drawn  # held back
    printer.close()  # but never lost
    assert screen(stream.getvalue()) == [
        "a1a1a1a1a1a1: Pushing [===============>              ] 50 B/100 B",
    ]


def test_blob_lines_never_wrap_and_messages_are_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 40, 0, 0))
    with open(terminal, "w") as stream:
        printer = ProgressPrinter(stream)
        assert printer.interactive
        printer(BlobProgress(LAYER, 1000, 4000))
        long_message = "m" * 50
        printer(long_message)  # two rows of 40 columns
        printer(BlobUploaded(LAYER, LAYER, 4000))
        output = drain(controller).decode().replace("\r\n", "\n")
    os.close(controller)
    assert screen(output) == ["a1a1a1a1a1a1: Pushed 4 kB", long_message]
    first_draw = output.split("\n")[0].removeprefix("\r\x1b[2K")
    assert first_draw.startswith("a1a1a1a1a1a1: Pushing [=======>")
    assert len(first_draw) == 39  # cut before the last column
    # The redraw went back up over both rows of the message, and the blob's line.
    assert output.count("\x1b[3A") == 1


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1 kB"),
        (41984, "41.98 kB"),
        (60_016_640, "60.02 MB"),
        (10**19, "10000.0 PB"),
    ],
)
def test_sizes_in_docker_units(size: int, text: str) -> None:
    assert human_size(size) == text

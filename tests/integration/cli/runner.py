"""Run the installed `regv2` as a user would: a subprocess, with or without a terminal.

`regv2` is the console script the project installs next to the interpreter running the tests
(`uv sync` puts it in `.venv/bin`). HOME and DOCKER_CONFIG point into a temporary directory,
so no test reads or writes the real user's docker config.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["REGV2", "CliRun", "Regv2"]

REGV2 = Path(sys.executable).with_name("regv2")
_TIMEOUT = 120.0
TERMINAL_COLUMNS = 120


@dataclass(frozen=True)
class CliRun:
    """How a run ended: its exit code and what it wrote."""

    code: int
    stdout: str
    stderr: str

    @property
    def error_line(self) -> str:
        """The failure's message: the last line on stderr, and the only one of its kind
        (status lines such as `Pulling ...` may come before it)."""
        lines = self.stderr.splitlines()
        assert lines, "nothing on stderr"
        assert lines[-1].startswith("regv2: error: "), self.stderr
        assert sum("error" in line.lower() for line in lines) == 1, self.stderr
        assert "Traceback" not in self.stderr
        return lines[-1]


class Regv2:
    """`regv2` in a sandboxed environment (its own HOME and DOCKER_CONFIG)."""

    def __init__(self, home: Path) -> None:
        assert REGV2.is_file(), f"{REGV2} is missing: run `uv sync` to install the scripts"
        self.home = home
        self.docker_config = home / ".docker-config"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        self.env.update(
            HOME=str(home), DOCKER_CONFIG=str(self.docker_config), TERM="xterm", LC_ALL="C.UTF-8"
        )

    @property
    def config_file(self) -> Path:
        return self.docker_config / "config.json"

    def __call__(self, *args: str | os.PathLike[str], stdin: str = "") -> CliRun:
        """Run with pipes: no terminal anywhere."""
        completed = subprocess.run(
            [str(REGV2), *map(str, args)],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=_TIMEOUT,
            check=False,
        )
        return CliRun(completed.returncode, completed.stdout, completed.stderr)

    def in_terminal(self, *args: str | os.PathLike[str]) -> CliRun:
        """Run on a pseudo-terminal of `TERMINAL_COLUMNS` columns (stdout and stderr both);
        the output comes back in `stdout`, line ends as the terminal sends them (`\\r\\n`)."""
        controller, terminal = pty.openpty()
        size = struct.pack("HHHH", 40, TERMINAL_COLUMNS, 0, 0)
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, size)
        try:
            process = subprocess.Popen(
                [str(REGV2), *map(str, args)],
                stdin=terminal,
                stdout=terminal,
                stderr=terminal,
                env=self.env,
                close_fds=True,
            )
        finally:
            os.close(terminal)
        output = bytearray()
        deadline = time.monotonic() + _TIMEOUT
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([controller], [], [], deadline - time.monotonic())
                if not ready:
                    continue
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # EIO: every writer has closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            code = process.wait(timeout=max(0.0, deadline - time.monotonic()))
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            os.close(controller)
        return CliRun(code, output.decode(), "")

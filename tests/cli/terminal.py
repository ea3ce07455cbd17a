"""A tiny terminal for checking redrawn output: what stays on screen once every carriage
return, line erase and cursor-up in the text has been applied."""

from __future__ import annotations

import re

__all__ = ["screen"]

_CONTROL = re.compile(r"\x1b\[(\d*)([AK])|\r|\n")


def screen(output: str) -> list[str]:
    """The lines left on an endless screen after `output` is written to it."""
    lines = [""]
    row = column = 0
    position = 0
    for match in _CONTROL.finditer(output):
        text = output[position : match.start()]
        line = lines[row]
        lines[row] = line[:column].ljust(column) + text + line[column + len(text) :]
        column += len(text)
        position = match.end()
        token = match.group(0)
        if token == "\r":
            column = 0
        elif token == "\n":
            row += 1
            column = 0
            if row == len(lines):
                lines.append("")
        elif match.group(2) == "A":
            row = max(0, row - int(match.group(1) or 1))
        else:  # erase the line ([2K, the only erase written)
            lines[row] = ""
    tail = output[position:]
    lines[row] = lines[row][:column].ljust(column) + tail + lines[row][column + len(tail) :]
    return [line.rstrip() for line in lines if line.strip()]

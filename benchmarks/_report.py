"""Summaries of a scenario's runs: Markdown tables and a chart.

Every figure is a ratio or a summary of whole-process runs; nothing is compared with a fixed
time. A ratio "times X" is the row's median time divided by X's median time: below 1 the row
was faster than X, above 1 slower.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _common import Role, Sample

__all__ = ["Row", "ScenarioResult", "markdown_report", "write_chart"]

TIMES = "\u00d7"  # the multiplication sign of the ratio columns
DASH = "\u2013"  # the en dash of the min-max ranges


@dataclass(frozen=True)
class Row:
    """One contender's runs in a scenario."""

    name: str
    role: Role
    samples: list[Sample]

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def minimum(self) -> float:
        return min(s.seconds for s in self.samples)

    @property
    def maximum(self) -> float:
        return max(s.seconds for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu_seconds for s in self.samples)

    @property
    def peak_rss(self) -> float:
        """The highest peak RSS of all runs."""
        return max(s.peak_rss_mib for s in self.samples)

    @property
    def note(self) -> str:
        return " / ".join(dict.fromkeys(s.note for s in self.samples if s.note))


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario's rows and what they are compared with.

    ``limit`` names the row every other row is divided by (the fastest way to do the same
    work); each of ``peers`` gets a ratio column too. ``size_mib`` adds a MiB/s column.
    """

    key: str
    title: str
    setup: str
    rows: list[Row]
    limit: str | None = None
    peers: list[str] = field(default_factory=list)
    size_mib: float | None = None
    note_header: str = "note"
    parameters: dict[str, Any] = field(default_factory=dict)

    def row(self, name: str) -> Row | None:
        return next((row for row in self.rows if row.name == name), None)

    def as_json(self) -> dict[str, Any]:
        document = asdict(self)
        for row, data in zip(self.rows, document["rows"], strict=True):
            data.update(median=row.median, minimum=row.minimum, maximum=row.maximum)
        return document


def _ratio(row: Row, reference: Row | None) -> str:
    if reference is None:
        return "-"
    return f"{row.median / reference.median:.2f}"


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def markdown_table(result: ScenarioResult) -> str:
    """The scenario's rows as a Markdown table."""
    references = [(f"{TIMES} {result.limit}", result.limit)] if result.limit else []
    references += [(f"{TIMES} {peer}", peer) for peer in result.peers]
    header = ["contender", "median s", f"min{DASH}max s"]
    header += ["MiB/s"] if result.size_mib else []
    header += ["CPU s", "peak RSS MiB", *(title for title, _ in references)]
    align = ["---", "---:", "---:"] + (["---:"] if result.size_mib else [])
    align += ["---:", "---:", *("---:" for _ in references)]
    notes = any(row.note for row in result.rows)
    if notes:
        header.append(result.note_header)
        align.append("---")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for row in result.rows:
        label = f"**{row.name}**" if row.role == "ours" else row.name
        spread = f"{_seconds(row.minimum)}{DASH}{_seconds(row.maximum)}"
        cells = [label, _seconds(row.median), spread]
        if result.size_mib:
            cells.append(f"{result.size_mib / row.median:.0f}")
        cells += [f"{row.cpu:.2f}", f"{row.peak_rss:.0f}"]
        cells += [_ratio(row, result.row(reference)) for _, reference in references]
        if notes:
            cells.append(row.note)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_report(
    results: Sequence[ScenarioResult], machine: dict[str, Any], heading: str, chart: str | None
) -> str:
    """The whole run: the machine, then each scenario's set-up and table."""
    lines = [f"# {heading}", ""]
    lines.append(
        f"Machine: {machine['nproc']} CPUs, {machine['memory_gib']} GiB, {machine['platform']}; "
        f"Python {machine['python']}; {machine['skopeo']}; {machine['registry']}; "
        f"{machine['curl']}."
    )
    lines.append("")
    lines.append(
        "Each figure is whole processes, spawn to exit, on loopback; medians of the runs, the "
        f"range in min{DASH}max. `{TIMES} X` is the median time divided by X's: below 1.00 is "
        "faster. "
        "CPU s is the process's own user + system time, peak RSS its own high-water mark. "
        "Rows in **bold** are this project."
    )
    if chart:
        lines += ["", f"![median times]({chart})"]
    for result in results:
        lines += ["", f"## {result.title}", "", result.setup, "", markdown_table(result)]
    return "\n".join(lines) + "\n"


COLOURS: dict[str, str] = {
    "ours": "#2b6cb0",
    "peer": "#a0aec0",
    "limit": "#38a169",
    "floor": "#9ae6b4",
}


def write_chart(results: Sequence[ScenarioResult], path: Path) -> bool:
    """A PNG with one panel per scenario: median time per contender, min-max as a whisker.

    Returns False (and writes nothing) when matplotlib, from the ``bench`` dependency group,
    is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    heights = [max(1.6, 0.32 * len(result.rows) + 0.9) for result in results]
    figure, axes = plt.subplots(
        len(results),
        1,
        figsize=(9, sum(heights)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for axis, result in zip(axes[:, 0], results, strict=True):
        rows = list(reversed(result.rows))
        medians = [row.median for row in rows]
        errors = [
            [row.median - row.minimum for row in rows],
            [row.maximum - row.median for row in rows],
        ]
        positions = range(len(rows))
        axis.barh(
            positions,
            medians,
            xerr=errors,
            color=[COLOURS[row.role] for row in rows],
            error_kw={"ecolor": "#4a5568", "capsize": 2, "linewidth": 0.8},
        )
        axis.set_yticks(list(positions), [row.name for row in rows], fontsize=8)
        axis.set_title(result.title, fontsize=9, loc="left")
        axis.set_xlabel(f"seconds (median, min{DASH}max)", fontsize=8)
        axis.tick_params(axis="x", labelsize=8)
        for position, row in zip(positions, rows, strict=True):
            axis.text(row.maximum, position, f" {_seconds(row.median)}", va="center", fontsize=7)
        axis.set_xlim(0, max(row.maximum for row in rows) * 1.15)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True

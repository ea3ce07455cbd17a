"""What `regv2 inspect` prints: a summary for people, or a JSON object for programs."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from registry_async import ImageInfo
from registry_io.progress import human_size

__all__ = ["as_json", "summary"]


def as_json(info: ImageInfo, name: str) -> str:
    """Every field of `info` (snake_case, as in `ImageInfo`), with `name` and platforms as
    `os/arch[/variant]` strings."""
    document: dict[str, Any] = {"name": name, **dataclasses.asdict(info)}
    document["labels"] = dict(info.labels)
    document["platform"] = str(info.platform) if info.platform else None
    for entry, manifest in zip(document["platforms"], info.platforms, strict=True):
        entry["platform"] = str(manifest.platform) if manifest.platform else None
    return json.dumps(document, indent=2)


def summary(info: ImageInfo, name: str) -> str:
    """Aligned `Field: value` lines, then the layers or the platforms of an index."""
    rows: list[tuple[str, str]] = [
        ("Name", name),
        ("Digest", info.digest),
        ("Media type", info.media_type),
    ]
    if info.is_index:
        rows.append(("Size", f"{human_size(info.total_size)} (the manifests listed)"))
    else:
        rows += [
            ("Platform", str(info.platform) if info.platform else "(not recorded)"),
            ("Created", info.created or ""),
            ("Size", f"{human_size(info.total_size)} (config and layers, as stored)"),
            ("Config", info.config_digest or ""),
            ("Entrypoint", _command(info.entrypoint)),
            ("Cmd", _command(info.cmd)),
            ("Working dir", info.working_dir or ""),
            ("User", info.user or ""),
            ("Ports", ", ".join(info.exposed_ports)),
        ]
        rows += [("Env", value) for value in info.env]
        rows += [("Label", f"{key}={value}") for key, value in sorted(info.labels.items())]
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"{label + ':':<{width}}{value}".rstrip() for label, value in rows if value]
    if info.is_index:
        lines.append(f"Platforms ({len(info.platforms)}):")
        for entry in info.platforms:
            platform = str(entry.platform) if entry.platform else "(none)"
            lines.append(f"  {platform:<16} {entry.digest}  {human_size(entry.size)}")
    else:
        lines.append(f"Layers ({len(info.layers)}):")
        for layer in info.layers:
            lines.append(f"  {layer.digest}  {human_size(layer.size):>9}  {layer.media_type}")
    return "\n".join(lines)


def _command(words: tuple[str, ...] | None) -> str:
    return json.dumps(list(words)) if words else ""

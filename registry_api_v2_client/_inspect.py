"""`ImageInspect` from an archive image: its config read leniently (image-spec config.md).

A config may lack any field (hand-written test images hold only a platform), so every field
has the default 1.x gave it; a missing or unreadable `created` is the Unix epoch, never the
time of the call, so that inspecting an archive twice gives the same answer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from registry_proto import ArchiveImage

from ._models import ImageConfig, ImageInspect, LayerInfo

__all__ = ["EPOCH", "image_inspect", "timestamp"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(value: object) -> datetime | None:
    """An RFC 3339 time as images record it (nanoseconds, `Z`), or None; UTC when zoneless."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _texts(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _config(document: dict[str, Any]) -> ImageConfig:
    runtime = _object(document.get("config"))
    return ImageConfig(
        architecture=_text(document.get("architecture")),
        os=_text(document.get("os")),
        created=timestamp(document.get("created")) or EPOCH,
        cmd=_texts(runtime.get("Cmd")),
        entrypoint=_texts(runtime.get("Entrypoint")),
        env=_texts(runtime.get("Env")),
        user=_text(runtime.get("User")),
        working_dir=_optional_text(runtime.get("WorkingDir")),
        exposed_ports=_object(runtime.get("ExposedPorts")),
        labels={k: v for k, v in _object(runtime.get("Labels")).items() if isinstance(v, str)},
        diff_ids=_texts(_object(document.get("rootfs")).get("diff_ids")),
    )


def _layers(image: ArchiveImage, document: dict[str, Any]) -> list[LayerInfo]:
    """The layers as pushed, each with its history entry when the history lines up with them
    (entries marked `empty_layer` made no layer)."""
    history = document.get("history")
    made = [
        _object(entry)
        for entry in (history if isinstance(history, list) else [])
        if not _object(entry).get("empty_layer")
    ]
    if len(made) != len(image.layers):
        made = [{} for _ in image.layers]
    return [
        LayerInfo(
            digest=layer.descriptor.digest,
            size=layer.descriptor.size,
            media_type=layer.descriptor.media_type,
            created=timestamp(entry.get("created")),
            created_by=_optional_text(entry.get("created_by")),
        )
        for layer, entry in zip(image.layers, made, strict=True)
    ]


def image_inspect(image: ArchiveImage) -> ImageInspect:
    """Describe `image` as 1.x's `inspect_docker_tar` did, from what the archive holds."""
    document = _object(json.loads(image.config))  # JSON: the archive reader checked it
    config = _config(document)
    layers = _layers(image, document)
    size = sum(layer.size for layer in layers)
    return ImageInspect(
        id=image.config_descriptor.digest,
        repo_tags=list(image.repo_tags),
        parent=_optional_text(document.get("parent")) or None,
        comment=_text(document.get("comment")),
        created=config.created,
        config=config,
        layers=layers,
        size=size,
        virtual_size=size,
        architecture=config.architecture,
        os=config.os,
        author=_text(document.get("author")),
        rootfs_type=_text(_object(document.get("rootfs")).get("type"), "layers"),
        rootfs_layers=list(config.diff_ids),
    )

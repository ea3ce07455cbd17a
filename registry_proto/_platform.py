"""The platform an image runs on (image-spec config.md `os`, `architecture`, `variant`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Platform"]


@dataclass(frozen=True, slots=True)
class Platform:
    """The platform an image runs on: `os/architecture[/variant]`."""

    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def from_json(cls, raw: object) -> Platform | None:
        """The platform a JSON object records (an image config, or an index entry's
        `platform`), or None when it names none."""
        if not isinstance(raw, dict):
            return None
        os_name, arch, variant = raw.get("os"), raw.get("architecture"), raw.get("variant")
        if not (isinstance(os_name, str) and isinstance(arch, str) and os_name and arch):
            return None
        return cls(os_name, arch, variant if isinstance(variant, str) and variant else None)

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text

    def matches(self, wanted: Platform) -> bool:
        """Same os and architecture, and the same variant when `wanted` names one."""
        if (self.os, self.architecture) != (wanted.os, wanted.architecture):
            return False
        return wanted.variant is None or self.variant == wanted.variant

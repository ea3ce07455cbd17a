"""What the in-memory registry holds: repositories, open upload sessions, and the options
that choose which distribution version it answers like."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import assert_never

from .._errors import TarReadError
from .._models import Body, BytesBody, EmptyBody, FileSlice
from . import _files
from ._answers import Answer, error
from ._requests import catalog_key

__all__ = ["Options", "Repository", "Store", "Upload", "sha256"]


@dataclass(frozen=True, slots=True)
class Options:
    """How the registry behaves (see `FakeRegistry`)."""

    delete_enabled: bool = True
    relative_urls: bool = False
    strict_ranges: bool = False
    paginate_tags: bool = True
    catalog_default_page: int = 100
    catalog_max_entries: int = 1000
    chunk_min_length: int | None = None


@dataclass
class Repository:
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # distribution answers `"tags": null` once a repository had tags and lost them all.
    had_tags: bool = False

    @property
    def has_content(self) -> bool:
        return bool(self.blobs or self.manifests)

    def tag(self, tag: str, digest: str) -> None:
        self.tags[tag] = digest
        self.had_tags = True


@dataclass
class Upload:
    """An open upload session; `state` is the `_state` token its current `Location` carries."""

    name: str
    uuid: str
    data: bytearray = field(default_factory=bytearray)
    state: str = ""


@dataclass
class Store:
    options: Options
    # Resolves `FileSlice` request bodies.
    files: Mapping[str, bytes]
    repositories: dict[str, Repository] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    counter: int = 0

    def repo(self, name: str) -> Repository:
        """The repository `name`, created empty if new."""
        return self.repositories.setdefault(name, Repository())

    def names(self) -> list[str]:
        """Repositories holding at least one blob or manifest, in catalog order."""
        return sorted(
            (name for name, repo in self.repositories.items() if repo.has_content),
            key=catalog_key,
        )

    def next_number(self) -> int:
        """A number never handed out before (upload ids, `_state` tokens)."""
        self.counter += 1
        return self.counter

    def body(self, body: Body) -> bytes:
        """The bytes of a request body; a 400 answer when a `FileSlice` cannot be read."""
        if isinstance(body, EmptyBody):
            return b""
        if isinstance(body, BytesBody):
            return body.data
        if isinstance(body, FileSlice):
            try:
                return _files.read_slice(self.files, body)
            except TarReadError as exc:
                raise Answer(error(400, "SIZE_INVALID", f"unreadable body: {exc}")) from None
        assert_never(body)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()

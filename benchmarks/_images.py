"""The test images: written straight into ``docker save`` archives, then checked after pulls.

An image is a *text* layer (Python's standard library sources: compressible, like most real
layers) and *random* layers (incompressible, like binaries and compressed assets), all stored
uncompressed as ``docker save`` stores them. The archive has the Docker 25+ layout
(``blobs/sha256/<hex>``, ``oci-layout``, ``index.json`` and ``manifest.json``), which every
contender reads, registry-api-v2-client 1.2.0 included (it reads nothing else).

Each layer tar is streamed into the archive through a hashing writer, its member header written
last, once its size and digest are known, so a 1 GiB image is written and hashed in one pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sysconfig
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import _common  # noqa: F401  # puts benchmarks/contenders on sys.path, for docker_save
from docker_save import OCI_LAYER_TAR, OCI_MANIFEST, Blob, image_manifest, read_image

__all__ = [
    "ImageSpec",
    "archive_blobs",
    "build_archive",
    "prepare_blob_dir",
    "verify_archive",
]

MIB = 1024 * 1024
BLOCK = 512
RANDOM_FILE = 16 * MIB
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
CREATED = "2026-01-01T00:00:00Z"
COPY_CHUNK = MIB


@dataclass(frozen=True)
class ImageSpec:
    """An image: ``text_mib`` of standard-library sources in one layer (none when 0), then
    ``random_mib`` of random data split evenly over ``random_layers`` layers."""

    text_mib: float
    random_mib: float
    random_layers: int

    @property
    def layers(self) -> int:
        return (1 if self.text_mib > 0 else 0) + self.random_layers

    def describe(self) -> str:
        parts = []
        if self.text_mib > 0:
            parts.append(f"{self.text_mib:g} MiB of Python stdlib sources")
        if self.random_layers:
            each = self.random_mib / self.random_layers
            parts.append(f"{self.random_layers} \u00d7 {each:g} MiB random")
        return " + ".join(parts)


# -- writing tars ----------------------------------------------------------------------------


class _HashingWriter:
    """A write-only file that hashes and counts what goes through it into ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._target.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    @property
    def digest(self) -> str:
        return "sha256:" + self.sha256.hexdigest()


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _blob_name(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/", 1)


class _ArchiveWriter:
    """The outer ``docker save`` tar, written member by member."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file

    def add_bytes(self, name: str, data: bytes) -> None:
        self._file.write(_header(name, len(data)) + data + bytes(-len(data) % BLOCK))

    def add_blob(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.add_bytes(_blob_name(digest), data)
        return digest

    def add_streamed_blob(self, fill: Callable[[IO[bytes]], None]) -> tuple[str, int]:
        """A blob written by ``fill``; its header goes in afterwards. Returns (digest, size)."""
        start = self._file.tell()
        self._file.write(bytes(BLOCK))  # the header's place
        writer = _HashingWriter(self._file)
        fill(cast(IO[bytes], writer))  # write() and tell() are all that tarfile uses
        self._file.write(bytes(-writer.size % BLOCK))
        end = self._file.tell()
        self._file.seek(start)
        self._file.write(_header(_blob_name(writer.digest), writer.size))
        self._file.seek(end)
        return writer.digest, writer.size

    def close(self) -> None:
        self._file.write(bytes(2 * BLOCK))


# -- layers ----------------------------------------------------------------------------------


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    return info


def _stdlib_files() -> list[Path]:
    """The standard library's files in a fixed order, without site-packages and bytecode."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files: list[Path] = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRECTORIES)
        files.extend(Path(directory) / name for name in sorted(names))
    return [path for path in files if path.is_file() and not path.is_symlink()]


SKIPPED_DIRECTORIES = frozenset({"site-packages", "dist-packages", "__pycache__"})


def _text_layer(size: int) -> Callable[[IO[bytes]], None]:
    """Python's standard library, file by file until ``size`` bytes of file data (repeated
    under another directory if it is smaller)."""

    def fill(out: IO[bytes]) -> None:
        files = _stdlib_files()
        root = Path(sysconfig.get_paths()["stdlib"])
        left = size
        if not files:
            raise RuntimeError(f"no standard library files found under {root}")
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as layer:
            copy = 0
            while True:
                for path in files:
                    length = path.stat().st_size
                    if length > left:
                        return
                    name = f"usr/lib/python{copy or ''}/{path.relative_to(root)}"
                    layer.add(path, arcname=name, filter=_normalised)
                    left -= length
                copy += 1

    return fill


def _random_layer(size: int, index: int) -> Callable[[IO[bytes]], None]:
    """``size`` bytes of random data in files of 16 MiB."""

    def fill(out: IO[bytes]) -> None:
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as layer:
            number = 0
            left = size
            while left > 0:
                length = min(RANDOM_FILE, left)
                info = _normalised(tarfile.TarInfo(f"data/layer-{index}/random-{number:04d}.bin"))
                info.size = length
                info.mode = 0o644
                layer.addfile(info, _RandomReader(length))
                left -= length
                number += 1

    return fill


class _RandomReader:
    """A file-like ``read`` over ``length`` fresh random bytes, for ``TarFile.addfile``."""

    def __init__(self, length: int) -> None:
        self._left = length

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        self._left -= size
        return os.urandom(size)


# -- archives --------------------------------------------------------------------------------


def _architecture() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def build_archive(dest: Path, spec: ImageSpec, reference: str) -> Path:
    """Write the image ``spec`` as a ``docker save`` archive (Docker 25+ layout) at ``dest``."""
    fills = []
    if spec.text_mib > 0:
        fills.append(("stdlib sources", _text_layer(int(spec.text_mib * MIB))))
    for index in range(spec.random_layers):
        size = int(spec.random_mib * MIB / spec.random_layers)
        fills.append((f"random data {index}", _random_layer(size, index)))
    with open(dest, "wb") as file:
        archive = _ArchiveWriter(file)
        layers = [(what, *archive.add_streamed_blob(fill)) for what, fill in fills]
        config: dict[str, Any] = {
            "architecture": _architecture(),
            "os": "linux",
            "created": CREATED,
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [digest for _, digest, _ in layers]},
            "history": [{"created": CREATED, "created_by": what} for what, _, _ in layers],
        }
        config_bytes = json.dumps(config, separators=(",", ":")).encode()
        config_digest = archive.add_blob(config_bytes)
        layer_blobs = [Blob(digest, size) for _, digest, size in layers]
        manifest = image_manifest(Blob(config_digest, len(config_bytes)), layer_blobs)
        manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
        manifest_digest = archive.add_blob(manifest_bytes)
        oci_index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": manifest_digest,
                    "size": len(manifest_bytes),
                    "annotations": {
                        "io.containerd.image.name": reference,
                        "org.opencontainers.image.ref.name": reference.rpartition(":")[2],
                    },
                }
            ],
        }
        docker_manifest = [
            {
                "Config": _blob_name(config_digest),
                "RepoTags": [reference],
                "Layers": [_blob_name(digest) for _, digest, _ in layers],
            }
        ]
        archive.add_bytes("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        archive.add_bytes("index.json", json.dumps(oci_index).encode())
        archive.add_bytes("manifest.json", json.dumps(docker_manifest).encode())
        archive.close()
    return dest


def archive_blobs(archive: Path) -> int:
    """The size of the archive's image: its config and layers, in bytes."""
    return sum(blob.size for blob in read_image(str(archive)).blobs)


def _copy_out(archive: Path, offset: int, size: int, dest: Path, *, gzipped: bool) -> str:
    """Copy ``size`` bytes at ``offset`` to ``dest`` (gzip-compressed if asked); its digest."""
    digest = hashlib.sha256()
    # Level 6, no name and no time, like the library's own gzip (registry_proto/flows/upload.py).
    encoder = zlib.compressobj(6, zlib.DEFLATED, 31) if gzipped else None
    with open(archive, "rb") as source, open(dest, "wb") as out:
        source.seek(offset)
        left = size
        while left:
            chunk = source.read(min(COPY_CHUNK, left))
            left -= len(chunk)
            data = encoder.compress(chunk) if encoder else chunk
            digest.update(data)
            out.write(data)
        if encoder:
            tail = encoder.flush()
            digest.update(tail)
            out.write(tail)
    return "sha256:" + digest.hexdigest()


def prepare_blob_dir(archive: Path, dest: Path, *, gzipped: bool = False) -> Path:
    """The archive's blobs as files in ``dest``, for ``curl_push.sh`` (see its header).

    With ``gzipped``, layers are gzip-compressed first, as a compressing client would send them.
    """
    dest.mkdir(parents=True, exist_ok=True)
    image = read_image(str(archive))
    assert image.config.data is not None
    (dest / "config").write_bytes(image.config.data)
    lines = [f"{image.config.digest} config"]
    sent = []
    for number, layer in enumerate(image.layers):
        name = f"layer-{number}"
        digest = _copy_out(archive, layer.offset, layer.size, dest / name, gzipped=gzipped)
        sent.append(Blob(digest, (dest / name).stat().st_size))
        lines.append(f"{digest} {name}")
    manifest = image_manifest(image.config, sent, OCI_LAYER_GZIP if gzipped else OCI_LAYER_TAR)
    (dest / "blobs").write_text("".join(f"{line}\n" for line in lines))
    (dest / "manifest.json").write_text(json.dumps(manifest))
    (dest / "manifest.type").write_text(OCI_MANIFEST)
    return dest


# -- checking a pulled archive ---------------------------------------------------------------


def _members(archive: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    return {member.name.removeprefix("./"): member for member in archive.getmembers()}


def _read(archive: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str) -> bytes:
    file = archive.extractfile(members[name])
    if file is None:
        raise RuntimeError(f"{name} is not a file in the archive")
    return file.read()


def _sha256(archive: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    file = archive.extractfile(member)
    if file is None:
        raise RuntimeError(f"{member.name} is not a file in the archive")
    digest = hashlib.sha256()
    while chunk := file.read(COPY_CHUNK):
        digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _paths(archive: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> tuple[str, list[str]]:
    """The config's and the layers' member names: from manifest.json, else from the OCI index."""
    if "manifest.json" in members:
        entry: dict[str, Any] = json.loads(_read(archive, members, "manifest.json"))[0]
        return entry["Config"], list(entry["Layers"])
    index = json.loads(_read(archive, members, "index.json"))
    manifest = json.loads(_read(archive, members, _blob_name(index["manifests"][0]["digest"])))
    return _blob_name(manifest["config"]["digest"]), [
        _blob_name(layer["digest"]) for layer in manifest["layers"]
    ]


def verify_archive(path: Path, config_digest: str, layer_digests: list[str]) -> None:
    """Hash every blob of the pulled archive at ``path``: the config must hash to
    ``config_digest`` and the layers, in order, to ``layer_digests`` (stored uncompressed)."""
    with tarfile.open(path) as archive:
        members = _members(archive)
        config_name, layer_names = _paths(archive, members)
        found = [_sha256(archive, members[name]) for name in [config_name, *layer_names]]
    expected = [config_digest, *layer_digests]
    if found != expected:
        raise RuntimeError(f"{path}: blobs hash to {found}, expected {expected}")

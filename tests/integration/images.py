"""Build real image archives with umoci + skopeo, and check pushed images with skopeo.

Archives are built from small files found on the machine (``/etc/os-release``,
``/bin/true``) plus generated text files, layered with ``umoci unpack``/``umoci
repack`` and exported with ``skopeo copy`` to ``docker-archive:`` or
``oci-archive:``. Verification pulls an image back with ``skopeo copy ... dir:``
and checks every blob digest, size and layer ``diff_id`` independently.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.system_tools import find_binary, require_binary

DEFAULT_REFERENCE = "example.com/harness/demo:1.0"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
INDEX_MEDIA_TYPES = frozenset({DOCKER_MANIFEST_LIST, OCI_INDEX})

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

_CHUNK = 1 << 20
_SKOPEO_TIMEOUT = 120
_UMOCI_TIMEOUT = 60


@dataclass(frozen=True)
class VerifiedImage:
    """What :func:`verify_pushed_image` found and checked.

    For an index or manifest list, ``config_digest`` is None, ``layer_digests`` and
    ``diff_ids`` are empty and each child manifest is in ``children``.
    """

    manifest_digest: str
    manifest_media_type: str
    config_digest: str | None
    layer_digests: tuple[str, ...]
    diff_ids: tuple[str, ...]
    layer_media_types: tuple[str, ...] = ()
    children: tuple[VerifiedImage, ...] = ()
    unchecked_diff_ids: tuple[str, ...] = ()


# -- running tools ---------------------------------------------------------------


def _run(argv: Sequence[str], *, timeout: float, cwd: Path | None = None) -> str:
    """Run a command, returning stdout; raise with stdout/stderr on failure."""
    completed = subprocess.run(
        list(argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"command failed with status {completed.returncode}: {' '.join(argv)}\n"
            f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
        )
    return completed.stdout


def _skopeo(*args: str) -> str:
    return _run(
        [require_binary("skopeo"), "--insecure-policy", *args],
        timeout=_SKOPEO_TIMEOUT,
    )


def _umoci(*args: str) -> str:
    return _run([require_binary("umoci"), *args], timeout=_UMOCI_TIMEOUT)


def docker_ref(registry_host: str, repository: str, reference: str) -> str:
    """``docker://HOST/REPO:TAG`` or ``docker://HOST/REPO@DIGEST``."""
    separator = "@" if ":" in reference else ":"
    return f"docker://{registry_host}/{repository}{separator}{reference}"


def _creds_args(flag: str, creds: str | None) -> list[str]:
    return [] if creds is None else [f"{flag}={creds}"]


# -- building archives ---------------------------------------------------------


def _layer_files(index: int, workdir: Path) -> list[tuple[Path, str]]:
    """(source file, path inside the image) pairs for layer ``index``."""
    files: list[tuple[Path, str]] = []
    if index == 0:
        os_release = Path("/etc/os-release")
        if os_release.is_file():
            files.append((os_release, "etc/os-release"))
    elif index == 1:
        true_binary = Path(shutil.which("true") or "/bin/true")
        if true_binary.is_file():
            files.append((true_binary, "opt/demo/bin/true"))
    generated = workdir / f"layer-{index}.txt"
    generated.write_text(
        "".join(f"layer {index} line {line}: registry harness test data\n" for line in range(64))
    )
    files.append((generated, f"opt/demo/layer-{index}.txt"))
    return files


def _build_oci_layout(workdir: Path, *, layers: int) -> str:
    """Build an image in an OCI layout under ``workdir``; return the ``oci:`` source."""
    layout = workdir / "layout"
    bundle = workdir / "bundle"
    image = f"{layout}:build"
    _umoci("init", "--layout", str(layout))
    _umoci("new", "--image", image)
    if layers > 0:
        _umoci("unpack", "--rootless", "--image", image, str(bundle))
        rootfs = bundle / "rootfs"
        for index in range(layers):
            for source, target in _layer_files(index, workdir):
                destination = rootfs / target
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)
            _umoci(
                "repack",
                "--refresh-bundle",
                "--history.created_by",
                f"harness layer {index}",
                "--image",
                image,
                str(bundle),
            )
    _umoci(
        "config",
        "--image",
        image,
        "--config.entrypoint",
        "/opt/demo/bin/true",
        "--config.cmd",
        "harness-arg",
        "--config.env",
        "PATH=/opt/demo/bin:/usr/bin:/bin",
        "--config.env",
        "HARNESS=1",
        "--config.workingdir",
        "/opt/demo",
        "--config.label",
        "org.opencontainers.image.title=registry-harness-demo",
        "--config.label",
        "org.example.harness.layers=" + str(layers),
        "--author",
        "registry harness",
        "--history.created_by",
        "harness config",
    )
    return f"oci:{image}"


def _build_archive(dest: Path, transport: str, reference: str, layers: int) -> Path:
    if layers < 0:
        raise ValueError("layers must be >= 0")
    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="harness-image-") as tmp:
        source = _build_oci_layout(Path(tmp), layers=layers)
        _skopeo("copy", source, f"{transport}:{dest}:{reference}")
    return dest


def build_docker_archive(
    dest: Path, *, reference: str = DEFAULT_REFERENCE, layers: int = 2
) -> Path:
    """Build a real image and write it as a skopeo ``docker-archive`` tar at ``dest``."""
    return _build_archive(dest, "docker-archive", reference, layers)


def build_oci_archive(dest: Path, *, reference: str = DEFAULT_REFERENCE, layers: int = 2) -> Path:
    """Build a real image and write it as an ``oci-archive`` tar at ``dest``.

    The ``org.opencontainers.image.ref.name`` annotation is set to ``reference``.
    """
    return _build_archive(dest, "oci-archive", reference, layers)


# -- registry side -------------------------------------------------------------


def skopeo_push_archive(
    archive: Path,
    registry_host: str,
    repository: str,
    tag: str,
    *,
    creds: str | None = None,
    transport: str = "docker-archive",
) -> None:
    """Push an archive with ``skopeo copy`` to a plain-HTTP registry.

    ``transport`` is the skopeo source transport: ``docker-archive`` or ``oci-archive``.
    """
    _skopeo(
        "copy",
        "--dest-tls-verify=false",
        *_creds_args("--dest-creds", creds),
        f"{transport}:{archive.resolve()}",
        docker_ref(registry_host, repository, tag),
    )


def skopeo_inspect(
    registry_host: str,
    repository: str,
    reference: str,
    *,
    raw: bool = False,
    config: bool = False,
    creds: str | None = None,
) -> Any:
    """Run ``skopeo inspect`` (optionally ``--raw``/``--config``) and parse its JSON."""
    flags = [flag for flag, wanted in (("--raw", raw), ("--config", config)) if wanted]
    output = _skopeo(
        "inspect",
        "--tls-verify=false",
        *_creds_args("--creds", creds),
        *flags,
        docker_ref(registry_host, repository, reference),
    )
    return json.loads(output)


def _sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return _sha256_reader(handle.read)


def _sha256_reader(read: Callable[[int], bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: read(_CHUNK), b""):
        digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _zstd_digest(path: Path) -> str | None:
    """sha256 of a zstd file decompressed by the ``zstd`` binary; None if it is missing."""
    binary = find_binary("zstd")
    if binary is None:
        return None
    with subprocess.Popen(
        [binary, "-d", "-c", "-q", str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as process:
        assert process.stdout is not None
        digest = _sha256_reader(process.stdout.read)
    if process.returncode != 0:
        raise AssertionError(f"zstd could not decompress {path.name} (status {process.returncode})")
    return digest


def _compression_of(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


def _expected_compression(media_type: str) -> str | None:
    """Compression implied by a layer media type, or None when it says nothing."""
    if media_type.endswith(("+gzip", ".tar.gzip")):
        return "gzip"
    if media_type.endswith("+zstd"):
        return "zstd"
    if media_type.endswith((".tar", ".diff.tar")):
        return "none"
    return None


def _uncompressed_digest(path: Path, compression: str) -> str | None:
    """sha256 of the uncompressed layer, or None if it cannot be decompressed here."""
    if compression == "gzip":
        with gzip.open(path, "rb") as stream:
            return _sha256_reader(stream.read)
    if compression == "zstd":
        return _zstd_digest(path)
    return _sha256_file(path)


def _blob_path(directory: Path, digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    path = directory / hexdigest
    if algorithm != "sha256" or not path.is_file():
        raise AssertionError(f"blob {digest} missing from the copied image")
    return path


def _check_blob(directory: Path, descriptor: dict[str, Any], what: str) -> Path:
    digest = descriptor.get("digest")
    if not isinstance(digest, str):
        raise AssertionError(f"{what}: descriptor has no digest: {descriptor!r}")
    path = _blob_path(directory, digest)
    actual = _sha256_file(path)
    if actual != digest:
        raise AssertionError(f"{what}: blob content hashes to {actual}, manifest says {digest}")
    size = descriptor.get("size")
    if size != path.stat().st_size:
        raise AssertionError(
            f"{what} {digest}: manifest size {size!r} != blob size {path.stat().st_size}"
        )
    return path


def _media_type_of(manifest: dict[str, Any]) -> str:
    media_type = manifest.get("mediaType")
    if isinstance(media_type, str):
        return media_type
    return OCI_INDEX if "manifests" in manifest else OCI_MANIFEST


def _verify_manifest(directory: Path, manifest_bytes: bytes, rootless: bool) -> VerifiedImage:
    manifest_digest = "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()
    manifest: dict[str, Any] = json.loads(manifest_bytes)
    media_type = _media_type_of(manifest)
    if manifest.get("schemaVersion") != 2:
        raise AssertionError(f"manifest {manifest_digest} is not schemaVersion 2: {manifest!r}")

    if media_type in INDEX_MEDIA_TYPES:
        children: list[VerifiedImage] = []
        for entry in manifest.get("manifests") or []:
            child_digest = entry["digest"]
            child_path = directory / (child_digest.partition(":")[2] + ".manifest.json")
            if not child_path.is_file():
                raise AssertionError(f"child manifest {child_digest} missing from the copy")
            child_bytes = child_path.read_bytes()
            if len(child_bytes) != entry.get("size"):
                raise AssertionError(
                    f"child manifest {child_digest}: index size {entry.get('size')!r} "
                    f"!= {len(child_bytes)}"
                )
            child = _verify_manifest(directory, child_bytes, rootless)
            if child.manifest_digest != child_digest:
                raise AssertionError(
                    f"child manifest hashes to {child.manifest_digest}, index says {child_digest}"
                )
            children.append(child)
        return VerifiedImage(
            manifest_digest=manifest_digest,
            manifest_media_type=media_type,
            config_digest=None,
            layer_digests=(),
            diff_ids=(),
            children=tuple(children),
        )

    config_descriptor = manifest.get("config")
    if not isinstance(config_descriptor, dict):
        raise AssertionError(f"manifest {manifest_digest} has no config descriptor")
    config_path = _check_blob(directory, config_descriptor, "config")
    config: dict[str, Any] = json.loads(config_path.read_bytes())
    rootfs = config.get("rootfs") or {}
    diff_ids: list[str] = list(rootfs.get("diff_ids") or [])
    layers: list[dict[str, Any]] = list(manifest.get("layers") or [])
    if rootless and "diff_ids" in rootfs:
        raise AssertionError(f"the config of {manifest_digest} records diff_ids after all")
    if not rootless and len(diff_ids) != len(layers):
        raise AssertionError(
            f"manifest {manifest_digest} lists {len(layers)} layers but the config has "
            f"{len(diff_ids)} diff_ids"
        )
    recorded: list[str | None] = [None] * len(layers) if rootless else [*diff_ids]

    unchecked: list[str] = []
    for position, (layer, diff_id) in enumerate(zip(layers, recorded, strict=True)):
        what = f"layer {position}"
        path = _check_blob(directory, layer, what)
        compression = _compression_of(path)
        layer_type = str(layer.get("mediaType", ""))
        expected = _expected_compression(layer_type)
        if expected is not None and expected != compression:
            raise AssertionError(
                f"{what} {layer['digest']}: media type {layer_type} but the blob is "
                f"{compression}-compressed"
            )
        if diff_id is None:
            continue  # a rootless image's layer: its digest and size are all there is
        uncompressed = _uncompressed_digest(path, compression)
        if uncompressed is None:
            unchecked.append(diff_id)
        elif uncompressed != diff_id:
            raise AssertionError(
                f"{what} {layer['digest']}: uncompressed content hashes to {uncompressed}, "
                f"config rootfs.diff_ids[{position}] is {diff_id}"
            )

    return VerifiedImage(
        manifest_digest=manifest_digest,
        manifest_media_type=media_type,
        config_digest=str(config_descriptor["digest"]),
        layer_digests=tuple(str(layer["digest"]) for layer in layers),
        diff_ids=tuple(diff_ids),
        layer_media_types=tuple(str(layer.get("mediaType", "")) for layer in layers),
        unchecked_diff_ids=tuple(unchecked),
    )


def verify_pushed_image(
    registry_host: str,
    repository: str,
    reference: str,
    *,
    creds: str | None = None,
    rootless: bool = False,
) -> VerifiedImage:
    """Pull ``HOST/REPO:REF`` with skopeo and check digests, sizes and diff_ids.

    ``rootless`` is for images whose config records no ``rootfs.diff_ids`` (registries take
    them): their layers are checked by digest, size and compression only.

    Raises AssertionError describing the first mismatch found.
    """
    with tempfile.TemporaryDirectory(prefix="harness-verify-") as tmp:
        directory = Path(tmp) / "image"
        _skopeo(
            "copy",
            "--all",
            "--src-tls-verify=false",
            *_creds_args("--src-creds", creds),
            docker_ref(registry_host, repository, reference),
            f"dir:{directory}",
        )
        manifest_bytes = (directory / "manifest.json").read_bytes()
        verified = _verify_manifest(directory, manifest_bytes, rootless)
    if reference.startswith("sha256:") and verified.manifest_digest != reference:
        raise AssertionError(
            f"manifest fetched by digest {reference} hashes to {verified.manifest_digest}"
        )
    return verified

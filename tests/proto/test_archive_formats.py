"""Format detection, as a property: whatever layout an image is written in, read it back.

Hypothesis builds an image (layers of random bytes, some gzip-compressed), writes it as a
legacy `docker save`, a skopeo `docker-archive`, a docker 25+ save (OCI layout beside
`manifest.json`) or an `oci-archive`, in a random tar dialect and member order, maybe with `./`
prefixes and maybe compressed as a whole, and checks that the reader finds exactly that image.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import tarfile
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from registry_proto import Request, Response
from registry_proto._archive import read_archive
from registry_proto._manifest import OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_MANIFEST
from registry_proto.testing import PureDriver

PATH = "archive.tar"
FORMATS = ("legacy", "docker-archive", "docker25", "oci-archive")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Layer:
    raw: bytes  # the uncompressed tar stream: its digest is the diff_id
    stored: bytes  # the bytes in the archive, maybe gzip

    @property
    def compressed(self) -> bool:
        return self.stored is not self.raw


@dataclass(frozen=True)
class Image:
    layers: tuple[Layer, ...]
    tag: str
    config: bytes


@st.composite
def images(draw: st.DrawFn) -> Image:
    contents = draw(st.lists(st.binary(max_size=700), min_size=1, max_size=4))
    layers = []
    for number, content in enumerate(contents):
        raw = layer_tar(f"layer-{number}/file.bin", content)
        compress = draw(st.booleans())
        layers.append(Layer(raw, gzip.compress(raw, mtime=0) if compress else raw))
    config = json.dumps(
        {
            "architecture": draw(st.sampled_from(["amd64", "arm64"])),
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [sha256(layer.raw) for layer in layers]},
        }
    ).encode()
    name = draw(st.from_regex(r"[a-z][a-z0-9]{0,6}(/[a-z0-9]{1,6})?", fullmatch=True))
    return Image(tuple(layers), f"{name}:v{draw(st.integers(0, 99))}", config)


def layer_tar(name: str, content: bytes) -> bytes:
    """A layer as images hold them: a tar stream of files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as layer:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        layer.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def members(image: Image, layout: str) -> dict[str, bytes]:
    """The files of `image` written in `layout`."""
    config_hex = sha256(image.config).removeprefix("sha256:")
    files: dict[str, bytes] = {}
    descriptors = [
        {
            "mediaType": OCI_LAYER_GZIP if layer.compressed else OCI_LAYER_TAR,
            "digest": sha256(layer.stored),
            "size": len(layer.stored),
        }
        for layer in image.layers
    ]
    if layout in ("docker25", "oci-archive"):
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": sha256(image.config),
                    "size": len(image.config),
                },
                "layers": descriptors,
            }
        ).encode()
        files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
        files[f"blobs/sha256/{config_hex}"] = image.config
        files["blobs/sha256/" + sha256(manifest).removeprefix("sha256:")] = manifest
        for layer in image.layers:
            files["blobs/sha256/" + sha256(layer.stored).removeprefix("sha256:")] = layer.stored
        annotation = {"io.containerd.image.name": image.tag}
        files["index.json"] = json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": OCI_MANIFEST,
                        "digest": sha256(manifest),
                        "size": len(manifest),
                        "annotations": annotation,
                    }
                ],
            }
        ).encode()
        if layout == "docker25":
            layer_names = [
                "blobs/sha256/" + sha256(layer.stored).removeprefix("sha256:")
                for layer in image.layers
            ]
            files["manifest.json"] = json.dumps(
                [
                    {
                        "Config": f"blobs/sha256/{config_hex}",
                        "RepoTags": [image.tag],
                        "Layers": layer_names,
                    }
                ]
            ).encode()
        return files
    layer_names = []
    for number, layer in enumerate(image.layers):
        if layout == "legacy":
            name = f"{number:064x}/layer.tar"
        else:  # skopeo: layers at the top, named by digest, with legacy symlinks beside them
            name = sha256(layer.stored).removeprefix("sha256:") + ".tar"
        files[name] = layer.stored
        layer_names.append(name)
    files[f"{config_hex}.json"] = image.config
    files["manifest.json"] = json.dumps(
        [{"Config": f"{config_hex}.json", "RepoTags": [image.tag], "Layers": layer_names}]
    ).encode()
    return files


def tar_bytes(files: dict[str, bytes], order: list[int], dialect: int, dot: bool) -> bytes:
    buffer = io.BytesIO()
    names = list(files)
    with tarfile.open(fileobj=buffer, mode="w", format=dialect) as archive:
        for index in order:
            name = names[index]
            info = tarfile.TarInfo(("./" if dot else "") + name)
            info.size = len(files[name])
            archive.addfile(info, io.BytesIO(files[name]))
    return buffer.getvalue()


COMPRESSORS: dict[str | None, Callable[[bytes], bytes]] = {
    None: lambda data: data,
    "gzip": lambda data: gzip.compress(data, mtime=0),
    "xz": lzma.compress,
    "bzip2": bz2.compress,
}


@settings(max_examples=150)
@given(
    image=images(),
    layout=st.sampled_from(FORMATS),
    dialect=st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]),
    dot=st.booleans(),
    compression=st.sampled_from(list(COMPRESSORS)),
    data=st.data(),
)
def test_every_layout_reads_back_the_same_image(
    image: Image, layout: str, dialect: int, dot: bool, compression: str | None, data: st.DataObject
) -> None:
    files = members(image, layout)
    order = data.draw(st.permutations(range(len(files))))
    blob = COMPRESSORS[compression](tar_bytes(files, list(order), dialect, dot))

    archive = PureDriver(no_network, files={PATH: blob}).run(read_archive(PATH))

    expected_format = {
        "legacy": "docker-archive",
        "docker-archive": "docker-archive",
        "docker25": "docker-oci-archive",
        "oci-archive": "oci-archive",
    }[layout]
    assert archive.format == expected_format
    assert archive.compression == compression
    assert archive.repo_tags == (image.tag,)
    (found,) = archive.images
    assert found.config == image.config
    assert [layer.diff_id for layer in found.layers] == [
        sha256(layer.raw) for layer in image.layers
    ]
    assert [layer.descriptor.digest for layer in found.layers] == [
        sha256(layer.stored) for layer in image.layers
    ]
    assert [layer.descriptor.media_type for layer in found.layers] == [
        OCI_LAYER_GZIP if layer.compressed else OCI_LAYER_TAR for layer in image.layers
    ]
    # Every layer is a slice of the (decompressed) tar holding exactly the stored bytes.
    tar = blob if compression is None else archive_bytes(archive.path, blob, compression)
    for layer, source in zip(image.layers, found.layers, strict=True):
        assert (
            tar[source.source.offset : source.source.offset + source.source.length] == layer.stored
        )


def no_network(request: Request) -> Response:
    raise AssertionError(f"reading an archive sent {request!r}")


def archive_bytes(path: str, blob: bytes, compression: str) -> bytes:
    """The decompressed tar the reader sliced (the pure driver keeps it under `path`)."""
    return {"gzip": gzip.decompress, "xz": lzma.decompress, "bzip2": bz2.decompress}[compression](
        blob
    )

"""The 1.x archive utilities on every archive format the reader takes, and on archives built
the way 1.x users' own tests build them."""

from __future__ import annotations

import hashlib
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

import registry_api_v2_client as compat
from registry_api_v2_client._inspect import EPOCH, timestamp
from registry_proto import TarReadError, ValidationError
from tests.proto.pure_support import (
    COMPRESSED,
    OCI_ONLY,
    PLAIN,
    Expected,
    fixture_path,
    make_blob_archive,
    make_tar,
)

# The first image of every fixture, as fixtures/SOURCES.md describes it.
FIRST_IMAGE: dict[str, Expected] = {
    **{name: images[0] for name, images in PLAIN.items()},
    **OCI_ONLY,
    **{name: images[0] for name, (_, images) in COMPRESSED.items()},
}
RECORDED: dict[str, list[str]] = {
    **{name: [t for image in images for t in image.repo_tags] for name, images in PLAIN.items()},
    **{name: [] for name in OCI_ONLY},
    **{
        name: [t for image in images for t in image.repo_tags]
        for name, (_, images) in COMPRESSED.items()
    },
}
# What 1.x users' tests write: a config with a platform only, a few arbitrary layer bytes.
MINIMAL_CONFIG = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
DUMMY_LAYER = b"dummy layer data"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def stored_members(path: str) -> dict[str, bytes]:
    """Every regular member of an archive, read by the standard library (any compression)."""
    with tarfile.open(path) as archive:
        found = {}
        for member in archive.getmembers():
            file = archive.extractfile(member)
            if file is not None:
                found[member.name.removeprefix("./")] = file.read()
        return found


@pytest.fixture
def minimal_tar(tmp_path: Path) -> str:
    """1.x's own `create_minimal_tar`: manifest.json, repositories, config and layer blobs."""
    path = tmp_path / "minimal.tar"
    path.write_bytes(
        make_blob_archive(
            MINIMAL_CONFIG,
            [DUMMY_LAYER],
            repo_tags=["test:minimal"],
            repositories={"test": {"minimal": sha256(MINIMAL_CONFIG)[7:]}},
        )
    )
    return str(path)


# -- every fixture ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FIRST_IMAGE))
def test_every_fixture_is_a_valid_archive(name: str) -> None:
    assert compat.validate_docker_tar(Path(fixture_path(name))) is True
    assert compat.validate_docker_tar(fixture_path(name)) is True


@pytest.mark.parametrize("name", sorted(FIRST_IMAGE))
def test_tags_of_every_fixture(name: str) -> None:
    tags = compat.extract_original_tags(fixture_path(name))
    assert tags == RECORDED[name]
    primary = compat.get_primary_tag(fixture_path(name))
    assert primary == (compat.parse_repository_tag(tags[0]) if tags else None)


@pytest.mark.parametrize("name", sorted(FIRST_IMAGE))
def test_manifest_of_every_fixture(name: str) -> None:
    manifest = compat.get_tar_manifest(Path(fixture_path(name)))
    members = stored_members(fixture_path(name))
    if "manifest.json" in members:
        assert manifest == json.loads(members["manifest.json"])
        return
    # A bare OCI layout: the entries docker would write, naming members that are there.
    assert manifest
    for entry in manifest:
        assert entry["RepoTags"] == []
        for blob in [entry["Config"], *entry["Layers"]]:
            assert sha256(members[blob]) == "sha256:" + blob.rpartition("/")[2]


@pytest.mark.parametrize("name", sorted(FIRST_IMAGE))
def test_inspect_every_fixture(name: str) -> None:
    expected = FIRST_IMAGE[name]
    found = compat.inspect_docker_tar(Path(fixture_path(name)))
    assert found.repo_tags == list(expected.repo_tags)
    assert f"{found.os}/{found.architecture}" == "/".join(expected.platform.split("/")[:2])
    assert (found.config.os, found.config.architecture) == (found.os, found.architecture)
    assert len(found.layers) == expected.layers
    config = json.loads(stored_members(fixture_path(name))[_config_member(name, found.id)])
    # `id` is the digest of the config as stored, which _config_member found by it.
    assert found.rootfs_layers == config["rootfs"]["diff_ids"] == found.config.diff_ids
    assert found.size == found.virtual_size == sum(layer.size for layer in found.layers)
    assert found.created == timestamp(config.get("created"))
    assert found.created.tzinfo is not None
    assert found.config.env == config.get("config", {}).get("Env", [])


def _config_member(name: str, digest: str) -> str:
    """The member holding the config with `digest`: legacy `<hex>.json` or a blob."""
    for member, data in stored_members(fixture_path(name)).items():
        if sha256(data) == digest:
            return member
    raise AssertionError(f"no member of {name} hashes to {digest}")


# -- archives built the way 1.x users' tests build them --------------------------------------


def test_a_minimal_test_archive(minimal_tar: str) -> None:
    assert compat.extract_original_tags(minimal_tar) == ["test:minimal"]
    assert compat.get_primary_tag(minimal_tar) == ("test", "minimal")
    repo, tag = compat.get_primary_tag(minimal_tar) or ("", "")
    assert (repo, tag) == ("test", "minimal")
    assert compat.validate_docker_tar(Path(minimal_tar)) is True
    (entry,) = compat.get_tar_manifest(Path(minimal_tar))
    assert entry["Config"] == f"blobs/sha256/{sha256(MINIMAL_CONFIG)[7:]}"
    assert entry["Layers"] == [f"blobs/sha256/{sha256(DUMMY_LAYER)[7:]}"]
    found = compat.inspect_docker_tar(Path(minimal_tar))
    assert found.id == sha256(MINIMAL_CONFIG)
    assert (found.architecture, found.os, found.repo_tags) == ("amd64", "linux", ["test:minimal"])
    assert found.created == EPOCH  # the config records none
    assert found.layers == [
        compat.LayerInfo(digest=sha256(DUMMY_LAYER), size=16, media_type="application/octet-stream")
    ]
    assert (found.rootfs_layers, found.config.diff_ids, found.size) == ([], [], 16)


def test_a_test_archive_with_created_and_history(tmp_path: Path) -> None:
    config = {
        "architecture": "arm64",
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "author": "someone",
        "config": {"Env": ["A=1"], "Cmd": ["sh"], "WorkingDir": "/w", "Labels": {"k": "v"}},
        "history": [
            {"created": "2024-01-01T00:00:00.123456789Z", "created_by": "ADD x /"},
            {"created_by": "ENV A=1", "empty_layer": True},
        ],
    }
    path = tmp_path / "created.tar"
    path.write_bytes(make_blob_archive(json.dumps(config).encode(), [DUMMY_LAYER]))
    found = compat.inspect_docker_tar(path)
    assert found.created == datetime(2024, 1, 1, tzinfo=UTC)
    assert (found.author, found.config.cmd, found.config.env) == ("someone", ["sh"], ["A=1"])
    assert (found.config.working_dir, found.config.labels) == ("/w", {"k": "v"})
    (layer,) = found.layers
    assert layer.created == datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)
    assert layer.created_by == "ADD x /"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2023-05-04T17:37:03.872958712Z", datetime(2023, 5, 4, 17, 37, 3, 872958, tzinfo=UTC)),
        ("2024-01-01T00:00:00", datetime(2024, 1, 1, tzinfo=UTC)),
        ("yesterday", None),
        (5, None),
    ],
)
def test_timestamps(text: object, expected: datetime | None) -> None:
    assert timestamp(text) == expected


def test_tags_need_no_config(tmp_path: Path) -> None:
    # 1.x read only manifest.json: an archive whose images cannot be read still shows tags.
    manifest = [{"Config": "missing.json", "RepoTags": ["app:1"], "Layers": []}]
    path = tmp_path / "tags-only.tar"
    path.write_bytes(make_tar({"manifest.json": json.dumps(manifest).encode()}))
    assert compat.extract_original_tags(str(path)) == ["app:1"]
    assert compat.get_primary_tag(str(path)) == ("app", "1")
    assert compat.validate_docker_tar(path) is False
    with pytest.raises(TarReadError, match="missing"):
        compat.inspect_docker_tar(path)


def test_a_registry_host_stays_in_the_primary_tag(tmp_path: Path) -> None:
    path = tmp_path / "hosted.tar"
    archive = make_blob_archive(MINIMAL_CONFIG, [DUMMY_LAYER], repo_tags=["localhost:5000/x:1"])
    path.write_bytes(archive)
    assert compat.get_primary_tag(str(path)) == ("localhost:5000/x", "1")


@pytest.mark.parametrize(
    "data",
    [b"not a tar at all" * 100, make_tar({"hello.txt": b"hi"}), make_tar({"manifest.json": b"{"})],
    ids=["bytes", "no-manifest", "broken-manifest"],
)
def test_what_is_no_archive(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x.tar"
    path.write_bytes(data)
    assert compat.validate_docker_tar(path) is False
    assert compat.extract_original_tags(str(path)) == []
    assert compat.get_primary_tag(str(path)) is None
    with pytest.raises((ValidationError, TarReadError)):
        compat.get_tar_manifest(path)
    with pytest.raises((ValidationError, TarReadError)):
        compat.inspect_docker_tar(path)


def test_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.tar"
    for check in (compat.validate_docker_tar, compat.get_tar_manifest, compat.inspect_docker_tar):
        with pytest.raises(ValidationError, match="does not exist"):
            check(missing)
    for read in (compat.extract_original_tags, compat.get_primary_tag):
        with pytest.raises(TarReadError, match="does not exist"):
            read(str(missing))

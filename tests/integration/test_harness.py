"""Tests proving the real-registry harness itself works."""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import io
import json
import socket
import subprocess
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import yaml

import tests.integration.registry_server as registry_server_module
from tests.integration.images import (
    DOCKER_MANIFEST,
    OCI_MANIFEST,
    build_docker_archive,
    skopeo_inspect,
    skopeo_push_archive,
    verify_pushed_image,
)
from tests.integration.registry_server import (
    BASIC_REALM,
    RegistryConfig,
    RegistryFactory,
    RegistryServer,
    RegistryStartError,
)
from tests.integration.system_tools import find_binary

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Reply:
    """A minimal HTTP response."""

    status: int
    headers: Message
    body: bytes


def http(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Send one request with urllib, returning the reply whatever its status."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as err:
        with contextlib.closing(err):
            return Reply(err.code, err.headers, err.read())


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload_blob(server: RegistryServer, repository: str, data: bytes) -> str:
    """Upload ``data`` with POST + monolithic PUT; return its digest."""
    digest = sha256_digest(data)
    started = http("POST", f"{server.url}/v2/{repository}/blobs/uploads/")
    assert started.status == 202, started
    location = urllib.parse.urljoin(server.url, started.headers["Location"])
    separator = "&" if "?" in location else "?"
    finished = http(
        "PUT",
        f"{location}{separator}digest={digest}",
        body=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert finished.status == 201, finished
    return digest


def archive_image(archive: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (manifest.json entry, config) of a single-image docker-archive."""
    with tarfile.open(archive) as tar:
        entries = json.loads(_member_bytes(tar, "manifest.json"))
        assert len(entries) == 1
        config = json.loads(_member_bytes(tar, entries[0]["Config"]))
    return entries[0], config


def _member_bytes(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.extractfile(name)
    assert member is not None, name
    with member:
        return member.read()


# -- server lifecycle ------------------------------------------------------------


def test_registry_answers_v2_with_api_version_header(registry_server: RegistryServer) -> None:
    reply = http("GET", f"{registry_server.url}/v2/")
    assert reply.status == 200
    assert reply.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert json.loads(reply.body) == {}
    assert registry_server.url == f"http://{registry_server.host}"
    assert registry_server.storage_dir.is_dir()
    assert registry_server.log_path.is_file()


def test_every_test_here_is_marked_integration(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("integration") is not None


def test_stop_removes_temporary_directory() -> None:
    server = RegistryServer().start()
    workdir = server.workdir
    assert server.running
    assert http("GET", f"{server.url}/v2/").status == 200
    server.stop()
    assert not server.running
    assert not workdir.exists()
    server.stop()


def test_servers_get_distinct_ports(registry_factory: RegistryFactory) -> None:
    first = registry_factory(RegistryConfig())
    second = registry_factory(RegistryConfig())
    assert first.port != second.port
    assert http("GET", f"{second.url}/v2/").status == 200


def test_relative_urls_option(registry_factory: RegistryFactory) -> None:
    absolute = registry_factory(RegistryConfig())
    relative = registry_factory(RegistryConfig(relative_urls=True))
    abs_location = http("POST", f"{absolute.url}/v2/demo/blobs/uploads/").headers["Location"]
    rel_location = http("POST", f"{relative.url}/v2/demo/blobs/uploads/").headers["Location"]
    assert abs_location.startswith(f"{absolute.url}/v2/demo/blobs/uploads/")
    assert rel_location.startswith("/v2/demo/blobs/uploads/")


# -- images pushed by skopeo --------------------------------------------------------


def test_docker_archive_is_a_skopeo_docker_archive(docker_archive: Path) -> None:
    entry, config = archive_image(docker_archive)
    assert entry["RepoTags"] == ["example.com/harness/demo:1.0"]
    assert len(entry["Layers"]) == 2
    assert len(config["rootfs"]["diff_ids"]) == 2
    assert config["config"]["Entrypoint"] == ["/opt/demo/bin/true"]
    with tarfile.open(docker_archive) as tar:
        for position, layer_name in enumerate(entry["Layers"]):
            layer = _member_bytes(tar, layer_name)
            assert sha256_digest(layer) == config["rootfs"]["diff_ids"][position]
            with tarfile.open(fileobj=io.BytesIO(layer)) as layer_tar:
                assert layer_tar.getnames()
    assert docker_archive.stat().st_size < 2 * 1024 * 1024


def test_skopeo_push_then_verify(registry_factory: RegistryFactory, docker_archive: Path) -> None:
    # A registry of its own: skopeo's blob-info cache would otherwise reuse an uncompressed
    # copy of a layer another test pushed, under a gzip media type.
    registry_server = registry_factory(RegistryConfig())
    skopeo_push_archive(docker_archive, registry_server.host, "harness/pushed", "1.0")

    verified = verify_pushed_image(registry_server.host, "harness/pushed", "1.0")

    _, config = archive_image(docker_archive)
    assert verified.manifest_media_type == DOCKER_MANIFEST
    assert verified.diff_ids == tuple(config["rootfs"]["diff_ids"])
    assert len(verified.layer_digests) == 2
    assert verified.unchecked_diff_ids == ()
    inspected = skopeo_inspect(registry_server.host, "harness/pushed", "1.0")
    assert inspected["Digest"] == verified.manifest_digest
    raw = skopeo_inspect(registry_server.host, "harness/pushed", verified.manifest_digest, raw=True)
    assert raw["config"]["digest"] == verified.config_digest
    raw_config = skopeo_inspect(
        registry_server.host, "harness/pushed", "1.0", raw=True, config=True
    )
    assert raw_config == config
    by_digest = verify_pushed_image(
        registry_server.host, "harness/pushed", verified.manifest_digest
    )
    assert by_digest == verified


def test_oci_archive_push_and_verify(registry_server: RegistryServer, oci_archive: Path) -> None:
    skopeo_push_archive(
        oci_archive, registry_server.host, "harness/oci", "1.0", transport="oci-archive"
    )
    verified = verify_pushed_image(registry_server.host, "harness/oci", "1.0")
    assert verified.manifest_media_type == OCI_MANIFEST
    assert len(verified.diff_ids) == 2
    assert all(t.endswith("+gzip") for t in verified.layer_media_types)


def test_build_docker_archive_layer_count(tmp_path: Path) -> None:
    archive = build_docker_archive(tmp_path / "three.tar", reference="harness/three:x", layers=3)
    entry, config = archive_image(archive)
    assert entry["RepoTags"] == ["docker.io/harness/three:x"]
    assert len(config["rootfs"]["diff_ids"]) == 3


def test_verify_detects_wrong_diff_id(registry_server: RegistryServer) -> None:
    layer_tar = io.BytesIO()
    with tarfile.open(fileobj=layer_tar, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        payload = b"hello\n"
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    layer = gzip.compress(layer_tar.getvalue(), mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(b"not the layer")]},
        }
    ).encode()
    repository = "harness/broken"
    layer_digest = upload_blob(registry_server, repository, layer)
    config_digest = upload_blob(registry_server, repository, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": config_digest,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": layer_digest,
                }
            ],
        }
    ).encode()
    put = http(
        "PUT",
        f"{registry_server.url}/v2/{repository}/manifests/bad",
        body=manifest,
        headers={"Content-Type": DOCKER_MANIFEST},
    )
    assert put.status == 201, put

    with pytest.raises(AssertionError, match=r"rootfs\.diff_ids\[0\]"):
        verify_pushed_image(registry_server.host, repository, "bad")


# -- configuration variants --------------------------------------------------------


def test_delete_disabled_answers_405(
    registry_factory: RegistryFactory, docker_archive: Path
) -> None:
    server = registry_factory(RegistryConfig(delete_enabled=False))
    skopeo_push_archive(docker_archive, server.host, "harness/keep", "1.0")
    digest = skopeo_inspect(server.host, "harness/keep", "1.0")["Digest"]

    reply = http("DELETE", f"{server.url}/v2/harness/keep/manifests/{digest}")

    assert reply.status == 405
    assert json.loads(reply.body)["errors"][0]["code"] == "UNSUPPORTED"
    assert (
        http(
            "HEAD",
            f"{server.url}/v2/harness/keep/manifests/{digest}",
            headers={"Accept": DOCKER_MANIFEST},
        ).status
        == 200
    )


def test_delete_enabled_answers_202(
    registry_factory: RegistryFactory, docker_archive: Path
) -> None:
    server = registry_factory(RegistryConfig(delete_enabled=True))
    skopeo_push_archive(docker_archive, server.host, "harness/gone", "1.0")
    digest = skopeo_inspect(server.host, "harness/gone", "1.0")["Digest"]

    reply = http("DELETE", f"{server.url}/v2/harness/gone/manifests/{digest}")

    assert reply.status == 202


@pytest.fixture
def htpasswd_file(tmp_path: Path) -> Path:
    """A bcrypt htpasswd file for user ``user`` / password ``pass``."""
    htpasswd = find_binary("htpasswd")
    if htpasswd is None:
        pytest.fail("htpasswd (apache2-utils) is not installed; run scripts/install-system-deps.sh")
    line = subprocess.run(
        [htpasswd, "-Bbn", "user", "pass"], check=True, capture_output=True, text=True
    ).stdout.strip()
    path = tmp_path / "htpasswd"
    path.write_text(line + "\n")
    return path


def test_basic_auth(registry_factory: RegistryFactory, htpasswd_file: Path) -> None:
    server = registry_factory(RegistryConfig(htpasswd_path=htpasswd_file))
    url = f"{server.url}/v2/"

    anonymous = http("GET", url)
    assert anonymous.status == 401
    assert anonymous.headers["WWW-Authenticate"] == f'Basic realm="{BASIC_REALM}"'

    good = base64.b64encode(b"user:pass").decode()
    assert http("GET", url, headers={"Authorization": f"Basic {good}"}).status == 200

    bad = base64.b64encode(b"user:wrong").decode()
    assert http("GET", url, headers={"Authorization": f"Basic {bad}"}).status == 401


def test_basic_auth_with_skopeo(
    registry_factory: RegistryFactory, htpasswd_file: Path, docker_archive: Path
) -> None:
    server = registry_factory(RegistryConfig(htpasswd_path=htpasswd_file))
    skopeo_push_archive(docker_archive, server.host, "harness/private", "1.0", creds="user:pass")
    verified = verify_pushed_image(server.host, "harness/private", "1.0", creds="user:pass")
    assert len(verified.layer_digests) == 2
    with pytest.raises(RuntimeError, match=r"unauthorized|authentication required"):
        skopeo_inspect(server.host, "harness/private", "1.0")


def test_start_retries_when_port_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        taken = busy.getsockname()[1]
        ports = iter([taken, registry_server_module.free_port()])
        monkeypatch.setattr(registry_server_module, "free_port", lambda: next(ports))
        with RegistryServer() as server:
            assert server.port != taken
            assert http("GET", f"{server.url}/v2/").status == 200
            assert "address already in use" in server.read_log()


def test_extra_config_is_merged(registry_factory: RegistryFactory) -> None:
    extra = {"http": {"headers": {"X-Harness": ["merged"]}}}
    server = registry_factory(RegistryConfig(extra=extra))
    reply = http("GET", f"{server.url}/v2/")
    assert reply.status == 200
    assert reply.headers["X-Harness"] == "merged"
    rendered = yaml.safe_load(server.config_path.read_text())
    assert rendered["http"]["addr"] == server.host
    assert rendered["http"]["headers"] == {"X-Harness": ["merged"]}


def test_start_failure_reports_log_and_cleans_up() -> None:
    server = RegistryServer(RegistryConfig(extra={"log": {"level": "no-such-level"}}))
    with pytest.raises(RegistryStartError, match="no-such-level"):
        server.start()
    assert not server.running
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.workdir

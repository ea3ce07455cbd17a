"""The installed `regv2` command against real registries: every command, its output with and
without a terminal, and its exit codes and one-line messages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.cli.terminal import screen
from tests.fixture_archives import fixture_path
from tests.integration.cli.runner import TERMINAL_COLUMNS, Regv2
from tests.integration.images import skopeo_inspect, verify_pushed_image
from tests.integration.registry_server import (
    RegistryConfig,
    RegistryFactory,
    RegistryServer,
    free_port,
)

INDEX_FIXTURE = "c-containerd-store-busybox-arm64-attestation.tar"
TWO_IMAGES_FIXTURE = "e-docker-save-two-images-symlinked-layer.tar"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
SHORT_ID = re.compile(r"^[0-9a-f]{12}: ")


def short_ids(digests: tuple[str, ...] | list[str]) -> set[str]:
    return {digest.partition(":")[2][:12] for digest in digests}


# -- every command ---------------------------------------------------------------------------


def test_push_list_inspect_pull_and_push_back(
    regv2: Regv2, registry_server: RegistryServer, docker_archive: Path, tmp_path: Path
) -> None:
    host = registry_server.host
    image = f"{host}/cli/roundtrip:1.0"

    pushed = regv2("push", docker_archive, image)

    assert pushed.code == 0, pushed.stderr
    verified = verify_pushed_image(host, "cli/roundtrip", "1.0")
    digest = verified.manifest_digest
    assert pushed.stdout == f"{image}@{digest}\n"
    assert regv2("tags", f"{host}/cli/roundtrip").stdout == "1.0\n"
    assert "cli/roundtrip" in regv2("ls", host).stdout.splitlines()

    described = json.loads(regv2("inspect", "--json", image).stdout)
    assert described["digest"] == digest
    assert described["name"] == image
    assert described["config_digest"] == verified.config_digest
    assert [layer["digest"] for layer in described["layers"]] == list(verified.layer_digests)
    summary = regv2("inspect", image).stdout
    assert re.search(rf"^Digest: +{digest}$", summary, re.MULTILINE), summary
    assert re.search(r"^Platform: +linux/amd64$", summary, re.MULTILINE), summary
    assert f"Layers ({len(verified.layer_digests)}):" in summary
    for layer in verified.layer_digests:
        assert f"  {layer}  " in summary

    archive = tmp_path / "pulled.tar"
    pulled = regv2("pull", image, archive)
    assert pulled.code == 0, pulled.stderr
    assert pulled.stdout == f"{image}@{digest}\n"
    assert pulled.stderr.splitlines()[0] == f"Pulling {image}"
    assert "Download complete" in pulled.stderr  # one line per event, off a terminal
    assert f": digest: {digest}" in pulled.stderr
    pushed_back = regv2("push", "--quiet", archive, f"{host}/cli/roundtrip-back:2")
    assert pushed_back.stdout == f"{host}/cli/roundtrip-back:2@{digest}\n"
    assert pushed_back.stderr == ""


def test_python_m_registry_async_is_the_same_command(registry_server: RegistryServer) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "registry_async", "ping", registry_server.host],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"{registry_server.url}: registry/2.0, no login required\n"


def test_push_options_reach_the_registry(
    regv2: Regv2, registry_server: RegistryServer, docker_archive: Path
) -> None:
    host = registry_server.host
    pushed = regv2(
        "push",
        docker_archive,
        f"{host}/cli/options:gz",
        "--compression",
        "gzip",
        "--chunk-size",
        "4KiB",
        "--max-concurrency",
        "1",
    )
    assert pushed.code == 0, pushed.stderr
    verified = verify_pushed_image(host, "cli/options", "gz")
    assert pushed.stdout == f"{host}/cli/options:gz@{verified.manifest_digest}\n"
    assert all(media.endswith("+gzip") for media in verified.layer_media_types)


def test_push_original_and_all_tags(
    regv2: Regv2, registry_factory: RegistryFactory, oci_archive: Path
) -> None:
    registry = registry_factory(RegistryConfig())
    host = registry.host

    original = regv2("push", "-q", oci_archive, host, "--original-tags")
    assert original.code == 0, original.stderr
    digest = verify_pushed_image(host, "harness/demo", "1.0").manifest_digest
    assert original.stdout == f"{host}/harness/demo:1.0@{digest}\n"

    every = regv2("push", "-q", fixture_path(TWO_IMAGES_FIXTURE), host, "--all-tags")
    assert every.code == 0, every.stderr
    lines = every.stdout.splitlines()
    assert [line.partition("@")[0] for line in lines] == [
        f"{host}/bazel/v1/tarball:test_image_1",
        f"{host}/bazel/v1/tarball:test_image_3",
    ]
    for line in lines:
        reference, _, digest = line.partition("@")
        tag = reference.rpartition(":")[2]
        assert verify_pushed_image(host, "bazel/v1/tarball", tag).manifest_digest == digest
    assert sorted(regv2("tags", f"{host}/bazel/v1/tarball").stdout.splitlines()) == [
        "test_image_1",
        "test_image_3",
    ]
    assert regv2("ls", host).stdout.splitlines() == ["bazel/v1/tarball", "harness/demo"]
    refused = regv2("push", oci_archive, f"{host}/harness/demo:1.0", "--original-tags")
    assert refused.code == 2
    assert "without a path" in refused.error_line


def test_index_platforms_through_push_inspect_and_copy(
    regv2: Regv2, registry_server: RegistryServer, registry_factory: RegistryFactory
) -> None:
    host = registry_server.host
    image = f"{host}/cli/index:v3"
    pushed = regv2("push", "-q", fixture_path(INDEX_FIXTURE), image, "--all-platforms")
    assert pushed.code == 0, pushed.stderr
    index_digest = pushed.stdout.strip().partition("@")[2]

    described = json.loads(regv2("inspect", "--json", image).stdout)
    assert described["digest"] == index_digest
    assert described["media_type"] == OCI_INDEX
    assert "linux/arm64" in [entry["platform"] for entry in described["platforms"]]
    assert "Platforms (" in regv2("inspect", image).stdout
    arm = json.loads(regv2("inspect", "--json", "--platform", "linux/arm64", image).stdout)
    assert arm["platform"] == "linux/arm64"
    assert arm["layers"]

    other = registry_factory(RegistryConfig())
    whole = regv2("copy", "-q", image, f"{other.host}/copied/all:v3", "--all-platforms")
    assert whole.code == 0, whole.stderr
    assert whole.stdout == f"{other.host}/copied/all:v3@{index_digest}\n"
    assert skopeo_inspect(other.host, "copied/all", "v3", raw=True)["mediaType"] == OCI_INDEX
    one = regv2("copy", "-q", image, f"{other.host}/copied/one:arm64", "--platform", "linux/arm64")
    assert one.code == 0, one.stderr
    assert one.stdout == f"{other.host}/copied/one:arm64@{arm['digest']}\n"


def test_copy_within_a_registry_mounts_then_rm(
    regv2: Regv2, registry_server: RegistryServer, docker_archive: Path
) -> None:
    host = registry_server.host
    source = f"{host}/cli/copy-source:1"
    digest = regv2("push", "-q", docker_archive, source).stdout.strip().partition("@")[2]

    copied = regv2("copy", source, f"{host}/cli/copy-target")

    assert copied.code == 0, copied.stderr
    # Without a tag the destination is `latest`, as in docker.
    assert copied.stdout == f"{host}/cli/copy-target@{digest}\n"
    assert regv2("tags", f"{host}/cli/copy-target").stdout == "latest\n"
    verified = verify_pushed_image(host, "cli/copy-target", "latest")
    mounted = [line for line in copied.stderr.splitlines() if "Mounted from" in line]
    assert {line[:12] for line in mounted} == short_ids(
        [*verified.layer_digests, verified.config_digest or ""]
    )

    removed = regv2("rm", f"{host}/cli/copy-target:latest")
    assert removed.code == 0, removed.stderr
    assert removed.stdout == f"Deleted {host}/cli/copy-target:latest\n"
    gone = regv2("inspect", f"{host}/cli/copy-target:latest")
    assert gone.code == 3
    # The source is untouched.
    assert regv2("tags", f"{host}/cli/copy-source").stdout == "1\n"


def test_ping(regv2: Regv2, registry_server: RegistryServer) -> None:
    answer = regv2("ping", registry_server.host)
    assert answer.code == 0, answer.stderr
    assert answer.stdout == f"{registry_server.url}: registry/2.0, no login required\n"


# -- progress --------------------------------------------------------------------------------


def test_push_on_a_terminal_draws_bars_in_place(
    regv2: Regv2, registry_server: RegistryServer, docker_archive: Path
) -> None:
    host = registry_server.host
    run = regv2.in_terminal("push", docker_archive, f"{host}/cli/terminal:1")

    assert run.code == 0, run.stdout
    verified = verify_pushed_image(host, "cli/terminal", "1")
    blobs = short_ids([*verified.layer_digests, verified.config_digest or ""])
    output = run.stdout.replace("\r\n", "\n")
    # Bars were drawn, and lines were redrawn in place (cursor up, erase line).
    bars = re.findall(r"([0-9a-f]{12}): Pushing \[=*>? *\] [\d.]+ k?B/[\d.]+ k?B", output)
    assert set(bars) <= blobs
    assert set(bars) == short_ids(verified.layer_digests)  # the config is sent in one go
    assert re.search(r"\x1b\[\d+A", output)
    assert "\x1b[2K" in output
    # What stays on the screen: each blob once, pushed; then the digest, then the result.
    final = screen(output)
    assert final[0] == f"The push refers to repository [{host}/cli/terminal]"
    blob_lines = [line for line in final if SHORT_ID.match(line)]
    assert {line[:12] for line in blob_lines} == blobs
    assert all(re.fullmatch(r"[0-9a-f]{12}: Pushed [\d.]+ k?B", line) for line in blob_lines)
    assert final[-2:] == [
        f"cli/terminal:1: digest: {verified.manifest_digest}",
        f"{host}/cli/terminal:1@{verified.manifest_digest}",
    ]
    assert all(len(line) < TERMINAL_COLUMNS for line in final)


def test_push_without_a_terminal_writes_a_line_per_event(
    regv2: Regv2, registry_server: RegistryServer, docker_archive: Path
) -> None:
    host = registry_server.host
    first = regv2("push", docker_archive, f"{host}/cli/lines:1")
    assert first.code == 0, first.stderr
    verified = verify_pushed_image(host, "cli/lines", "1")
    blobs = short_ids([*verified.layer_digests, verified.config_digest or ""])

    assert "\x1b" not in first.stderr
    lines = first.stderr.splitlines()
    assert lines[0] == f"The push refers to repository [{host}/cli/lines]"
    assert lines[-1] == f"cli/lines:1: digest: {verified.manifest_digest}"
    pushed = [line for line in lines if re.fullmatch(r"[0-9a-f]{12}: Pushed [\d.]+ k?B", line)]
    assert sorted(line[:12] for line in pushed) == sorted(blobs)  # once each
    sending = [line for line in lines if ": Pushing " in line]
    assert {line[:12] for line in sending} == short_ids(verified.layer_digests)
    assert all(re.search(r"Pushing [\d.]+ k?B/[\d.]+ k?B \(\d+%\)$", line) for line in sending)

    again = regv2("push", docker_archive, f"{host}/cli/lines:1")
    assert again.code == 0, again.stderr
    skipped = [line for line in again.stderr.splitlines() if SHORT_ID.match(line)]
    assert sorted(skipped) == sorted(f"{blob}: Layer already exists" for blob in blobs)

    quiet = regv2("push", "--quiet", docker_archive, f"{host}/cli/lines:2")
    assert (quiet.code, quiet.stderr) == (0, "")
    assert quiet.stdout == f"{host}/cli/lines:2@{verified.manifest_digest}\n"


# -- failures: one line, and the documented exit code ----------------------------------------


def test_a_missing_tag_exits_with_3(
    regv2: Regv2, registry_server: RegistryServer, docker_archive: Path, tmp_path: Path
) -> None:
    host = registry_server.host
    regv2("push", "-q", docker_archive, f"{host}/cli/missing:1")
    for args in (
        ("inspect", f"{host}/cli/missing:nope"),
        ("pull", f"{host}/cli/missing:nope", tmp_path / "nope.tar"),
        ("copy", f"{host}/cli/missing:nope", f"{host}/cli/missing-copy:1"),
        ("rm", f"{host}/cli/missing:nope"),
        ("tags", f"{host}/cli/no-such-repository"),
    ):
        run = regv2(*args)
        assert run.code == 3, (args, run.stderr)
        assert "nope" in run.error_line or "no-such-repository" in run.error_line
        assert run.stdout == ""
    assert not (tmp_path / "nope.tar").exists()


def test_an_unreachable_registry_exits_with_5(regv2: Regv2, docker_archive: Path) -> None:
    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    for args in (
        ("ping", host),
        ("ls", host),
        ("push", docker_archive, f"{host}/cli/app:1"),
        ("inspect", f"{host}/cli/app:1"),
    ):
        run = regv2(*args)
        assert run.code == 5, (args, run.stderr)
        assert run.error_line.startswith("regv2: error: cannot reach the registry: ")
        assert host in run.error_line


def test_other_hosts_are_https_unless_told(
    regv2: Regv2, registry_server: RegistryServer, docker_archive: Path
) -> None:
    # `127.1` is 127.0.0.1 to the resolver, but not a name the loopback rule knows: a
    # registry elsewhere, as far as the scheme is concerned.
    host = f"127.1:{registry_server.port}"
    refused = regv2("ls", host)
    assert refused.code == 5
    assert "TLS" in refused.error_line or "SSL" in refused.error_line
    assert regv2("ls", f"http://{host}").code == 0
    # --tls-verify=false tries https, then falls back to plain http, as docker and skopeo do.
    insecure = regv2("push", "-q", "--tls-verify=false", docker_archive, f"{host}/cli/insecure:1")
    assert insecure.code == 0, insecure.stderr
    assert regv2("tags", "--insecure", f"{host}/cli/insecure").stdout == "1\n"


def test_a_broken_archive_exits_with_6(
    regv2: Regv2, registry_server: RegistryServer, docker_archive: Path, tmp_path: Path
) -> None:
    truncated = tmp_path / "truncated.tar"
    data = docker_archive.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"not an archive at all\n" * 100)
    for archive in (truncated, garbage, tmp_path / "missing.tar"):
        run = regv2("push", archive, f"{registry_server.host}/cli/broken:1")
        assert run.code == 6, (archive, run.stderr)
        assert str(archive) in run.error_line
    platform = regv2(
        "push", docker_archive, f"{registry_server.host}/cli/broken:1", "--platform", "linux/s390x"
    )
    assert platform.code == 6
    assert "linux/s390x" in platform.error_line
    assert regv2("tags", f"{registry_server.host}/cli/broken").code == 3  # nothing was pushed


def test_usage_errors_exit_with_2(regv2: Regv2, registry_server: RegistryServer) -> None:
    for args in (
        ("inspect", f"{registry_server.host}/Upper/Case"),
        ("tags", f"{registry_server.host}/cli/app:1"),
        ("copy", f"{registry_server.host}/a:1", f"{registry_server.host}/b@sha256:{'0' * 64}"),
        ("ls", "ftp://host.example"),
    ):
        run = regv2(*args)
        assert run.code == 2, (args, run.stderr)
        run.error_line  # noqa: B018 - asserts one line
    unknown = regv2("frobnicate")
    assert unknown.code == 2
    assert "invalid choice" in unknown.stderr


def test_debug_shows_the_traceback_and_logs(regv2: Regv2, registry_server: RegistryServer) -> None:
    quiet = regv2("inspect", f"{registry_server.host}/cli/nothing:1")
    assert "Traceback" not in quiet.stderr
    debug = regv2("--debug", "inspect", f"{registry_server.host}/cli/nothing:1")
    assert debug.code == 3
    assert "Traceback (most recent call last)" in debug.stderr
    assert "ManifestUnknown" in debug.stderr
    assert "regv2: INFO httpx: HTTP Request: GET" in debug.stderr
    assert debug.stderr.splitlines()[-1] == quiet.error_line

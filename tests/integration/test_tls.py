"""HTTPS registries: private CAs (``verify``), turning verification off, and mutual TLS
(``client_cert``) against distribution's ``http.tls.clientcas``."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

from registry_proto import ConnectFailure, RegistryError, TransportFailure, ValidationError
from tests.integration.adapters import ADAPTERS, call
from tests.integration.registry_server import RegistryConfig, RegistryServer
from tests.integration.system_tools import require_binary


@dataclass(frozen=True)
class Pki:
    """Files of a test CA, the registry's certificate, a client's, and an unrelated CA's."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    client_combined: Path  # certificate and key in one PEM file
    other_ca: Path
    other_client_cert: Path
    other_client_key: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca, other = trustme.CA(), trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    client = ca.issue_cert("client.test", common_name="test client")
    stranger = other.issue_cert("client.test", common_name="stranger")
    pki = Pki(
        ca=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
        client_combined=directory / "client-combined.pem",
        other_ca=directory / "other-ca.pem",
        other_client_cert=directory / "other-client.pem",
        other_client_key=directory / "other-client.key",
    )
    ca.cert_pem.write_to_path(str(pki.ca))
    other.cert_pem.write_to_path(str(pki.other_ca))
    for issued, cert_path, key_path in (
        (server, pki.server_cert, pki.server_key),
        (client, pki.client_cert, pki.client_key),
        (stranger, pki.other_client_cert, pki.other_client_key),
    ):
        for pem in issued.cert_chain_pems:
            pem.write_to_path(str(cert_path), append=True)
        issued.private_key_pem.write_to_path(str(key_path))
    client.private_key_and_cert_chain_pem.write_to_path(str(pki.client_combined))
    return pki


def tls_extra(pki: Pki, *, client_cas: bool = False) -> dict[str, object]:
    tls: dict[str, object] = {"certificate": str(pki.server_cert), "key": str(pki.server_key)}
    if client_cas:
        tls["clientcas"] = [str(pki.ca)]
    return {"http": {"tls": tls}}


@pytest.fixture(scope="module")
def tls_registry(pki: Pki) -> Iterator[RegistryServer]:
    with RegistryServer(RegistryConfig(extra=tls_extra(pki))) as server:
        yield server


@pytest.fixture(scope="module")
def mtls_registry(pki: Pki) -> Iterator[RegistryServer]:
    """A registry that requires a client certificate issued by the test CA."""
    config = RegistryConfig(
        extra=tls_extra(pki, client_cas=True),
        probe_client_cert=(pki.client_cert, pki.client_key),
    )
    with RegistryServer(config) as server:
        yield server


def skopeo_inspect_verified(
    server: RegistryServer, repository: str, tag: str, cert_dir: Path
) -> Any:
    """``skopeo inspect`` with TLS verification on, trusting (and presenting) ``cert_dir``'s
    files: ``*.crt`` are CAs, a ``*.cert`` / ``*.key`` pair is a client certificate."""
    completed = subprocess.run(
        [
            require_binary("skopeo"),
            "--insecure-policy",
            "inspect",
            "--cert-dir",
            str(cert_dir),
            f"docker://{server.host}/{repository}:{tag}",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def cert_dir(directory: Path, pki: Pki, *, client: bool = False) -> Path:
    directory.mkdir()
    shutil.copyfile(pki.ca, directory / "ca.crt")
    if client:
        shutil.copyfile(pki.client_cert, directory / "client.cert")
        shutil.copyfile(pki.client_key, directory / "client.key")
    return directory


# -- server certificates -----------------------------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_push_trusting_a_ca_bundle(
    adapter: str, pki: Pki, tls_registry: RegistryServer, docker_archive: Path, tmp_path: Path
) -> None:
    assert tls_registry.url.startswith("https://")
    url, repository = tls_registry.url, f"tls/{adapter}"

    digest = call(adapter, "push_docker_tar", docker_archive, url, repository, "v1", verify=pki.ca)

    assert call(adapter, "list_tags", url, repository, verify=str(pki.ca)) == ["v1"]
    assert call(adapter, "get_image_info", url, repository, "v1", verify=pki.ca).digest == digest
    inspected = skopeo_inspect_verified(
        tls_registry, repository, "v1", cert_dir(tmp_path / "certs", pki)
    )
    assert inspected["Digest"] == digest


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_ssl_context_as_verify(
    adapter: str, pki: Pki, tls_registry: RegistryServer, docker_archive: Path
) -> None:
    context = ssl.create_default_context(cafile=str(pki.ca))
    url, repository = tls_registry.url, f"tls-context/{adapter}"
    digest = call(adapter, "push_docker_tar", docker_archive, url, repository, "v1", verify=context)
    assert call(adapter, "get_image_info", url, repository, "v1", verify=context).digest == digest


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_system_cas_do_not_trust_a_private_ca(
    adapter: str, tls_registry: RegistryServer, docker_archive: Path
) -> None:
    url = tls_registry.url
    with pytest.raises(TransportFailure):
        call(adapter, "push_docker_tar", docker_archive, url, f"tls-system/{adapter}", "v1")
    with pytest.raises(TransportFailure):
        call(adapter, "list_repositories", url)
    assert call(adapter, "check_registry_connectivity", url) is False


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_another_ca_bundle_is_refused(
    adapter: str, pki: Pki, tls_registry: RegistryServer, docker_archive: Path
) -> None:
    url = tls_registry.url
    with pytest.raises(TransportFailure):
        call(
            adapter,
            "push_docker_tar",
            docker_archive,
            url,
            f"tls-other/{adapter}",
            "v1",
            verify=pki.other_ca,
        )
    assert call(adapter, "check_registry_connectivity", url, verify=pki.other_ca) is False


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_certificate_failure_says_so(adapter: str, tls_registry: RegistryServer) -> None:
    with pytest.raises(TransportFailure) as caught:
        call(adapter, "list_repositories", tls_registry.url)
    assert "certificate verify failed" in str(caught.value).lower()


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_https_to_a_plain_http_registry_says_which_url(
    adapter: str, registry_server: RegistryServer
) -> None:
    # A bare host:port means HTTPS; this registry speaks plain HTTP.
    with pytest.raises(ConnectFailure) as caught:
        call(adapter, "list_tags", registry_server.host, "app", docker_config=False)
    message = str(caught.value)
    assert "TLS handshake failed: is this a plain-HTTP registry? " in message
    assert f"use http://{registry_server.host} (" in message


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_plain_http_to_an_https_registry_says_which_url(
    adapter: str, tls_registry: RegistryServer
) -> None:
    with pytest.raises(RegistryError) as caught:
        call(adapter, "list_tags", f"http://{tls_registry.host}", "app", docker_config=False)
    assert caught.value.status == 400
    assert str(caught.value).endswith(f"Use https://{tls_registry.host}")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_verify_false_accepts_any_certificate(
    adapter: str, pki: Pki, tls_registry: RegistryServer, docker_archive: Path
) -> None:
    url, repository = tls_registry.url, f"tls-unverified/{adapter}"
    digest = call(adapter, "push_docker_tar", docker_archive, url, repository, "v1", verify=False)
    assert call(adapter, "list_tags", url, repository, verify=False) == ["v1"]
    info = call(adapter, "get_image_info", url, repository, "v1", verify=pki.ca)
    assert info.digest == digest


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_unreadable_ca_bundle_is_a_validation_error(
    adapter: str, tls_registry: RegistryServer, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    for bundle in (tmp_path / "missing.pem", garbage):
        with pytest.raises(ValidationError, match="CA bundle"):
            call(adapter, "list_repositories", tls_registry.url, verify=bundle)


# -- mutual TLS ----------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_mutual_tls_needs_a_client_certificate(
    adapter: str, pki: Pki, mtls_registry: RegistryServer, docker_archive: Path
) -> None:
    url = mtls_registry.url
    # The refusal may arrive after the handshake, on the first read; either way it is a TLS
    # failure, reported at once rather than retried (it would only be refused again).
    with pytest.raises(ConnectFailure, match="TLS"):
        call(
            adapter,
            "push_docker_tar",
            docker_archive,
            url,
            f"mtls-none/{adapter}",
            "v1",
            verify=pki.ca,
        )
    assert call(adapter, "check_registry_connectivity", url, verify=pki.ca) is False


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_mutual_tls_with_a_client_certificate(
    adapter: str, pki: Pki, mtls_registry: RegistryServer, docker_archive: Path, tmp_path: Path
) -> None:
    url, repository = mtls_registry.url, f"mtls/{adapter}"
    pair = (pki.client_cert, pki.client_key)

    digest = call(
        adapter,
        "push_docker_tar",
        docker_archive,
        url,
        repository,
        "v1",
        verify=pki.ca,
        client_cert=pair,
    )

    assert call(adapter, "check_registry_connectivity", url, verify=pki.ca, client_cert=pair)
    # One PEM file holding both the certificate and its key works too.
    info = call(
        adapter,
        "get_image_info",
        url,
        repository,
        "v1",
        verify=str(pki.ca),
        client_cert=str(pki.client_combined),
    )
    assert info.digest == digest
    # Without verification of the server, the client certificate is still presented.
    assert call(adapter, "list_tags", url, repository, verify=False, client_cert=pair) == ["v1"]
    inspected = skopeo_inspect_verified(
        mtls_registry, repository, "v1", cert_dir(tmp_path / "certs", pki, client=True)
    )
    assert inspected["Digest"] == digest


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_client_certificate_of_another_ca_is_refused(
    adapter: str, pki: Pki, mtls_registry: RegistryServer
) -> None:
    with pytest.raises(TransportFailure):
        call(
            adapter,
            "list_repositories",
            mtls_registry.url,
            verify=pki.ca,
            client_cert=(pki.other_client_cert, pki.other_client_key),
        )


def test_client_certificate_options_are_validated(pki: Pki, tmp_path: Path) -> None:
    url = "https://127.0.0.1:1"  # never contacted
    context = ssl.create_default_context(cafile=str(pki.ca))
    with pytest.raises(ValidationError, match="SSLContext"):
        call("sync", "list_repositories", url, verify=context, client_cert=pki.client_combined)
    with pytest.raises(ValidationError, match="client certificate"):
        call("sync", "list_repositories", url, client_cert=tmp_path / "missing.pem")
    with pytest.raises(ValidationError, match="client certificate"):
        call("sync", "list_repositories", url, client_cert=(pki.client_cert, pki.other_client_key))

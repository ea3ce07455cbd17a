"""Fixtures for tests against a real ``docker-registry`` process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.images import build_docker_archive, build_oci_archive
from tests.integration.registry_server import RegistryConfig, RegistryFactory, RegistryServer

INTEGRATION_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test collected from tests/integration as ``integration``."""
    for item in items:
        if item.path.resolve().is_relative_to(INTEGRATION_DIR):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def registry_server() -> Iterator[RegistryServer]:
    """A registry with the default configuration, shared by the whole session."""
    with RegistryServer() as server:
        yield server


@pytest.fixture
def registry_factory() -> Iterator[RegistryFactory]:
    """Start registries with custom configurations; all are stopped at teardown."""
    servers: list[RegistryServer] = []

    def start(config: RegistryConfig) -> RegistryServer:
        server = RegistryServer(config)
        servers.append(server)
        return server.start()

    yield start
    for server in reversed(servers):
        server.stop()


@pytest.fixture(scope="session")
def docker_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer image built with umoci, saved by skopeo as a docker-archive tar."""
    directory = tmp_path_factory.mktemp("docker-archive")
    return build_docker_archive(directory / "demo-docker-archive.tar")


@pytest.fixture(scope="session")
def oci_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer image built with umoci, saved by skopeo as an oci-archive tar."""
    directory = tmp_path_factory.mktemp("oci-archive")
    return build_oci_archive(directory / "demo-oci-archive.tar")

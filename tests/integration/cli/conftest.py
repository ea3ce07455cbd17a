"""Fixtures of the `regv2` tests: the command in a sandbox, and registries other modules
define (asking for a login, serving TLS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli.runner import Regv2
from tests.integration.test_auth_basic import basic_registry  # noqa: F401
from tests.integration.test_tls import mtls_registry, pki, tls_registry  # noqa: F401


@pytest.fixture
def regv2(tmp_path: Path) -> Regv2:
    """`regv2` with a home directory and a docker config of its own."""
    home = tmp_path / "home"
    home.mkdir()
    return Regv2(home)

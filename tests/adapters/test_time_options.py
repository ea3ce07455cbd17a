"""The time options of the clients: `timeout` and `deadline`, validated when a client is made,
and defaults that fail a stalled registry in about a minute."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

import registry_async
import registry_sync
from registry_io._settings import Settings, default_timeout
from registry_proto import ValidationError

BAD_SECONDS = [0, -1, math.nan, math.inf, "5", True]


@pytest.mark.parametrize("value", BAD_SECONDS)
@pytest.mark.parametrize("option", ["deadline", "timeout"])
def test_time_options_must_be_positive_finite_seconds(option: str, value: Any) -> None:
    for client in (registry_sync.RegistryClient, registry_async.AsyncRegistryClient):
        with pytest.raises(ValidationError, match=option):
            client(**{option: value})


def test_each_part_of_an_httpx_timeout_is_checked() -> None:
    with pytest.raises(ValidationError, match="timeout"):
        registry_sync.RegistryClient(timeout=httpx.Timeout(5.0, read=-1.0))
    settings = Settings.from_options(timeout=httpx.Timeout(5.0, read=None))
    assert settings.timeout.read is None  # None still means no limit


def test_a_number_of_seconds_is_every_timeout() -> None:
    settings = Settings.from_options(timeout=2, deadline=30)
    assert settings.timeout == httpx.Timeout(2.0)
    assert settings.deadline == 30.0


def test_defaults_fail_a_stalled_registry_in_about_a_minute() -> None:
    """A stall is not retried (tests/integration/test_deadlines.py), so one read timeout is
    what a stalled registry costs; there is no deadline unless asked for."""
    settings = Settings.from_options()
    assert settings.timeout == default_timeout()
    assert settings.timeout.read == settings.timeout.write == 60.0
    assert settings.timeout.connect == 15.0
    assert settings.deadline is None

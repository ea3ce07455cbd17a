"""Every exported error class is made from a message alone, as 1.x users raise them."""

from __future__ import annotations

import pickle
from types import ModuleType

import pytest

import registry_api_v2_client
import registry_async
import registry_proto
import registry_sync
from registry_proto import RegistryError, RegistryProtoError

PACKAGES: tuple[ModuleType, ...] = (
    registry_proto,
    registry_async,
    registry_sync,
    registry_api_v2_client,
)


def exported_errors() -> list[type[BaseException]]:
    found = {
        value
        for package in PACKAGES
        for name in package.__all__
        if isinstance(value := getattr(package, name), type) and issubclass(value, BaseException)
    }
    return sorted(found, key=lambda cls: cls.__name__)


ERRORS = exported_errors()


def test_the_error_tree_is_exported() -> None:
    names = {cls.__name__ for cls in ERRORS}
    assert {"RegistryProtoError", "RegistryError", "ValidationError", "TarReadError"} <= names
    assert len(ERRORS) > 10


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_is_made_from_a_message_alone(cls: type[BaseException]) -> None:
    error = cls("boom")
    assert str(error) == "boom"
    assert isinstance(error, RegistryProtoError)
    with pytest.raises(cls, match=r"^boom$"):
        raise error
    assert str(cls()) == ""
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert copy.args == ("boom",)


@pytest.mark.parametrize(
    "cls", [c for c in ERRORS if issubclass(c, RegistryError)], ids=lambda cls: cls.__name__
)
def test_registry_errors_without_an_answer(cls: type[RegistryError]) -> None:
    error = cls("boom")
    assert error.status is None
    assert error.errors == ()
    assert (error.method, error.url) == ("", "")
    assert error.code == cls.code_name


def test_a_registry_error_keeps_its_answer_through_pickling() -> None:
    error = RegistryError("HTTP 404: gone", status=404, method="GET", url="http://r/v2/")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.status, copy.method, copy.url, str(copy)) == (
        404,
        "GET",
        "http://r/v2/",
        str(error),
    )

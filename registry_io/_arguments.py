"""Arguments that do not fit a public function are refused as a `ValidationError`, like any
other bad input: not a `TypeError` from Python, and not silently, as a keyword that a
variadic `**options` would swallow."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection
from typing import Any, TypeVar, cast

from registry_proto import ValidationError

__all__ = ["check_arguments", "checked"]

F = TypeVar("F", bound=Callable[..., Any])


def check_arguments(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    keywords: Collection[str] = (),
) -> None:
    """Raise `ValidationError` unless `function(*args, **kwargs)` fits `function`'s signature;
    its variadic keyword parameter, if any, takes only `keywords`."""
    signature = inspect.signature(function)
    named = {
        p.name
        for p in signature.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    unknown = sorted(set(kwargs) - named - set(keywords))
    if unknown:
        raise ValidationError(f"{function.__name__}() takes no option {', '.join(unknown)}")
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise ValidationError(f"{function.__name__}(): {exc}") from None


def checked(function: F) -> F:
    """`function`, refusing arguments that do not fit it (`check_arguments`)."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        check_arguments(function, args, kwargs)
        return function(*args, **kwargs)

    return cast(F, call)

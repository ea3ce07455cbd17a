"""1.x's error root: in 1.x every failure was a `RegistryError`, so this package's
`RegistryError` is the root of the whole error tree, `RegistryProtoError`.

Code written for 1.x (`except ValidationError`, `except TarReadError`, then
`except RegistryError` for the rest) catches what it caught, a refused connection included.
The registry's own answers are `registry_async.RegistryError`, a subclass carrying `.status`.
"""

from registry_proto import RegistryProtoError

__all__ = ["RegistryError"]

RegistryError = RegistryProtoError

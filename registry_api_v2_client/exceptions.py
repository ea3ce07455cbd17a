"""1.x's `registry_api_v2_client.exceptions`: the three error names it defined."""

from registry_proto import TarReadError, ValidationError

from ._errors import RegistryError

__all__ = ["RegistryError", "TarReadError", "ValidationError"]

"""1.x's `registry_api_v2_client.core.types`: the registry, blob and manifest models."""

from .._models import BlobInfo, ManifestInfo, RegistryConfig

__all__ = ["BlobInfo", "ManifestInfo", "RegistryConfig"]

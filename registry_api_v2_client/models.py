"""1.x's `registry_api_v2_client.models`: the image description models."""

from ._models import ImageConfig, ImageInspect, LayerInfo

__all__ = ["ImageConfig", "ImageInspect", "LayerInfo"]

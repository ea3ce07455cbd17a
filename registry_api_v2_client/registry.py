"""1.x's `registry_api_v2_client.registry`: listing, inspecting and deleting."""

from ._api import (
    delete_image,
    delete_image_by_digest,
    get_image_info,
    get_manifest,
    list_repositories,
    list_tags,
)

__all__ = [
    "delete_image",
    "delete_image_by_digest",
    "get_image_info",
    "get_manifest",
    "list_repositories",
    "list_tags",
]

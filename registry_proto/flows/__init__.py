"""Registry conversations, each written once as a generator flow (see `registry_proto._effects`)."""

from .archive import (
    PushResult,
    image_to_push,
    push_all_original_tags,
    push_archive,
    push_original_tag,
    split_original_tag,
)
from .blobs import blob_exists, cancel_upload, ensure_blob, upload_blob
from .catalog import CatalogPage, TagsPage, list_repositories, list_tags
from .manifests import put_manifest
from .push import BlobUpload, ImageToPush, push_image
from .version import ApiVersion, check_api_version

__all__ = [
    "ApiVersion",
    "BlobUpload",
    "CatalogPage",
    "ImageToPush",
    "PushResult",
    "TagsPage",
    "blob_exists",
    "cancel_upload",
    "check_api_version",
    "ensure_blob",
    "image_to_push",
    "list_repositories",
    "list_tags",
    "push_all_original_tags",
    "push_archive",
    "push_image",
    "push_original_tag",
    "put_manifest",
    "split_original_tag",
    "upload_blob",
]

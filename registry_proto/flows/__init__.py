"""Registry conversations, each written once as a generator flow (see `registry_proto._effects`)."""

from .archive import (
    PushResult,
    image_to_push,
    push_all_original_tags,
    push_archive,
    push_original_tag,
    split_original_tag,
)
from .blobs import blob_exists, cancel_upload, ensure_blob, get_blob, upload_blob
from .catalog import Paginator, list_repositories, list_tags, repositories_pager, tags_pager
from .info import ImageInfo, LayerInfo, PlatformManifest, get_image_info, parse_platform
from .manifests import (
    FetchedManifest,
    delete_manifest,
    get_manifest,
    put_manifest,
    resolve_digest,
)
from .push import BlobUpload, ImageToPush, push_image
from .version import ApiVersion, check_api_version

__all__ = [
    "ApiVersion",
    "BlobUpload",
    "FetchedManifest",
    "ImageInfo",
    "ImageToPush",
    "LayerInfo",
    "Paginator",
    "PlatformManifest",
    "PushResult",
    "blob_exists",
    "cancel_upload",
    "check_api_version",
    "delete_manifest",
    "ensure_blob",
    "get_blob",
    "get_image_info",
    "get_manifest",
    "image_to_push",
    "list_repositories",
    "list_tags",
    "parse_platform",
    "push_all_original_tags",
    "push_archive",
    "push_image",
    "push_original_tag",
    "put_manifest",
    "repositories_pager",
    "resolve_digest",
    "split_original_tag",
    "tags_pager",
    "upload_blob",
]

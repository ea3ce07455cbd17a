"""Registry conversations, each written once as a generator flow (see `registry_proto._effects`)."""

from .archive import (
    PushResult,
    Selection,
    choose_image,
    image_to_push,
    index_to_push,
    push_all_original_tags,
    push_archive,
    push_original_tag,
    split_original_tag,
)
from .blobs import blob_exists, cancel_upload, download_blob, get_blob
from .catalog import Paginator, repositories_pager, tags_pager
from .copy import Location, copy_image
from .info import ImageInfo, LayerInfo, PlatformManifest, get_image_info, parse_platform
from .manifests import (
    FetchedManifest,
    delete_manifest,
    get_manifest,
    put_manifest,
    resolve_digest,
)
from .pull import PullResult, pull_image
from .push import (
    ImageToPush,
    IndexToPush,
    ManifestToPush,
    PushOptions,
    PushState,
    push_image,
    push_index,
)
from .version import ApiVersion, check_api_version

__all__ = [
    "ApiVersion",
    "FetchedManifest",
    "ImageInfo",
    "ImageToPush",
    "IndexToPush",
    "LayerInfo",
    "Location",
    "ManifestToPush",
    "Paginator",
    "PlatformManifest",
    "PullResult",
    "PushOptions",
    "PushResult",
    "PushState",
    "Selection",
    "blob_exists",
    "cancel_upload",
    "check_api_version",
    "choose_image",
    "copy_image",
    "delete_manifest",
    "download_blob",
    "get_blob",
    "get_image_info",
    "get_manifest",
    "image_to_push",
    "index_to_push",
    "parse_platform",
    "pull_image",
    "push_all_original_tags",
    "push_archive",
    "push_image",
    "push_index",
    "push_original_tag",
    "put_manifest",
    "repositories_pager",
    "resolve_digest",
    "split_original_tag",
    "tags_pager",
]

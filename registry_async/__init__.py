"""registry_async: the default entry point, for asyncio and trio.

::

    import registry_async

    digest = await registry_async.push_docker_tar("app.tar", "http://localhost:15000", "app", "1.0")

`extract_original_tags` and `get_primary_tag` only read a local file and are synchronous.
"""

from registry_proto import (
    ArchiveWriteError,
    BlobMounted,
    BlobProgress,
    BlobSkipped,
    BlobUploaded,
    DeletesDisabled,
    Denied,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestPushed,
    ManifestUnknown,
    NotFound,
    Platform,
    PushEvent,
    RegistryError,
    RegistryProtoError,
    RemoteProtocolError,
    ScopeDenied,
    TarReadError,
    TooManyRequests,
    TransportFailure,
    Unauthorized,
    ValidationError,
    __version__,
)
from registry_proto.flows import (
    ApiVersion,
    ImageInfo,
    LayerInfo,
    PlatformManifest,
    PullResult,
    PushResult,
)
from registry_proto.operations import PushArgs
from registry_sync import extract_original_tags, get_primary_tag
from registry_sync._settings import ClientOptions, PushCallOptions

from ._api import (
    check_registry_connectivity,
    copy_image,
    delete_image,
    get_image_info,
    iter_repositories,
    iter_tags,
    list_repositories,
    list_tags,
    ping,
    pull_image,
    push_docker_tar,
    push_docker_tar_with_all_original_tags,
    push_docker_tar_with_original_tags,
)
from ._cli._progress import ProgressPrinter
from ._client import AsyncRegistryClient

__all__ = [
    "ApiVersion",
    "ArchiveWriteError",
    "AsyncRegistryClient",
    "BlobMounted",
    "BlobProgress",
    "BlobSkipped",
    "BlobUploaded",
    "ClientOptions",
    "DeletesDisabled",
    "Denied",
    "DigestInvalid",
    "ImageInfo",
    "LayerInfo",
    "ManifestBlobUnknown",
    "ManifestPushed",
    "ManifestUnknown",
    "NotFound",
    "Platform",
    "PlatformManifest",
    "ProgressPrinter",
    "PullResult",
    "PushArgs",
    "PushCallOptions",
    "PushEvent",
    "PushResult",
    "RegistryError",
    "RegistryProtoError",
    "RemoteProtocolError",
    "ScopeDenied",
    "TarReadError",
    "TooManyRequests",
    "TransportFailure",
    "Unauthorized",
    "ValidationError",
    "__version__",
    "check_registry_connectivity",
    "copy_image",
    "delete_image",
    "extract_original_tags",
    "get_image_info",
    "get_primary_tag",
    "iter_repositories",
    "iter_tags",
    "list_repositories",
    "list_tags",
    "ping",
    "pull_image",
    "push_docker_tar",
    "push_docker_tar_with_all_original_tags",
    "push_docker_tar_with_original_tags",
]

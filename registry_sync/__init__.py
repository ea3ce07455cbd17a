"""registry_sync: the blocking registry client.

The same functions as `registry_async`, for code without an event loop::

    from registry_sync import push_docker_tar

    digest = push_docker_tar("app.tar", "http://localhost:15000", "app", "1.0")
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

from ._api import (
    check_registry_connectivity,
    delete_image,
    extract_original_tags,
    get_image_info,
    get_primary_tag,
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
from ._client import RegistryClient
from ._settings import ClientOptions, PushCallOptions

__all__ = [
    "ApiVersion",
    "ArchiveWriteError",
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
    "PullResult",
    "PushArgs",
    "PushCallOptions",
    "PushEvent",
    "PushResult",
    "RegistryClient",
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

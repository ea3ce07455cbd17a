"""registry_sync: the blocking registry client.

The same functions as `registry_async`, for code without an event loop::

    from registry_sync import push_docker_tar

    digest = push_docker_tar("app.tar", "http://localhost:15000", "app", "1.0")
"""

from registry_proto import (
    DeletesDisabled,
    ManifestUnknown,
    NotFound,
    Platform,
    RegistryError,
    RegistryProtoError,
    RemoteProtocolError,
    TarReadError,
    TransportFailure,
    ValidationError,
    __version__,
)
from registry_proto.flows import ApiVersion, ImageInfo, LayerInfo, PlatformManifest, PushResult

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
    push_docker_tar,
    push_docker_tar_with_all_original_tags,
    push_docker_tar_with_original_tags,
)
from ._client import RegistryClient

__all__ = [
    "ApiVersion",
    "DeletesDisabled",
    "ImageInfo",
    "LayerInfo",
    "ManifestUnknown",
    "NotFound",
    "Platform",
    "PlatformManifest",
    "PushResult",
    "RegistryClient",
    "RegistryError",
    "RegistryProtoError",
    "RemoteProtocolError",
    "TarReadError",
    "TransportFailure",
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
    "push_docker_tar",
    "push_docker_tar_with_all_original_tags",
    "push_docker_tar_with_original_tags",
]

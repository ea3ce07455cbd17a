"""registry_sync: the blocking registry client.

The same functions as `registry_async`, for code without an event loop::

    from registry_sync import push_docker_tar

    digest = push_docker_tar("app.tar", "http://localhost:15000", "app", "1.0")
"""

from registry_proto import (
    RegistryError,
    RegistryProtoError,
    RemoteProtocolError,
    TarReadError,
    TransportFailure,
    ValidationError,
    __version__,
)
from registry_proto.flows import ApiVersion, PushResult

from ._api import (
    check_registry_connectivity,
    extract_original_tags,
    get_primary_tag,
    list_repositories,
    list_tags,
    push_docker_tar,
    push_docker_tar_with_all_original_tags,
    push_docker_tar_with_original_tags,
)
from ._client import RegistryClient

__all__ = [
    "ApiVersion",
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
    "extract_original_tags",
    "get_primary_tag",
    "list_repositories",
    "list_tags",
    "push_docker_tar",
    "push_docker_tar_with_all_original_tags",
    "push_docker_tar_with_original_tags",
]

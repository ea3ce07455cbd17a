"""registry_api_v2_client: the distribution's import name, and the 1.x API call for call.

Code written for 1.x runs unchanged: the same names, parameters, defaults and return shapes
(`docs/migrating-from-1.x.md` lists where 2.0 deliberately does better). Beside them is
everything of `registry_async` whose name 1.x did not use (`pull_image`, `copy_image`,
`AsyncRegistryClient`, ...). Blocking code uses `registry_sync`; the sans-I/O core is
`registry_proto`.
"""

import registry_async as _async
from registry_async import AsyncRegistryClient as AsyncRegistryClient
from registry_async import copy_image as copy_image
from registry_async import iter_repositories as iter_repositories
from registry_async import iter_tags as iter_tags
from registry_async import ping as ping
from registry_async import pull_image as pull_image
from registry_io.public import (
    ApiVersion as ApiVersion,
)
from registry_io.public import (
    ArchiveWriteError as ArchiveWriteError,
)
from registry_io.public import (
    BlobDownloaded as BlobDownloaded,
)
from registry_io.public import (
    BlobMounted as BlobMounted,
)
from registry_io.public import (
    BlobProgress as BlobProgress,
)
from registry_io.public import (
    BlobSkipped as BlobSkipped,
)
from registry_io.public import (
    BlobUploaded as BlobUploaded,
)
from registry_io.public import (
    ClientOptions as ClientOptions,
)
from registry_io.public import (
    ConnectFailure as ConnectFailure,
)
from registry_io.public import (
    DeadlineExceeded as DeadlineExceeded,
)
from registry_io.public import (
    DeletesDisabled as DeletesDisabled,
)
from registry_io.public import (
    Denied as Denied,
)
from registry_io.public import (
    DigestInvalid as DigestInvalid,
)
from registry_io.public import (
    ImageInfo as ImageInfo,
)
from registry_io.public import (
    ManifestBlobUnknown as ManifestBlobUnknown,
)
from registry_io.public import (
    ManifestPulled as ManifestPulled,
)
from registry_io.public import (
    ManifestPushed as ManifestPushed,
)
from registry_io.public import (
    ManifestUnknown as ManifestUnknown,
)
from registry_io.public import (
    NotFound as NotFound,
)
from registry_io.public import (
    Platform as Platform,
)
from registry_io.public import (
    PlatformManifest as PlatformManifest,
)
from registry_io.public import (
    ProgressEvent as ProgressEvent,
)
from registry_io.public import (
    ProgressPrinter as ProgressPrinter,
)
from registry_io.public import (
    PullResult as PullResult,
)
from registry_io.public import (
    PushArgs as PushArgs,
)
from registry_io.public import (
    PushCallOptions as PushCallOptions,
)
from registry_io.public import (
    PushEvent as PushEvent,
)
from registry_io.public import (
    PushResult as PushResult,
)
from registry_io.public import (
    RegistryProtoError as RegistryProtoError,
)
from registry_io.public import (
    RemoteProtocolError as RemoteProtocolError,
)
from registry_io.public import (
    ScopeDenied as ScopeDenied,
)
from registry_io.public import (
    TimedOut as TimedOut,
)
from registry_io.public import (
    TooManyRequests as TooManyRequests,
)
from registry_io.public import (
    TransferStarted as TransferStarted,
)
from registry_io.public import (
    TransportFailure as TransportFailure,
)
from registry_io.public import (
    Unauthorized as Unauthorized,
)
from registry_io.public import (
    __version__ as __version__,
)
from registry_proto import TarReadError as TarReadError
from registry_proto import ValidationError as ValidationError

from ._api import (
    check_registry_connectivity as check_registry_connectivity,
)
from ._api import (
    delete_image as delete_image,
)
from ._api import (
    delete_image_by_digest as delete_image_by_digest,
)
from ._api import (
    get_image_info as get_image_info,
)
from ._api import (
    get_manifest as get_manifest,
)
from ._api import (
    list_repositories as list_repositories,
)
from ._api import (
    list_tags as list_tags,
)
from ._api import (
    push_docker_tar as push_docker_tar,
)
from ._api import (
    push_docker_tar_with_all_original_tags as push_docker_tar_with_all_original_tags,
)
from ._api import (
    push_docker_tar_with_original_tags as push_docker_tar_with_original_tags,
)
from ._errors import RegistryError as RegistryError
from ._models import (
    BlobInfo as BlobInfo,
)
from ._models import (
    ImageConfig as ImageConfig,
)
from ._models import (
    ImageInspect as ImageInspect,
)
from ._models import (
    LayerInfo as LayerInfo,
)
from ._models import (
    ManifestInfo as ManifestInfo,
)
from ._models import (
    RegistryConfig as RegistryConfig,
)
from ._tar import (
    extract_original_tags as extract_original_tags,
)
from ._tar import (
    get_primary_tag as get_primary_tag,
)
from ._tar import (
    get_tar_manifest as get_tar_manifest,
)
from ._tar import (
    inspect_docker_tar as inspect_docker_tar,
)
from ._tar import (
    parse_repository_tag as parse_repository_tag,
)
from ._tar import (
    validate_docker_tar as validate_docker_tar,
)

# 1.2.0's `__all__`, as 1.2.0 defines each name.
V1_NAMES = [
    "BlobInfo",
    "ImageConfig",
    "ImageInspect",
    "LayerInfo",
    "ManifestInfo",
    "RegistryConfig",
    "RegistryError",
    "TarReadError",
    "ValidationError",
    "check_registry_connectivity",
    "delete_image",
    "delete_image_by_digest",
    "extract_original_tags",
    "get_image_info",
    "get_manifest",
    "get_primary_tag",
    "get_tar_manifest",
    "inspect_docker_tar",
    "list_repositories",
    "list_tags",
    "parse_repository_tag",
    "push_docker_tar",
    "push_docker_tar_with_all_original_tags",
    "push_docker_tar_with_original_tags",
    "validate_docker_tar",
]

__all__ = [*V1_NAMES, *(name for name in _async.__all__ if name not in V1_NAMES)]

"""registry_proto: the sans-I/O core of registry-api-v2-client.

Every registry conversation is written here once, as a generator *flow* that yields effects
(`Request`, `Sleep`, `Parallel`, `Emit`, `ReadFile`) and receives their results. This package
performs no I/O of any kind: no sockets, files, clocks, threads or event loops. The drivers in
`registry_async` (asyncio and trio) and `registry_sync` (blocking) perform the effects.

Exported here is what a driver performs and what clients and users meet: the effects and the
requests, responses and bodies they carry, the errors, the push events, `RegistryEndpoint` and
`Platform`, and `http` and `parallel` for writing a flow of one's own. The public operations
are in `registry_proto.operations`, whole conversations in `registry_proto.flows`.
"""

from ._auth import Authenticator, Credentials, with_auth
from ._effects import (
    Decompress,
    Effect,
    Emit,
    Flow,
    MoveFile,
    Offload,
    Parallel,
    ReadFile,
    RemoveFile,
    Sleep,
    TempFile,
    WriteFile,
    http,
    parallel,
)
from ._errors import (
    ArchiveWriteError,
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    ConnectFailure,
    DeletesDisabled,
    Denied,
    DigestInvalid,
    DigestMismatch,
    ErrorDetail,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    NotFound,
    RangeInvalid,
    RegistryError,
    RegistryProtoError,
    RemoteProtocolError,
    ResponseTooLarge,
    ScopeDenied,
    ServerError,
    SizeInvalid,
    TarReadError,
    TooManyRequests,
    TransportFailure,
    Unauthorized,
    Unavailable,
    Unsupported,
    ValidationError,
)
from ._events import (
    BlobMounted,
    BlobProgress,
    BlobSkipped,
    BlobUploaded,
    ManifestPushed,
    PushEvent,
)
from ._models import Body, BytesBody, EmptyBody, FileSink, FileSlice, Headers, Request, Response
from ._platform import Platform
from ._reference import RegistryEndpoint
from ._retry import RetryPolicy, with_retries

__version__ = "0.1.0"

__all__ = [
    "ArchiveWriteError",
    "Authenticator",
    "BlobMounted",
    "BlobProgress",
    "BlobSkipped",
    "BlobUnknown",
    "BlobUploadInvalid",
    "BlobUploadUnknown",
    "BlobUploaded",
    "Body",
    "BytesBody",
    "ConnectFailure",
    "Credentials",
    "Decompress",
    "DeletesDisabled",
    "Denied",
    "DigestInvalid",
    "DigestMismatch",
    "Effect",
    "Emit",
    "EmptyBody",
    "ErrorDetail",
    "FileSink",
    "FileSlice",
    "Flow",
    "Headers",
    "ManifestBlobUnknown",
    "ManifestInvalid",
    "ManifestPushed",
    "ManifestUnknown",
    "MoveFile",
    "NameInvalid",
    "NameUnknown",
    "NotFound",
    "Offload",
    "Parallel",
    "Platform",
    "PushEvent",
    "RangeInvalid",
    "ReadFile",
    "RegistryEndpoint",
    "RegistryError",
    "RegistryProtoError",
    "RemoteProtocolError",
    "RemoveFile",
    "Request",
    "Response",
    "ResponseTooLarge",
    "RetryPolicy",
    "ScopeDenied",
    "ServerError",
    "SizeInvalid",
    "Sleep",
    "TarReadError",
    "TempFile",
    "TooManyRequests",
    "TransportFailure",
    "Unauthorized",
    "Unavailable",
    "Unsupported",
    "ValidationError",
    "WriteFile",
    "__version__",
    "http",
    "parallel",
    "with_auth",
    "with_retries",
]

"""registry_io: the side of the drivers that does not depend on how they wait.

Both `registry_async` (asyncio and trio) and `registry_sync` (blocking) build on this package,
and neither imports the other. It holds the client skeleton (`ClientCore`: settings,
credentials, tokens, push state, and every operation defined once), the local file effects,
the send/throw stepping of a flow, the translation of httpx's responses and failures into the
core's, and the host's platform. Like the drivers, it imports only public names of
`registry_proto`.
"""

from ._client_core import Call, ClientCore, Pages, presents
from ._host import host_platform
from ._operations import AwaitingClient, BlockingClient, ClientOperations
from ._settings import ClientOptions, PushCallOptions
from ._tags import extract_original_tags, get_primary_tag, run_locally
from .files import CHUNK_SIZE, SinkWriter, iter_slice, read_range, remove_quietly
from .jobs import Job
from .local_effects import perform_local
from .logs import report
from .stepping import Stepper
from .transport import (
    Answer,
    download_progress,
    exchange,
    map_transport_errors,
    outgoing,
    upload_progress,
)

__all__ = [
    "CHUNK_SIZE",
    "Answer",
    "AwaitingClient",
    "BlockingClient",
    "Call",
    "ClientCore",
    "ClientOperations",
    "ClientOptions",
    "Job",
    "Pages",
    "PushCallOptions",
    "SinkWriter",
    "Stepper",
    "download_progress",
    "exchange",
    "extract_original_tags",
    "get_primary_tag",
    "host_platform",
    "iter_slice",
    "map_transport_errors",
    "outgoing",
    "perform_local",
    "presents",
    "read_range",
    "remove_quietly",
    "report",
    "run_locally",
    "upload_progress",
]

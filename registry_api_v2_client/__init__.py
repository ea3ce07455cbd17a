"""registry_api_v2_client: the distribution's own name for the default, async API.

Everything here is `registry_async`; blocking code uses `registry_sync`, and the sans-I/O core
is `registry_proto`.
"""

from registry_async import *  # noqa: F403
from registry_async import __all__, __version__  # noqa: F401

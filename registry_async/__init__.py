"""registry_async: the default entry point, for asyncio and trio.

::

    import registry_async

    digest = await registry_async.push_docker_tar("app.tar", "http://localhost:15000", "app", "1.0")

`extract_original_tags` and `get_primary_tag` only read a local file and are synchronous.
"""

from registry_io import ClientOperations
from registry_io.public import *  # noqa: F403
from registry_io.public import __all__ as _shared

from ._api import each_call as _each_call
from ._client import AsyncRegistryClient

# The module-level functions: the operations of `registry_io.ClientOperations`, each opening
# a client for one call.
check_registry_connectivity = _each_call.check_registry_connectivity
ping = _each_call.ping
push_docker_tar = _each_call.push_docker_tar
push_docker_tar_with_original_tags = _each_call.push_docker_tar_with_original_tags
push_docker_tar_with_all_original_tags = _each_call.push_docker_tar_with_all_original_tags
list_repositories = _each_call.list_repositories
list_tags = _each_call.list_tags
iter_repositories = _each_call.iter_repositories
iter_tags = _each_call.iter_tags
get_image_info = _each_call.get_image_info
delete_image = _each_call.delete_image
pull_image = _each_call.pull_image
copy_image = _each_call.copy_image

__all__ = [*_shared, *ClientOperations.names(), "AsyncRegistryClient"]

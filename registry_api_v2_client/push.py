"""1.x's `registry_api_v2_client.push`: the push functions."""

from ._api import (
    check_registry_connectivity,
    push_docker_tar,
    push_docker_tar_with_all_original_tags,
    push_docker_tar_with_original_tags,
)

__all__ = [
    "check_registry_connectivity",
    "push_docker_tar",
    "push_docker_tar_with_all_original_tags",
    "push_docker_tar_with_original_tags",
]

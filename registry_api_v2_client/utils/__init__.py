"""1.x's `registry_api_v2_client.utils`: checking and describing archives."""

from .._tar import get_tar_manifest, inspect_docker_tar, validate_docker_tar

__all__ = ["get_tar_manifest", "inspect_docker_tar", "validate_docker_tar"]

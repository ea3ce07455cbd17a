"""1.x's `registry_api_v2_client.tar.tags`: the tags an archive records."""

from .._tar import extract_original_tags, get_primary_tag, parse_repository_tag

__all__ = ["extract_original_tags", "get_primary_tag", "parse_repository_tag"]

"""1.x's `registry_api_v2_client.core`: its `types` module."""

"""1.x's `registry_api_v2_client.tar`: its `tags` module."""

"""URLs are shown without secrets: no userinfo, no token or signature values."""

from __future__ import annotations

import pytest

from registry_proto import Request


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://registry.test/v2/", "https://registry.test/v2/"),
        ("https://user:pw@registry.test/v2/", "https://[redacted]@registry.test/v2/"),
        (
            "https://auth.test/token?service=r&scope=repository:a:pull&account=alice",
            "https://auth.test/token?service=r&scope=repository:a:pull&account=alice",
        ),
        (
            "https://auth.test/token?access_token=abc&refresh_token=def&x=1",
            "https://auth.test/token?access_token=[redacted]&refresh_token=[redacted]&x=1",
        ),
        (
            "https://bucket.s3.test/blob?X-Amz-Credential=AK%2F1&X-Amz-Signature=ff&X-Amz-Expires=9",
            "https://bucket.s3.test/blob?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]"
            "&X-Amz-Expires=9",
        ),
        ("https://blob.test/x?sig=abc&sv=2020", "https://blob.test/x?sig=[redacted]&sv=2020"),
        (
            "http://registry.test/v2/a/blobs/uploads/u?_state=opaque&digest=sha256:00",
            "http://registry.test/v2/a/blobs/uploads/u?_state=opaque&digest=sha256:00",
        ),
        ("https://registry.test/x?token", "https://registry.test/x?token"),
    ],
)
def test_a_request_shows_its_url_without_secrets(url: str, shown: str) -> None:
    request = Request(method="GET", url=url)
    assert request.display_url == shown
    assert repr(request) == f"Request(GET {shown})"

"""The blob stores under test: every contract test runs on the file store and on S3."""

from __future__ import annotations

import pytest

from tts_service.storage import open_blob_store


@pytest.fixture(params=["file", "s3"])
def store(request, tmp_path):
    """A fresh, empty store: a temporary directory, or a new prefix in SeaweedFS."""
    if request.param == "file":
        blobs = open_blob_store(f"file://{tmp_path / 'store'}")
    else:
        where = request.getfixturevalue("s3_location")
        blobs = open_blob_store(
            where.url,
            s3_endpoint_url=where.endpoint_url,
            access_key=where.access_key,
            secret_key=where.secret_key,
            region=where.region,
        )
    yield blobs
    blobs.close()

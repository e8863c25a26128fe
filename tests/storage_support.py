"""Fixtures for shared storage: a real S3-protocol server started by the suite.

``s3_server`` runs moto in server mode (``ThreadedMotoServer``) on a free loopback
port for the whole session: boto3 talks HTTP to it exactly as to MinIO or AWS, no
client is mocked. ``s3_settings`` gives each test a bucket of its own and the
settings that point Mixer at it. A test module runs on both backends by
overriding ``app_config`` with :func:`both_backends`.
"""

from __future__ import annotations

import itertools

import boto3
import pytest

from tests.mail.smtp import free_port

ACCESS = {
    "STORAGE_ACCESS_KEY_ID": "mixer-test",
    "STORAGE_SECRET_ACCESS_KEY": "mixer-test-secret",
    "STORAGE_REGION": "us-east-1",
}
_BUCKETS = itertools.count(1)


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on a free loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_client(endpoint: str):
    """A plain boto3 client of the test server (to look behind Mixer's back)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS["STORAGE_ACCESS_KEY_ID"],
        aws_secret_access_key=ACCESS["STORAGE_SECRET_ACCESS_KEY"],
        region_name=ACCESS["STORAGE_REGION"],
    )


@pytest.fixture
def s3_settings(s3_server) -> dict:
    """A fresh bucket; the settings that make Mixer keep its files under
    ``s3://<bucket>/mixer``."""
    bucket = f"mixer-test-{next(_BUCKETS)}"
    s3_client(s3_server).create_bucket(Bucket=bucket)
    return {
        "STORAGE_URL": f"s3://{bucket}/mixer",
        "STORAGE_ENDPOINT_URL": s3_server,
        **ACCESS,
    }


def both_backends(app_config: dict, request) -> dict:
    """For an ``app_config`` override with ``params=["local", "s3"]``: the test
    configuration with the backend of this run."""
    if request.param == "s3":
        app_config.update(request.getfixturevalue("s3_settings"))
    return app_config


def bucket_keys(settings: dict) -> list[str]:
    """Every key in the bucket of ``settings`` (under any prefix)."""
    bucket = settings["STORAGE_URL"].removeprefix("s3://").partition("/")[0]
    client = s3_client(settings["STORAGE_ENDPOINT_URL"])
    answer = client.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in answer.get("Contents", []))

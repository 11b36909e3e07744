"""An S3-compatible server for the storage tests: the one .ci/run starts (moto's server
mode on 127.0.0.1:9112) or any MinIO/OSS/COS endpoint a developer points at.

YIDI_S3_TEST_ENDPOINT_URL names a server for the s3-marked tests alone (each test gets a
bucket of its own); YIDI_S3_BUCKET (with YIDI_S3_ENDPOINT_URL …) puts the whole run on
S3, the bucket created when missing. Without either the s3 tests skip with the reason,
except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings

from config.storage import s3_options, s3_storage_setting


def test_endpoint() -> str | None:
    return os.environ.get("YIDI_S3_TEST_ENDPOINT_URL") or os.environ.get("YIDI_S3_ENDPOINT_URL") or None


test_endpoint.__test__ = False  # a helper, not a test


def require_endpoint() -> str:
    endpoint = test_endpoint()
    if endpoint:
        return endpoint
    reason = "no S3-compatible server configured: set YIDI_S3_TEST_ENDPOINT_URL (e.g. moto_server -p 9112)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def environment(*, bucket: str, endpoint: str) -> dict[str, str]:
    """The YIDI_S3_* variables one host would have."""
    return {
        "YIDI_S3_BUCKET": bucket,
        "YIDI_S3_ENDPOINT_URL": endpoint,
        "YIDI_S3_ACCESS_KEY": os.environ.get("YIDI_S3_ACCESS_KEY", "testing"),
        "YIDI_S3_SECRET_KEY": os.environ.get("YIDI_S3_SECRET_KEY", "testing"),
        "YIDI_S3_REGION": os.environ.get("YIDI_S3_REGION", "us-east-1"),
        "YIDI_S3_ADDRESSING_STYLE": os.environ.get("YIDI_S3_ADDRESSING_STYLE", "path"),
    }


def client_for(env: dict[str, str]):
    """A boto3 client of its own (not the storage's), to look into the bucket directly."""
    import boto3

    options = s3_options(env)
    return boto3.client(
        "s3", endpoint_url=options["endpoint_url"], aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"], region_name=options["region_name"],
        config=options["client_config"],
    )


def new_bucket(endpoint: str) -> dict[str, str]:
    env = environment(bucket=f"yidi-test-{uuid.uuid4().hex[:12]}", endpoint=endpoint)
    client_for(env).create_bucket(Bucket=env["YIDI_S3_BUCKET"])
    return env


def drop_bucket(env: dict[str, str]) -> None:
    client = client_for(env)
    bucket = env["YIDI_S3_BUCKET"]
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


def keys(env: dict[str, str]) -> list[str]:
    client = client_for(env)
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=env["YIDI_S3_BUCKET"]):
        found += [item["Key"] for item in page.get("Contents", [])]
    return found


def storage_setting(env: dict[str, str]) -> dict:
    return s3_storage_setting(env)


def ensure_configured_bucket() -> None:
    """When the whole run is on S3 (YIDI_S3_BUCKET), create its bucket if missing."""
    if settings.STORAGES["default"]["BACKEND"] != "storages.backends.s3.S3Storage":
        return
    from botocore.exceptions import ClientError

    client = client_for(dict(os.environ))
    bucket = os.environ["YIDI_S3_BUCKET"]
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        client.create_bucket(Bucket=bucket)


def isolate_in_bucket(settings) -> None:
    """When the whole run is on S3, each test stores under a key prefix of its own
    (as each test has its own MEDIA_ROOT on local disk)."""
    default = settings.STORAGES["default"]
    if default["BACKEND"] != "storages.backends.s3.S3Storage":
        return
    options = {**default["OPTIONS"], "location": f"{default['OPTIONS'].get('location') or 'tests'}/{uuid.uuid4().hex}"}
    settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": options}}

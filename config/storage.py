"""Shared file storage for several hosts: an S3-compatible bucket (MinIO, OSS, COS, AWS)
instead of the local MEDIA_ROOT, configured from the environment (docs/deployment.md).

Without YIDI_S3_BUCKET nothing changes: files stay on local disk, as `make run` wants.
"""

from __future__ import annotations

from collections.abc import Mapping

#: The storage class every host uses when YIDI_S3_BUCKET is set.
S3_BACKEND = "storages.backends.s3.S3Storage"


def s3_options(environ: Mapping[str, str]) -> dict | None:
    """The S3Storage options the YIDI_S3_* variables describe, or None when no bucket is named."""
    bucket = environ.get("YIDI_S3_BUCKET", "").strip()
    if not bucket:
        return None
    from botocore.config import Config

    endpoint = environ.get("YIDI_S3_ENDPOINT_URL", "").strip() or None
    # MinIO and most self-hosted servers only answer path-style URLs (http://host/bucket/key);
    # OSS and COS want virtual-hosted ones (http://bucket.host/key): YIDI_S3_ADDRESSING_STYLE=virtual.
    style = environ.get("YIDI_S3_ADDRESSING_STYLE", "").strip() or ("path" if endpoint else "auto")
    if style not in ("path", "virtual", "auto"):
        raise ValueError(f"YIDI_S3_ADDRESSING_STYLE must be path, virtual or auto, not {style!r}")
    verify: bool | str | None = None
    ca_bundle = environ.get("YIDI_S3_CA_BUNDLE", "").strip()
    if ca_bundle:
        verify = ca_bundle  # an agency's own certificate authority
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "access_key": environ.get("YIDI_S3_ACCESS_KEY") or None,
        "secret_key": environ.get("YIDI_S3_SECRET_KEY") or None,
        "region_name": environ.get("YIDI_S3_REGION", "").strip() or "us-east-1",
        "location": environ.get("YIDI_S3_PREFIX", "").strip().strip("/"),
        "verify": verify,
        # Files are served only through the portal's scoped, audited views: private objects,
        # never a public URL, and a name in use is never overwritten (Django's suffix instead).
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
        # Reads larger than this spool to a temporary file instead of memory.
        "max_memory_size": 32 * 1024 * 1024,
        "client_config": Config(
            s3={"addressing_style": style},
            signature_version="s3v4",
            retries={"max_attempts": 5, "mode": "standard"},
            # Only what the server asks for: MinIO, OSS and COS reject the newer default checksums.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    }


def s3_storage_setting(environ: Mapping[str, str]) -> dict | None:
    """STORAGES["default"] for the environment, or None for local disk."""
    options = s3_options(environ)
    return None if options is None else {"BACKEND": S3_BACKEND, "OPTIONS": options}

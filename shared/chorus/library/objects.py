"""The media bucket (S3) as the media library uses it: presigned uploads and downloads, ranged reads,
thumbnails written and files deleted. The one place that talks to the bucket for media."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chorus.aws import client
from chorus.config import get_settings


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str


def _bucket() -> str:
    return get_settings().media_bucket


def presign_put(key: str, mime_type: str, expires_s: int = 900) -> str:
    url: str = client("s3").generate_presigned_url(
        "put_object", Params={"Bucket": _bucket(), "Key": key, "ContentType": mime_type}, ExpiresIn=expires_s
    )
    return url


def presign_get(key: str, expires_s: int = 3600) -> str:
    url: str = client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=expires_s
    )
    return url


def head(key: str) -> StoredObject:
    answer: dict[str, Any] = client("s3").head_object(Bucket=_bucket(), Key=key)
    return StoredObject(int(answer["ContentLength"]), str(answer.get("ContentType") or ""))


def read_range(key: str, offset: int, length: int) -> bytes:
    """Bytes ``offset`` .. ``offset + length - 1`` (fewer at the end of the object)."""
    if length <= 0:
        return b""
    answer = client("s3").get_object(Bucket=_bucket(), Key=key, Range=f"bytes={offset}-{offset + length - 1}")
    data: bytes = answer["Body"].read()
    return data


def put(key: str, data: bytes, content_type: str) -> None:
    client("s3").put_object(Bucket=_bucket(), Key=key, Body=data, ContentType=content_type)


def delete(keys: list[str]) -> None:
    client("s3").delete_objects(
        Bucket=_bucket(), Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
    )

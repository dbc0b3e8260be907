"""Production wiring of the publishing ports (SQS, EventBridge, S3), built once per process."""

from __future__ import annotations

from chorus.config import cached, get_settings
from chorus.posts.publisher import PublisherDeps
from chorus.posts.queue import default_queue


def _media_url(key: str) -> str:
    from chorus.aws import client

    url: str = client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": get_settings().media_bucket, "Key": key}, ExpiresIn=3600
    )
    return url


@cached
def publisher_deps() -> PublisherDeps:
    from chorus.events.bus import default_publisher

    settings = get_settings()
    return PublisherDeps(
        queue=default_queue(),
        events=default_publisher(),
        media_url=_media_url,
        max_attempts=settings.publish_max_attempts,
        max_receives=settings.publish_max_receives,
    )

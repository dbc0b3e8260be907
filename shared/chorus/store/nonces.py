"""Seen-once markers for signed webhook requests (WeChat timestamp+nonce, TikTok t+s): one item per
request key, written with a condition so a second claim inside the TTL fails, expired by DynamoDB TTL.

The receiver claims a key after the signature and window checks and releases it when the body could
not be queued, so the platform's retry of a request Chorus did not keep is not taken for a replay.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError

from chorus.store.models import MainItem, bind


class NonceItem(MainItem, discriminator="webhook_nonce"):
    platform = UnicodeAttribute()


def _pk(platform: str, key: str) -> str:
    return f"NONCE#{platform}#{key}"


class DynamoReplayGuard:
    """:class:`chorus.platforms.webhooks.ReplayGuard` on the main table."""

    def claim(self, platform: str, key: str, ttl_s: int) -> bool:
        bind()
        now = datetime.now(UTC)
        item = NonceItem(pk=_pk(platform, key), sk="nonce", platform=platform)
        item.expires_at = now + timedelta(seconds=ttl_s)
        # an item past its TTL that DynamoDB has not deleted yet (it may take hours) is not "seen"
        condition = MainItem.pk.does_not_exist() | (MainItem.expires_at < now)
        try:
            item.save(condition=condition)
        except PutError as exc:
            if "ConditionalCheckFailed" in str(getattr(exc, "cause_response_code", "")):
                return False
            raise
        return True

    def release(self, platform: str, key: str) -> None:
        bind()
        NonceItem(pk=_pk(platform, key), sk="nonce", platform=platform).delete()

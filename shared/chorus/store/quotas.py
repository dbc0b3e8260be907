"""Daily quota ledgers on the main table: units spent per platform bucket and quota day.

One item per (platform, bucket, day) holds the units spent. A charge is one conditional ``ADD``: it
succeeds only while the units spent plus the charge stay within the limit, so concurrent publishers
never spend past the platform's daily budget between them. Items expire two days after their day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from chorus.store.models import MainItem, bind

KEEP = timedelta(days=2)


class QuotaItem(MainItem, discriminator="quota_day"):
    platform = UnicodeAttribute()
    bucket = UnicodeAttribute()
    day = UnicodeAttribute()
    used = NumberAttribute(default=0)


def _key(platform: str, bucket: str, day: str) -> tuple[str, str]:
    return f"QUOTA#{platform}#{bucket}", f"DAY#{day}"


class DynamoQuotaLedger:
    """:class:`chorus.platforms.youtube.quota.QuotaLedger` on the main table."""

    def __init__(self, platform: str) -> None:
        self.platform = platform

    def charge(self, bucket: str, day: str, units: int, limit: int) -> bool:
        """Spend ``units`` of ``bucket`` on ``day`` if they fit under ``limit``; False (nothing spent)
        when they do not."""
        if units > limit:
            return False
        bind()
        pk, sk = _key(self.platform, bucket, day)
        item = QuotaItem(pk, sk, platform=self.platform, bucket=bucket, day=day)
        fits = QuotaItem.used.does_not_exist() | (QuotaItem.used <= limit - units)
        try:
            item.update(
                actions=[
                    QuotaItem.kind.set(QuotaItem),
                    QuotaItem.platform.set(self.platform),
                    QuotaItem.bucket.set(bucket),
                    QuotaItem.day.set(day),
                    QuotaItem.used.add(units),
                    QuotaItem.expires_at.set(datetime.now(UTC) + KEEP),
                ],
                condition=fits,
            )
        except UpdateError as exc:
            if "ConditionalCheckFailed" in str(getattr(exc, "cause_response_code", "")):
                return False
            raise
        return True

    def exhaust(self, bucket: str, day: str, limit: int) -> None:
        """The platform said the bucket is spent: mark it full for the rest of ``day``."""
        bind()
        pk, sk = _key(self.platform, bucket, day)
        QuotaItem(pk, sk, platform=self.platform, bucket=bucket, day=day).update(
            actions=[
                QuotaItem.kind.set(QuotaItem),
                QuotaItem.platform.set(self.platform),
                QuotaItem.bucket.set(bucket),
                QuotaItem.day.set(day),
                QuotaItem.used.set(limit),
                QuotaItem.expires_at.set(datetime.now(UTC) + KEEP),
            ]
        )

    def used(self, bucket: str, day: str) -> int:
        bind()
        try:
            item = QuotaItem.get(*_key(self.platform, bucket, day), consistent_read=True)
        except DoesNotExist:
            return 0
        return int(item.used or 0)

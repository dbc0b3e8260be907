"""Weibo metrics: repost, comment and like counts of statuses, and the account's followers.

- Posts: ``GET 2/statuses/count.json?ids=<id,id,...>`` (at most 100 ids a call) answers one object per
  status, ``{id, comments, reposts, attitudes}`` (``attitudes``: 表态数, the likes; commercial variants
  name it ``likes`` and send the numbers as strings: ``statuses_count_biz_response_docs_wrapped.json``,
  ``media_statuses_count_sp_biz_response_docs.jsonc``). ``reposts`` -> shares, ``comments`` ->
  comments, ``attitudes`` / ``likes`` -> likes; a count that is absent or not a number gives no point.
- Account: ``GET 2/users/show.json?uid=`` -> ``followers_count`` (followers), ``friends_count`` (follows).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from chorus.platforms.base import AccountCredentials, MetricPoint, MetricScope, counted_points
from chorus.platforms.codes import numeric
from chorus.platforms.http import batched
from chorus.platforms.weibo.api import PLATFORM, WeiboApi, id_of

IDS_PER_CALL = 100
POST_COUNTS = {"reposts": "shares", "comments": "comments", "attitudes": "likes", "likes": "likes"}
ACCOUNT_COUNTS = {"followers_count": "followers", "friends_count": "follows"}


def numbers(item: dict[str, Any]) -> dict[str, int]:
    """The item's counters as integers (Weibo sends some as strings)."""
    found: dict[str, int] = {}
    for name, value in item.items():
        number = numeric(value)  # a whole number, or its decimal string
        if number is not None:
            found[name] = number
    return found


class WeiboMetrics:
    name = PLATFORM

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.api = WeiboApi(session, base_url)

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        user = self.api.get(creds.access_token, "users/show", uid=creds.account_id)
        body = numbers(user) if isinstance(user, dict) else {}
        return counted_points(MetricScope.ACCOUNT, creds.account_id, body, ACCOUNT_COUNTS, datetime.now(UTC))

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        now = datetime.now(UTC)
        points: list[MetricPoint] = []
        for ids in batched(platform_post_ids, IDS_PER_CALL):
            answer = self.api.get(creds.access_token, "statuses/count", ids=",".join(ids))
            for item in answer if isinstance(answer, list) else []:
                status_id = id_of(item) if isinstance(item, dict) else None
                if status_id is None or status_id not in ids:
                    continue
                counts = {k: v for k, v in numbers(item).items() if k in POST_COUNTS}
                if "attitudes" in counts:
                    counts.pop("likes", None)
                points += counted_points(MetricScope.POST, status_id, counts, POST_COUNTS, now)
        return points

"""WeChat Official Account statistics from the ``datacube`` API, collected daily
(``fixtures/platform_api/china/wechat/datacube_*``).

Every call is ``POST /datacube/<api>?access_token=…`` with ``{begin_date, end_date}`` (``yyyy-MM-dd``,
Beijing dates). Yesterday's data is available after 08:00 Beijing time, so the last complete day asked
for is the day before yesterday until then, yesterday after. Points are stamped at the end of their
Beijing day (UTC), period ``day`` unless said:

* ``getusersummary`` (span up to 7 days: the last ``USER_DAYS`` days, so a day a collection missed is
  filled in): ``new_user`` summed over ``user_source`` -> ``follows``;
* ``getusercumulate`` (same span): ``cumulate_user`` -> ``followers`` (period ``lifetime``, as of that day);
* ``getarticlesummary`` (span 1 day: the last complete day): the account's articles' reads and shares
  that day, summed: ``int_page_read_count`` -> ``views``, ``share_count`` -> ``shares``,
  ``add_to_fav_count`` -> ``saves``. WeChat counts an article's day only when its reads, shares and
  favourites add up to at least 3.

Per-article statistics are keyed by ``msgid`` (the mass-send message), which no publishing answer
names: ``post_metrics`` has nothing to match an article id with and answers no points (absent, never
zero). Errors are read by the one ``errcode`` table (:mod:`chorus.platforms.wechat.errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import requests

from chorus.platforms.base import AccountCredentials, MetricPoint, MetricScope
from chorus.platforms.http import call, json_body
from chorus.platforms.wechat.errors import QUOTA_ZONE, raise_for_errcode
from chorus.platforms.wechat.token import AccessTokens, SharedTokenUser, api_url, with_token

PLATFORM = "wechat"
USER_DAYS = 6
"""Days of user statistics asked for at once (WeChat allows a span of up to 7)."""
AVAILABLE_AFTER = time(8, 0)
ARTICLE_DAY: Mapping[str, str] = {
    "int_page_read_count": "views",
    "share_count": "shares",
    "add_to_fav_count": "saves",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def last_complete_day(now: datetime) -> date:
    """The last Beijing day whose statistics WeChat has (yesterday's come after 08:00)."""
    local = now.astimezone(QUOTA_ZONE)
    back = 1 if local.time() >= AVAILABLE_AFTER else 2
    return local.date() - timedelta(days=back)


def end_of(day: date) -> datetime:
    """The end of a Beijing day, in UTC: when its day's values hold."""
    return datetime.combine(day + timedelta(days=1), time(0), QUOTA_ZONE).astimezone(UTC)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _day(entry: Mapping[str, Any]) -> date | None:
    try:
        return date.fromisoformat(str(entry.get("ref_date")))
    except ValueError:
        return None


class WeChatMetrics(SharedTokenUser):
    """:class:`~chorus.platforms.base.MetricsCollector` for an Official Account."""

    name = PLATFORM

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        tokens: AccessTokens | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.session = session or requests.Session()
        self._base_url = base_url
        self._tokens = tokens
        self._clock = clock

    def _list(self, creds: AccountCredentials, api: str, first: date, last: date) -> list[dict[str, Any]]:
        base = (self._base_url or api_url()).rstrip("/")
        body = {"begin_date": first.isoformat(), "end_date": last.isoformat()}

        def send(token: str) -> Any:
            resp = call(self.session, "POST", f"{base}/datacube/{api}", PLATFORM,
                        params={"access_token": token}, json=body, idempotent=True)  # fmt: skip
            answer = json_body(resp, PLATFORM)
            raise_for_errcode(answer, f"the statistics ({api})")
            return answer

        answer = with_token(self.tokens, base, creds, send)
        rows = answer.get("list") if isinstance(answer, dict) else None
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        last = last_complete_day(self._clock())
        first = last - timedelta(days=USER_DAYS - 1)
        account = creds.account_id
        points: list[MetricPoint] = []
        follows: dict[date, int] = {}
        for row in self._list(creds, "getusersummary", first, last):
            day, new = _day(row), _count(row.get("new_user"))
            if day is not None and new is not None:
                follows[day] = follows.get(day, 0) + new
        points += [
            MetricPoint(MetricScope.ACCOUNT, account, "follows", n, end_of(d), "day")
            for d, n in sorted(follows.items())
        ]
        for row in self._list(creds, "getusercumulate", first, last):
            day, total = _day(row), _count(row.get("cumulate_user"))
            if day is not None and total is not None:
                points.append(MetricPoint(MetricScope.ACCOUNT, account, "followers", total, end_of(day)))
        articles = self._list(creds, "getarticlesummary", last, last)
        for field_name, metric in ARTICLE_DAY.items():
            values = [v for row in articles if (v := _count(row.get(field_name))) is not None]
            if values:
                points.append(
                    MetricPoint(MetricScope.ACCOUNT, account, metric, sum(values), end_of(last), "day")
                )
        return points

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        return []  # datacube keys articles by msgid, which nothing Chorus holds for an article names

"""Key builders of the metrics table (``MetricsTable``: ``pk``/``sk`` strings, TTL ``expires_at``).

Every key is made here, never inline. Layout (``<ws>`` workspace id, ``<acct>`` Chorus account id):

  M#<ws>#<acct>              / D#<YYYY-MM-DD>          daily rollup of one account (UTC day)
  M#<ws>#<acct>              / MO#<YYYY-MM>            monthly rollup of one account (UTC month)
  M#<ws>#<acct>              / W#<YYYY-MM-DD>          scores of posts published in a UTC ISO week
                                                       (the date is that week's Monday)
  M#<ws>#<acct>              / POST#<platform post id> one post: metadata + latest lifetime values
  M#<ws>#<acct>              / STATE#<platform acct>   latest lifetime values of the account itself
  M#<ws>#<acct>              / P#<published at>#<id>   a followed post: what the collector follows
                                                       (until its 90-day ladder ends) and, until its
                                                       first collection folds it into its week, what
                                                       reports count (published time first: a range
                                                       is one Query)
  R#<ws>#<acct>#<scope>#<id> / <metric>#<period>#<at>  one raw point (idempotency key), TTL'd
  CPOST#<ws>#<acct>          / <platform post id>      legacy (before session 9): the registry's own
                                                       followed post, moved to ``P#`` by the account's
                                                       next collection run

Raw points have their own partition per observed object (post or account), so a busy account's
collection spreads its writes and one object's history is one Query. Rollups share the account's
partition, so a report reads each account's range with a few Queries over ``D#``/``MO#`` keys.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from chorus.store.keys import iso

DAY_PREFIX = "D#"
MONTH_PREFIX = "MO#"
WEEK_PREFIX = "W#"
POST_PREFIX = "POST#"
STATE_PREFIX = "STATE#"
FOLLOWED_PREFIX = "P#"


def rollup_pk(workspace_id: str, account_id: str) -> str:
    return f"M#{workspace_id}#{account_id}"


def day_sk(day: date) -> str:
    return f"{DAY_PREFIX}{day.isoformat()}"


def month_sk(day: date) -> str:
    """The monthly rollup holding ``day`` (any day of the month names it)."""
    return f"{MONTH_PREFIX}{day.year:04d}-{day.month:02d}"


def week_sk(day: date) -> str:
    """The post-score item of the ISO week (Monday to Sunday, UTC) holding ``day``."""
    return f"{WEEK_PREFIX}{week_start(day).isoformat()}"


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def post_sk(platform_post_id: str) -> str:
    return f"{POST_PREFIX}{platform_post_id}"


def followed_sk(published_at: datetime, platform_post_id: str) -> str:
    return f"{FOLLOWED_PREFIX}{iso(published_at)}#{platform_post_id}"


def followed_bound(at: datetime) -> str:
    """The sort key every followed post published at ``at`` or later sorts after (a range's bound)."""
    return f"{FOLLOWED_PREFIX}{iso(at)}"


def legacy_followed_pk(workspace_id: str, account_id: str) -> str:
    """The partition of an account's followed posts as the registry kept them before session 9."""
    return f"CPOST#{workspace_id}#{account_id}"


def account_state_sk(platform_account_id: str) -> str:
    return f"{STATE_PREFIX}{platform_account_id}"


def raw_pk(workspace_id: str, account_id: str, scope: str, object_id: str) -> str:
    return f"R#{workspace_id}#{account_id}#{scope}#{object_id}"


def raw_sk(metric: str, period: str, at: datetime) -> str:
    """Metric, period and the point's own time: a second write of the same observation collides."""
    return f"{metric}#{period}#{iso(at)}"


def parse_day_sk(sk: str) -> date:
    return date.fromisoformat(sk.removeprefix(DAY_PREFIX))


def parse_month_sk(sk: str) -> date:
    """The first day of the month a ``MO#`` key names."""
    return date.fromisoformat(sk.removeprefix(MONTH_PREFIX) + "-01")

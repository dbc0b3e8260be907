"""Storage of competitors in the main table (``WS#<ws>`` partition), through ``CompetitorItem``:

  COMPETITOR#<id>                        the competitor
  CCURSOR#<id>                           where its collection stands (see :mod:`.collector`)
  CPOST#<id>#<platform post id>          one collected post (written again with fresh counts: no duplicate),
                                         on the calendar index as ``CPOSTS#<ws>#<id>`` / ``<created>#<post id>``
  CFOL#<id>#<UTC date>                   the follower count of the day (the day's last reading)

``COMPETITORS / <ws>`` registers workspaces with competitors (the collector needs no scan), and
``CQUOTA#<platform> / <UTC date>`` counts what collection spent of a platform's daily allowance.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from chorus.competitors.model import Competitor, CompetitorPost, FollowerPoint
from chorus.store import keys
from chorus.store.models import MainItem, bind
from chorus.store.pages import Page, PageRequest, prefix_page

REGISTRY = "COMPETITORS"


class CompetitorItem(MainItem, discriminator="competitor"):
    data = JSONAttribute(null=True)
    followers = NumberAttribute(null=True)
    used = NumberAttribute(null=True)


def _pk(workspace_id: str) -> str:
    return keys.workspace_pk(workspace_id)


def _sk(competitor_id: str) -> str:
    return f"COMPETITOR#{competitor_id}"


def save_competitor(competitor: Competitor) -> None:
    bind()
    CompetitorItem(_pk(competitor.workspace_id), _sk(competitor.id), data=competitor.to_dict()).save(
        condition=CompetitorItem.sk.does_not_exist()
    )
    CompetitorItem(REGISTRY, competitor.workspace_id).save()


def get_competitor(workspace_id: str, competitor_id: str) -> Competitor | None:
    bind()
    try:
        item = CompetitorItem.get(_pk(workspace_id), _sk(competitor_id), consistent_read=True)
    except DoesNotExist:
        return None
    return Competitor.from_dict(item.data or {})


def resolve_competitor(
    competitor: Competitor, platform_id: str, handle: str, display_name: str | None, url: str | None
) -> Competitor:
    """Keep what the platform's lookup said about a competitor added unresolved."""
    bind()
    resolved = replace(competitor, platform_id=platform_id, handle=handle, display_name=display_name, url=url)
    CompetitorItem(_pk(competitor.workspace_id), _sk(competitor.id), data=resolved.to_dict()).save(
        condition=CompetitorItem.sk.exists()
    )
    return resolved


def list_competitors(workspace_id: str) -> list[Competitor]:
    bind()
    return [
        Competitor.from_dict(i.data or {})
        for i in CompetitorItem.query(_pk(workspace_id), CompetitorItem.sk.startswith("COMPETITOR#"))
    ]


def competitors_page(workspace_id: str, page: PageRequest) -> Page[Competitor]:
    """One page of the workspace's competitors (``GET /competitors``)."""
    bind()
    found = prefix_page(CompetitorItem, _pk(workspace_id), "COMPETITOR#", page)
    return Page([Competitor.from_dict(i.data or {}) for i in found.items], found.next_cursor)


def delete_competitor(workspace_id: str, competitor_id: str) -> bool:
    """Forget a competitor and everything collected about it; False when there was none."""
    bind()
    try:
        CompetitorItem.get(_pk(workspace_id), _sk(competitor_id)).delete()
    except DoesNotExist:
        return False
    with CompetitorItem.batch_write() as batch:
        for prefix in (f"CPOST#{competitor_id}#", f"CFOL#{competitor_id}#", f"CCURSOR#{competitor_id}"):
            for item in CompetitorItem.query(_pk(workspace_id), CompetitorItem.sk.startswith(prefix)):
                batch.delete(item)
    return True


def workspaces() -> Iterator[str]:
    bind()
    for item in CompetitorItem.query(REGISTRY):
        yield item.sk


# ------------------------------------------------------------------------------------------- cursor
def load_cursor(workspace_id: str, competitor_id: str) -> dict[str, Any]:
    bind()
    try:
        item = CompetitorItem.get(_pk(workspace_id), f"CCURSOR#{competitor_id}", consistent_read=True)
    except DoesNotExist:
        return {}
    return dict(item.data or {})


def save_cursor(workspace_id: str, competitor_id: str, cursor: dict[str, Any]) -> None:
    CompetitorItem(_pk(workspace_id), f"CCURSOR#{competitor_id}", data=cursor).save()


# -------------------------------------------------------------------------------------------- posts
def save_posts(workspace_id: str, competitor_id: str, posts: list[CompetitorPost]) -> int:
    """Store posts by platform id (a post seen again is overwritten with its new counts); returns how
    many were not stored before."""
    bind()
    if not posts:
        return 0
    sks = {f"CPOST#{competitor_id}#{p.platform_post_id}": p for p in posts}
    known = {
        i.sk for i in CompetitorItem.batch_get([(_pk(workspace_id), sk) for sk in sks], consistent_read=True)
    }
    with CompetitorItem.batch_write() as batch:
        for sk, post in sks.items():
            batch.save(
                CompetitorItem(
                    _pk(workspace_id),
                    sk,
                    data=post.to_dict(),
                    gsi2pk=_timeline_pk(workspace_id, competitor_id),
                    gsi2sk=f"{keys.iso(post.created_at)}#{post.platform_post_id}",
                )
            )
    return len(set(sks) - known)


def _timeline_pk(workspace_id: str, competitor_id: str) -> str:
    """The competitor's posts in time order, on the calendar index (a report reads only its period)."""
    return f"CPOSTS#{workspace_id}#{competitor_id}"


def posts_between(
    workspace_id: str, competitor_id: str, start: datetime, end: datetime
) -> list[CompetitorPost]:
    """The competitor's stored posts created in ``[start, end)``, oldest first: one range query of the
    calendar index, whatever else was collected."""
    bind()
    found = CompetitorItem.calendar_index.query(
        _timeline_pk(workspace_id, competitor_id),
        CompetitorItem.gsi2sk.between(keys.iso(start), keys.iso(end)),
    )
    posts = (CompetitorPost.from_dict(i.data or {}) for i in found if isinstance(i, CompetitorItem))
    return [p for p in posts if start <= p.created_at < end]


# ---------------------------------------------------------------------------------------- followers
def record_followers(workspace_id: str, competitor_id: str, followers: int, at: datetime) -> None:
    bind()
    day = at.astimezone(UTC).date().isoformat()
    CompetitorItem(_pk(workspace_id), f"CFOL#{competitor_id}#{day}", followers=followers).save()


def follower_points(workspace_id: str, competitor_id: str, start: date, end: date) -> list[FollowerPoint]:
    """Daily follower readings over the UTC days ``start``..``end`` (inclusive), oldest first."""
    bind()
    prefix = f"CFOL#{competitor_id}#"
    items = CompetitorItem.query(
        _pk(workspace_id), CompetitorItem.sk.between(prefix + start.isoformat(), prefix + end.isoformat())
    )
    return [
        FollowerPoint(date.fromisoformat(i.sk.removeprefix(prefix)), int(i.followers))
        for i in items
        if i.followers is not None
    ]


# -------------------------------------------------------------------------------------------- quota
class QuotaExhausted(Exception):
    """The platform's daily allowance for competitor collection is spent."""


def spend(platform: str, units: int, allowance: int, at: datetime) -> int:
    """Take ``units`` of today's (UTC) allowance of ``platform`` before the call that costs them, or
    raise :class:`QuotaExhausted`; returns what is spent today, this call included."""
    if units > allowance:
        raise QuotaExhausted(f"{platform}: {units} units do not fit in {allowance} a day")
    bind()
    item = CompetitorItem(f"CQUOTA#{platform}", at.astimezone(UTC).date().isoformat())
    try:
        item.update(
            actions=[CompetitorItem.used.add(units), CompetitorItem.kind.set(CompetitorItem)],
            condition=CompetitorItem.used.does_not_exist() | (CompetitorItem.used <= allowance - units),
        )
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(exc.cause_response_code or exc):
            raise QuotaExhausted(f"{platform}: {allowance} a day spent") from exc
        raise
    return int(item.used or 0)


def spent(platform: str, day: date) -> int:
    bind()
    try:
        return int(CompetitorItem.get(f"CQUOTA#{platform}", day.isoformat()).used or 0)
    except DoesNotExist:
        return 0

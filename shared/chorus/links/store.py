"""Short links in the main table (keys: ``chorus.store.keys``).

``WS#<ws> / SHORT#<post>#<acct>#<n>`` names the code of a post's n-th link for one account; it and the
``LINK#<code> / LINK`` item the redirect reads are written in one transaction, each only if absent, so a
retried publish finds the code an earlier attempt made (exactly once: the same short link goes out).
A person's click is counted on the ``LINK#<code>`` item itself, by the UpdateItem that reads its
destination: one call per click, atomic counters per day, hour, referrer platform and country."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chorus.aws import client
from chorus.config import get_settings
from chorus.errors import NotFound
from chorus.store import keys
from chorus.store.models import (
    LinkCodeItem,
    ShortLinkItem,
    WorkspaceItem,
    bind,
    connection,
)


@dataclass(frozen=True)
class ShortLink:
    code: str
    workspace_id: str
    post_id: str
    account_id: str
    platform: str
    campaign_id: str | None
    destination: str
    original: str
    n: int = 0
    short_url: str = ""


@dataclass
class Clicks:
    """Counted clicks (bots excluded) with their split by referrer platform, country and UTC day."""

    clicks: int = 0
    by_referrer: dict[str, int] = field(default_factory=dict)
    by_country: dict[str, int] = field(default_factory=dict)
    by_day: dict[str, int] = field(default_factory=dict)

    def add(self, other: Clicks) -> None:
        self.clicks += other.clicks
        for mine, theirs in (
            (self.by_referrer, other.by_referrer),
            (self.by_country, other.by_country),
            (self.by_day, other.by_day),
        ):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v

    def public(self) -> dict[str, object]:
        return {
            "clicks": self.clicks,
            "by_referrer": dict(sorted(self.by_referrer.items())),
            "by_country": dict(sorted(self.by_country.items())),
            "by_day": dict(sorted(self.by_day.items())),
        }


def _short(item: ShortLinkItem) -> ShortLink:
    return ShortLink(
        code=item.code,
        workspace_id=item.workspace_id,
        post_id=item.post_id,
        account_id=item.account_id,
        platform=item.platform,
        campaign_id=item.campaign_id,
        destination=item.destination,
        original=item.original,
        n=int(item.sk.rsplit("#", 1)[1]),
        short_url=item.short_url or "",
    )


def short_links_of(workspace_id: str, post_id: str, consistent: bool = False) -> list[ShortLink]:
    bind()
    found = ShortLinkItem.query(
        keys.workspace_pk(workspace_id),
        ShortLinkItem.sk.startswith(keys.short_links_prefix(post_id)),
        consistent_read=consistent,
    )
    return [_short(i) for i in found]


def create(link: ShortLink, now: datetime) -> ShortLink | None:
    """Store ``link`` (its target item and its code item) if the target has none yet; the one stored
    when another attempt was first (None only if neither is readable, which the caller retries)."""
    bind()
    pk, sk = keys.workspace_pk(link.workspace_id), keys.short_link_sk(link.post_id, link.account_id, link.n)
    short = ShortLinkItem(
        pk, sk, workspace_id=link.workspace_id, code=link.code, post_id=link.post_id,
        account_id=link.account_id, platform=link.platform, campaign_id=link.campaign_id,
        destination=link.destination, original=link.original, short_url=link.short_url, created_at=now,
    )  # fmt: skip
    coded = LinkCodeItem(
        keys.link_pk(link.code), keys.link_sk(), workspace_id=link.workspace_id, post_id=link.post_id,
        account_id=link.account_id, platform=link.platform, campaign_id=link.campaign_id,
        destination=link.destination, disabled=False, created_at=now,
    )  # fmt: skip
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(short, condition=ShortLinkItem.pk.does_not_exist())
            tx.save(coded, condition=LinkCodeItem.pk.does_not_exist())
        return link
    except TransactWriteError:
        try:
            return _short(ShortLinkItem.get(pk, sk, consistent_read=True))
        except DoesNotExist:
            return None  # the code itself collided (one in 62**10): the caller draws another


def set_destination(link: ShortLink, destination: str, original: str) -> ShortLink:
    """The post was edited before it went out: the same code now leads to the new URL."""
    bind()
    sk = keys.short_link_sk(link.post_id, link.account_id, link.n)
    campaign = link.campaign_id
    ShortLinkItem(keys.workspace_pk(link.workspace_id), sk).update(
        actions=[
            ShortLinkItem.destination.set(destination),
            ShortLinkItem.original.set(original),
            ShortLinkItem.campaign_id.set(campaign) if campaign else ShortLinkItem.campaign_id.remove(),
        ]
    )
    LinkCodeItem(keys.link_pk(link.code), keys.link_sk()).update(
        actions=[
            LinkCodeItem.destination.set(destination),
            LinkCodeItem.campaign_id.set(campaign) if campaign else LinkCodeItem.campaign_id.remove(),
        ]
    )
    return replace(link, destination=destination, original=original)


def resolve(code: str) -> tuple[str, bool] | None:
    """(destination, disabled) of ``code``: a bot's redirect reads only this."""
    answer = client("dynamodb").get_item(
        TableName=get_settings().table,
        Key={"pk": {"S": keys.link_pk(code)}, "sk": {"S": keys.link_sk()}},
        ProjectionExpression="destination, disabled",
    )
    item = answer.get("Item")
    if not item or "destination" not in item:
        return None
    return item["destination"]["S"], bool(item.get("disabled", {}).get("BOOL", False))


def count_click(code: str, at: datetime, referrer: str, country: str | None) -> str | None:
    """A person's click, counted and read in one UpdateItem of the link's item: ``clicks`` and the
    counters of its UTC day (``d_<date>``), hour (``h_<hh>``), referrer platform (``r_<name>``) and
    country (``c_<CC>``) are added atomically, on condition that the link exists and is not disabled.
    Returns the destination; None when the condition failed (no such link, or disabled)."""
    utc = at.astimezone(UTC)
    names = {"#d": f"d_{utc:%Y-%m-%d}", "#h": f"h_{utc:%H}", "#r": f"r_{referrer}", "#disabled": "disabled"}
    adds = "clicks :one, #d :one, #h :one, #r :one"
    if country:
        names["#c"] = f"c_{country}"
        adds += ", #c :one"
    try:
        answer = client("dynamodb").update_item(
            TableName=get_settings().table,
            Key={"pk": {"S": keys.link_pk(code)}, "sk": {"S": keys.link_sk()}},
            UpdateExpression=f"ADD {adds}",
            ConditionExpression="attribute_exists(pk) AND #disabled = :no",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":one": {"N": "1"}, ":no": {"BOOL": False}},
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return None
        raise
    return str(answer["Attributes"]["destination"]["S"])


def clicks_of(code: str, start: date | None = None, end: date | None = None) -> Clicks:
    """Counted clicks of ``code``: by UTC day (only ``start``..``end`` when given, inclusive; ``clicks`` is
    then their sum), by referrer platform and by country over the link's life."""
    answer = client("dynamodb").get_item(
        TableName=get_settings().table, Key={"pk": {"S": keys.link_pk(code)}, "sk": {"S": keys.link_sk()}}
    )
    item = answer.get("Item") or {}
    counters = {name: int(value["N"]) for name, value in item.items() if "N" in value}
    found = Clicks(clicks=counters.get("clicks", 0))
    low, high = (start or date.min).isoformat(), (end or date.max).isoformat()
    for name, value in counters.items():
        kind, _, what = name.partition("_")
        if kind == "d" and low <= what <= high:
            found.by_day[what] = value
        elif kind == "r":
            found.by_referrer[what] = value
        elif kind == "c":
            found.by_country[what] = value
    if start or end:
        found.clicks = sum(found.by_day.values())
    return found


def set_disabled(workspace_id: str, code: str, disabled: bool) -> None:
    bind()
    try:
        item = LinkCodeItem.get(keys.link_pk(code), keys.link_sk(), consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(f"short link {code} not found") from exc
    if item.workspace_id != workspace_id:
        raise NotFound(f"short link {code} not found")  # another workspace's link is not named
    item.update(actions=[LinkCodeItem.disabled.set(disabled)])


def code_item(code: str) -> LinkCodeItem | None:
    bind()
    try:
        return LinkCodeItem.get(keys.link_pk(code), keys.link_sk(), consistent_read=True)
    except DoesNotExist:
        return None


def workspace_link_settings(workspace_id: str) -> dict[str, object]:
    bind()
    try:
        item = WorkspaceItem.get(keys.workspace_pk(workspace_id), keys.workspace_meta_sk())
    except DoesNotExist as exc:
        raise NotFound(f"workspace {workspace_id} not found") from exc
    links = (item.settings or {}).get("links")
    return dict(links) if isinstance(links, dict) else {}


def set_workspace_link_settings(workspace_id: str, values: Mapping[str, object]) -> None:
    bind()
    item = WorkspaceItem.get(keys.workspace_pk(workspace_id), keys.workspace_meta_sk())
    item.update(actions=[WorkspaceItem.settings.set({**(item.settings or {}), "links": dict(values)})])


def posts_links(workspace_id: str, post_ids: Iterable[str]) -> list[ShortLink]:
    found: list[ShortLink] = []
    for post_id in post_ids:
        found.extend(short_links_of(workspace_id, post_id))
    return found

"""Listening: monitors, mentions (deduplicated, with sentiment), per-window counts, the crisis
early-warning run, incidents (acknowledge, resolve, escalate) and automatic pause of publishing.

Storage is the main table (``WS#<ws>`` partition), through ``ListeningItem``:
  MONITOR#<id>                          a monitor
  MENTION#<platform>#<platform id>      a mention (written once: the dedupe)
  MWIN#<key>#<window start>             negatives/total per 5-minute window, ADDed as mentions land
  MDAY#<key>#<UTC date>                 total/negatives/positives per day (share of voice, reports)
  OVERRIDE#<time>#<id>                  a person's sentiment override (who, when, from -> to)
  CRISIS#<key>                          the detector's state (one small item per key)
  INCIDENT#<id>                         an incident with its timeline and sample messages
and ``LISTENING / <ws>`` registers workspaces that listen, so the detection run needs no table scan.
``key`` is ``all`` (the workspace) or a monitor id.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError

from chorus.auth import workspaces
from chorus.events.envelope import DomainEvent, EventPublisher
from chorus.listening.crisis import Action, DetectorState, observe
from chorus.listening.matching import matches
from chorus.listening.monitors import Mention, Monitor, MonitorKind
from chorus.store import keys
from chorus.store.models import MainItem, WorkspaceItem, bind
from chorus.store.pages import KeyRange, Page, PageRequest, prefix_page, read_page
from chorus.ttl import TtlCache

WINDOW = timedelta(minutes=5)
ESCALATE_AFTER = timedelta(minutes=15)
SAMPLES = 5


class ListeningItem(MainItem, discriminator="listening"):
    data = JSONAttribute(null=True)
    negatives = NumberAttribute(null=True)
    total = NumberAttribute(null=True)
    positives = NumberAttribute(null=True)
    label = UnicodeAttribute(null=True)


def _pk(workspace_id: str) -> str:
    return keys.workspace_pk(workspace_id)


def window_start(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(minute=at.minute - at.minute % 5, second=0, microsecond=0)


# ------------------------------------------------------------------------------------------ monitors
def create_monitor(workspace_id: str, raw: dict[str, Any]) -> Monitor:
    monitor = Monitor.from_dict({**raw, "id": "mon" + uuid.uuid4().hex[:10], "workspace_id": workspace_id})
    bind()
    ListeningItem(_pk(workspace_id), f"MONITOR#{monitor.id}", data=monitor.to_dict()).save()
    ListeningItem("LISTENING", workspace_id).save()
    _monitors.forget(workspace_id)
    return monitor


MONITORS_TTL_S = 30.0
_monitors: TtlCache[str, list[Monitor]] = TtlCache(MONITORS_TTL_S)


def current_monitors(workspace_id: str) -> list[Monitor]:
    """The monitors inbox messages are matched against: read at most every MONITORS_TTL_S per process
    (a burst for one workspace reads them once; a change applies everywhere within that time)."""
    return _monitors.get(workspace_id, list_monitors)


def list_monitors(workspace_id: str) -> list[Monitor]:
    bind()
    return [
        Monitor.from_dict(i.data)
        for i in ListeningItem.query(_pk(workspace_id), ListeningItem.sk.startswith("MONITOR#"))
    ]


def monitors_page(workspace_id: str, page: PageRequest) -> Page[Monitor]:
    """One page of the workspace's monitors (GET /monitors)."""
    bind()
    found = prefix_page(ListeningItem, _pk(workspace_id), "MONITOR#", page)
    return Page([Monitor.from_dict(i.data) for i in found.items], found.next_cursor)


def delete_monitor(workspace_id: str, monitor_id: str) -> None:
    from chorus.errors import NotFound

    bind()
    try:
        ListeningItem.get(_pk(workspace_id), f"MONITOR#{monitor_id}").delete()
    except DoesNotExist as exc:
        raise NotFound(f"monitor {monitor_id} not found") from exc
    _monitors.forget(workspace_id)


SENTIMENT_BACKENDS = ("offline", "comprehend")


def listening_settings(workspace_id: str) -> dict[str, Any]:
    """The workspace's listening settings with their defaults (auto_pause off, offline sentiment)."""
    bind()
    item = WorkspaceItem.get(_pk(workspace_id), keys.workspace_meta_sk())
    stored = (item.settings or {}).get("listening", {})
    return {"auto_pause": False, "sentiment_backend": "offline", **stored}


def update_settings(
    workspace_id: str, *, auto_pause: bool | None = None, sentiment_backend: str | None = None
) -> dict[str, Any]:
    """Change the given listening settings (None leaves one as it is); returns them all."""
    from chorus.errors import NotFound, ValidationFailed

    if sentiment_backend is not None and sentiment_backend not in SENTIMENT_BACKENDS:
        raise ValidationFailed.on(
            "sentiment_backend", f"must be one of {', '.join(SENTIMENT_BACKENDS)}", "enum"
        )
    bind()
    try:
        item = WorkspaceItem.get(_pk(workspace_id), keys.workspace_meta_sk())
    except DoesNotExist as exc:
        raise NotFound(f"workspace {workspace_id} not found") from exc
    settings = dict(item.settings or {})
    changed = {
        name: value
        for name, value in (("auto_pause", auto_pause), ("sentiment_backend", sentiment_backend))
        if value is not None
    }
    settings["listening"] = {**settings.get("listening", {}), **changed}
    item.update(actions=[WorkspaceItem.settings.set(settings)])
    if sentiment_backend is not None:
        from chorus.listening.scoring import forget_backend

        forget_backend(workspace_id)
    return {"auto_pause": False, "sentiment_backend": "offline", **settings["listening"]}


def set_auto_pause(workspace_id: str, enabled: bool) -> dict[str, Any]:
    return update_settings(workspace_id, auto_pause=enabled)


def _auto_pause(workspace_id: str) -> bool:
    item = WorkspaceItem.get(_pk(workspace_id), keys.workspace_meta_sk())
    return bool((item.settings or {}).get("listening", {}).get("auto_pause", False))


# ------------------------------------------------------------------------------------------ mentions
@dataclass(frozen=True)
class Recorded:
    stored: bool  # False: a duplicate
    monitors: tuple[str, ...]


def mention_id(platform: str, platform_id: str) -> str:
    """A mention's id in the API: its platform and platform id, URL-safe (AT-URIs carry slashes)."""
    return base64.urlsafe_b64encode(f"{platform}#{platform_id}".encode()).decode().rstrip("=")


def parse_mention_id(value: str) -> tuple[str, str]:
    """``(platform, platform id)`` of an id :func:`mention_id` gave out (NotFound for anything else)."""
    from chorus.errors import NotFound

    try:
        platform, _, platform_id = (
            base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().partition("#")
        )
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise NotFound(f"mention {value} not found") from exc
    if not platform or not platform_id:
        raise NotFound(f"mention {value} not found")
    return platform, platform_id


def mention_sk(platform: str, platform_id: str) -> str:
    return f"MENTION#{platform}#{platform_id}"


def _window_sk(key: str, at: datetime) -> str:
    return f"MWIN#{key}#{keys.iso(window_start(at))}"


def _day_sk(key: str, day: date) -> str:
    return f"MDAY#{key}#{day.isoformat()}"


def count_sentiment(
    workspace_id: str, keys_: Iterable[str], at: datetime, *, total: int, negatives: int, positives: int
) -> None:
    """ADD to the 5-minute window (the crisis detector's input) and the UTC day (share of voice) of
    ``at``, for each key (``all`` and monitor ids). Overrides call it with -1/+1 to move a mention."""
    day = at.astimezone(UTC).date()
    for key in keys_:
        for sk in (_window_sk(key, at), _day_sk(key, day)):
            ListeningItem(_pk(workspace_id), sk).update(
                actions=[
                    ListeningItem.negatives.add(negatives),
                    ListeningItem.positives.add(positives),
                    ListeningItem.total.add(total),
                    ListeningItem.kind.set(ListeningItem),  # queries of the subclass filter on it
                ]
            )


def record_mention(
    workspace_id: str,
    mention: Mention,
    sentiment: str,
    monitors: Iterable[Monitor],
    *,
    sentiment_source: str | None = None,
    inbox: dict[str, str] | None = None,
    only_if_matched: bool = False,
) -> Recorded:
    """Store a mention once (by platform id), count it in its window and day for the workspace and
    each monitor it matches. Inbox messages and search results both come through here; inbox messages
    (``only_if_matched``) are stored only when some monitor matches, with ``inbox`` naming the message."""
    bind()
    hits = tuple(
        m.id for m in monitors if matches(m, mention.text, lang=mention.lang, platform=mention.platform)
    )
    if only_if_matched and not hits:
        return Recorded(False, hits)
    data: dict[str, Any] = {
        "platform": mention.platform,
        "platform_id": mention.platform_id,
        "url": mention.url,
        "author": mention.author_handle,
        "text": mention.text[:2000],
        "created_at": keys.iso(mention.created_at),
        "lang": mention.lang,
        "monitors": list(hits),
        "sentiment_source": sentiment_source,
    }
    if inbox:
        data["inbox"] = dict(inbox)
    item = ListeningItem(
        _pk(workspace_id),
        mention_sk(mention.platform, mention.platform_id),
        data=data,
        label=sentiment,
        gsi2pk=f"MENTIONS#{workspace_id}",
        gsi2sk=f"{keys.iso(mention.created_at)}#{mention.platform}#{mention.platform_id}",
    )
    try:
        item.save(condition=ListeningItem.sk.does_not_exist())
    except PutError as exc:
        if "ConditionalCheckFailed" in str(exc):
            return Recorded(False, hits)
        raise
    count_sentiment(
        workspace_id,
        ("all", *hits),
        mention.created_at,
        total=1,
        negatives=int(sentiment == "negative"),
        positives=int(sentiment == "positive"),
    )
    ListeningItem("LISTENING", workspace_id).save()
    return Recorded(True, hits)


def mention_view(item: ListeningItem) -> dict[str, Any]:
    data = dict(item.data or {})
    return {
        **data,
        "id": mention_id(str(data.get("platform")), str(data.get("platform_id"))),
        "sentiment": item.label,
    }


def mentions_page(
    workspace_id: str, start: datetime, end: datetime, monitor_id: str | None, page: PageRequest
) -> Page[dict[str, Any]]:
    """One page of the mentions heard between ``start`` and ``end``, newest first (of ``monitor_id``
    only when given): at most ``page.limit`` read, so a page of one monitor's may hold fewer."""
    bind()
    partition = f"MENTIONS#{workspace_id}"

    def query(**kw: Any) -> Any:
        return ListeningItem.calendar_index.query(
            partition,
            ListeningItem.gsi2sk.between(keys.iso(start), keys.iso(end) + "~"),
            scan_index_forward=False,
            **kw,
        )

    def keep(item: Any) -> bool:
        return (
            isinstance(item, ListeningItem)
            and bool(item.data)
            and (not monitor_id or monitor_id in item.data.get("monitors", []))
        )

    found = read_page(query, page, KeyRange(("gsi2pk", partition), None, _INDEX_KEYS), keep)
    return Page([mention_view(i) for i in found.items], found.next_cursor)


_INDEX_KEYS = frozenset({"pk", "sk", "gsi2pk", "gsi2sk"})


def mentions(
    workspace_id: str, start: datetime, end: datetime, monitor_id: str | None = None
) -> list[dict[str, Any]]:
    bind()
    out = []
    for item in ListeningItem.calendar_index.query(
        f"MENTIONS#{workspace_id}", ListeningItem.gsi2sk.between(keys.iso(start), keys.iso(end) + "~"),
        scan_index_forward=False,
    ):  # fmt: skip
        if isinstance(item, ListeningItem) and item.data:
            if monitor_id and monitor_id not in item.data.get("monitors", []):
                continue
            out.append(mention_view(item))
    return out


MAX_WINDOWS = 2016  # a week of 5-minute windows in one answer


def series_page(
    workspace_id: str, key: str, start: datetime, end: datetime, page: PageRequest
) -> Page[dict[str, Any]]:
    """One page of the mention volume and negatives per 5-minute window (GET /listening/series)."""
    bind()
    pk, prefix = _pk(workspace_id), f"MWIN#{key}#"
    found: Page[ListeningItem] = read_page(
        lambda **kw: ListeningItem.query(
            pk, ListeningItem.sk.between(f"{prefix}{keys.iso(start)}", f"{prefix}{keys.iso(end)}"), **kw
        ),
        page,
        KeyRange(("pk", pk), ("sk", prefix)),
    )
    return Page([_window_view(i) for i in found.items], found.next_cursor)


def _window_view(item: ListeningItem) -> dict[str, Any]:
    return {
        "window_start": item.sk.split("#", 2)[2],
        "negatives": int(item.negatives or 0),
        "total": int(item.total or 0),
    }


def series(workspace_id: str, key: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Mention volume and negatives per 5-minute window (key: ``all`` or a monitor id)."""
    bind()
    return [
        _window_view(i)
        for i in ListeningItem.query(
            _pk(workspace_id),
            ListeningItem.sk.between(f"MWIN#{key}#{keys.iso(start)}", f"MWIN#{key}#{keys.iso(end)}"),
        )
    ]


# ------------------------------------------------------------------------------------------ detection
@dataclass(frozen=True)
class DetectionReport:
    workspaces: int
    raised: int
    escalated: int
    resolved: int


def run_detection(now: datetime, events: EventPublisher, pauser: Any | None = None) -> DetectionReport:
    """Observe the last closed window of every listening workspace (and each of its monitors)."""
    bind()
    closed_end = window_start(now)
    raised = escalated = resolved = count = 0
    for reg in ListeningItem.query("LISTENING"):
        workspace_id = reg.sk
        count += 1
        # The workspace as a whole raises the incident; a monitor that spikes in the same run adds to
        # it (one crisis, one alert); a monitor alone raises its own, except competitors' (no alert).
        open_incident: str | None = None
        for key, competitor in [
            ("all", False),
            *((m.id, m.is_competitor) for m in list_monitors(workspace_id)),
        ]:
            outcome, incident = _observe_key(
                workspace_id, key, closed_end, events, pauser, attach_to=open_incident, silent=competitor
            )
            if outcome == "raise" and key == "all":
                open_incident = incident
            raised += outcome == "raise" and (key == "all" or open_incident is None) and not competitor
            resolved += outcome == "resolve"
        escalated += _escalate(workspace_id, now, events)
    return DetectionReport(count, raised, escalated, resolved)


def _observe_key(
    workspace_id: str,
    key: str,
    window_end: datetime,
    events: EventPublisher,
    pauser: Any | None,
    attach_to: str | None = None,
    silent: bool = False,
) -> tuple[str, str | None]:
    try:
        state_item = ListeningItem.get(_pk(workspace_id), f"CRISIS#{key}", consistent_read=True)
        state = DetectorState.from_dict(state_item.data)
    except DoesNotExist:
        state = DetectorState.from_dict(None)
    if state.last_window_end and state.last_window_end >= window_end:
        return "seen", None
    # Feed every closed window since the last one observed (a missed run is caught up, up to a day).
    start = max(state.last_window_end or window_end - WINDOW, window_end - timedelta(days=1))
    counts = {c["window_start"]: c for c in series(workspace_id, key, start, window_end - WINDOW)}
    outcome, incident = "continue", None
    at = start
    while at < window_end:
        c = counts.get(keys.iso(at), {"negatives": 0, "total": 0})
        state, decision = observe(state, at + WINDOW, c["negatives"], c["total"])
        if decision.action is Action.RAISE:
            if attach_to:
                _timeline(workspace_id, attach_to, f"monitor {key} spiked too", decision.to_dict())
            elif not silent:
                incident = _raise(workspace_id, key, decision.to_dict(), events, pauser)
            outcome = "raise"
        elif decision.action is Action.RESOLVE and decision.incident_id:
            _timeline(
                workspace_id, decision.incident_id, "resolved automatically", decision.to_dict(), close=True
            )
            outcome = "resolve"
        at += WINDOW
    ListeningItem(_pk(workspace_id), f"CRISIS#{key}", data=state.to_dict()).save()
    return outcome, incident


def _raise(
    workspace_id: str, key: str, decision: dict[str, Any], events: EventPublisher, pauser: Any | None
) -> str:
    now = datetime.now(UTC)
    incident_id = str(decision.get("incident_id") or "inc" + uuid.uuid4().hex[:10])
    window_end = datetime.fromisoformat(decision["window_end"].replace("Z", "+00:00"))
    samples = [
        m for m in mentions(workspace_id, window_end - WINDOW, window_end) if m.get("sentiment") == "negative"
    ][:SAMPLES]
    paused = False
    if pauser is not None and key == "all" and _auto_pause(workspace_id):
        pauser(workspace_id, f"crisis {incident_id}: {decision['negatives']} negative mentions in 5 minutes")
        paused = True
    record = {
        "id": incident_id,
        "key": key,
        "state": "open",
        "severity": decision.get("severity"),
        "opened_at": keys.iso(now),
        "acknowledged_at": None,
        "escalated": False,
        "publishing_paused": paused,
        "samples": samples,
        "timeline": [{"at": keys.iso(now), "event": "raised", "details": decision}],
    }
    try:
        ListeningItem(_pk(workspace_id), f"INCIDENT#{incident_id}", data=record).save(
            condition=ListeningItem.sk.does_not_exist()
        )
    except PutError:
        return incident_id  # this incident was raised already (a replayed run): no second alert
    events.publish(
        [
            DomainEvent(
                "CrisisRaised",
                workspace_id,
                {
                    "incident_id": incident_id,
                    "monitor": key,
                    "severity": decision.get("severity"),
                    "negatives": decision["negatives"],
                    "baseline": decision["baseline"],
                    "publishing_paused": paused,
                    "samples": [s.get("text", "")[:280] for s in samples],
                },
                correlation_id=incident_id,
            )
        ]
    )
    return incident_id


def _timeline(
    workspace_id: str, incident_id: str, event: str, details: dict[str, Any], close: bool = False
) -> dict[str, Any]:
    from chorus.errors import NotFound

    try:
        item = ListeningItem.get(_pk(workspace_id), f"INCIDENT#{incident_id}", consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(f"incident {incident_id} not found") from exc
    data = dict(item.data or {})
    now = keys.iso(datetime.now(UTC))
    data["timeline"] = [*data.get("timeline", []), {"at": now, "event": event, "details": details}]
    if event == "acknowledged":
        data["acknowledged_at"] = now
    if close:
        data["state"] = "resolved"
        data["resolved_at"] = now
    item.update(actions=[ListeningItem.data.set(data)])
    return data


def _escalate(workspace_id: str, now: datetime, events: EventPublisher) -> int:
    escalated = 0
    for item in ListeningItem.query(_pk(workspace_id), ListeningItem.sk.startswith("INCIDENT#")):
        data = item.data or {}
        opened = datetime.fromisoformat(str(data.get("opened_at", "")).replace("Z", "+00:00"))
        waiting = (
            data.get("state") == "open" and not data.get("acknowledged_at") and not data.get("escalated")
        )
        if waiting and now - opened >= ESCALATE_AFTER:
            data = _timeline(
                workspace_id, data["id"], "escalated", {"after_minutes": ESCALATE_AFTER.seconds // 60}
            )
            data["escalated"] = True
            ListeningItem(_pk(workspace_id), item.sk).update(actions=[ListeningItem.data.set(data)])
            events.publish(
                    [DomainEvent("CrisisEscalated", workspace_id,
                                 {"incident_id": data["id"], "severity": data.get("severity")},
                                 correlation_id=data["id"])]
                )  # fmt: skip
            escalated += 1
    return escalated


def acknowledge(workspace_id: str, incident_id: str, by: str) -> dict[str, Any]:
    return _timeline(workspace_id, incident_id, "acknowledged", {"by": by})


def resolve(workspace_id: str, incident_id: str, by: str) -> dict[str, Any]:
    return _timeline(workspace_id, incident_id, "resolved", {"by": by}, close=True)


def incidents_page(workspace_id: str, page: PageRequest) -> Page[dict[str, Any]]:
    """One page of the workspace's incidents, newest first (GET /incidents)."""
    bind()
    found = prefix_page(ListeningItem, _pk(workspace_id), "INCIDENT#", page, newest_first=True)
    return Page([dict(i.data or {}) for i in found.items], found.next_cursor)


def incidents(workspace_id: str) -> list[dict[str, Any]]:
    bind()
    return [
        dict(i.data or {})
        for i in ListeningItem.query(
            _pk(workspace_id), ListeningItem.sk.startswith("INCIDENT#"), scan_index_forward=False
        )
    ]


def pause_publishing(workspace_id: str, reason: str) -> None:
    workspaces.set_publishing_paused(workspace_id, True, reason)


# ------------------------------------------------------------------------------------ share of voice
@dataclass(frozen=True)
class VoiceShare:
    monitor_id: str
    name: str
    role: str  # "brand" | "competitor"
    mentions: int
    positive: int
    negative: int
    share: float  # of all brand + competitor monitor mentions in the range, 0..1


def _day_counts(workspace_id: str, key: str, start: date, end: date) -> tuple[int, int, int]:
    total = positive = negative = 0
    for item in ListeningItem.query(
        _pk(workspace_id), ListeningItem.sk.between(_day_sk(key, start), _day_sk(key, end))
    ):
        total += int(item.total or 0)
        positive += int(item.positives or 0)
        negative += int(item.negatives or 0)
    return total, positive, negative


def share_of_voice(workspace_id: str, start: date, end: date) -> list[VoiceShare]:
    """Mentions of each brand and competitor monitor over the whole UTC days ``start``..``end``
    (inclusive), with their positives, negatives and share of the sum over those monitors (a mention
    that names two of them counts for each). Most mentioned first; shares are 0 when nobody is heard.
    Reads one day item per monitor and day, never the mentions themselves."""
    bind()
    rows: list[tuple[Monitor, int, int, int]] = []
    for monitor in list_monitors(workspace_id):
        if monitor.kind not in (MonitorKind.BRAND, MonitorKind.COMPETITOR):
            continue
        rows.append((monitor, *_day_counts(workspace_id, monitor.id, start, end)))
    everyone = sum(r[1] for r in rows)
    shares = [
        VoiceShare(
            monitor_id=m.id,
            name=m.name,
            role="competitor" if m.is_competitor else "brand",
            mentions=total,
            positive=positive,
            negative=negative,
            share=total / everyone if everyone else 0.0,
        )
        for m, total, positive, negative in rows
    ]
    return sorted(shares, key=lambda v: (-v.mentions, v.role != "brand", v.name))


# ------------------------------------------------------------------------------------------ overrides
def record_override(workspace_id: str, record: dict[str, Any], at: datetime) -> None:
    """Keep one person's sentiment override (``record``: target, ref, from, to, by) for the count."""
    bind()
    ListeningItem(
        _pk(workspace_id), f"OVERRIDE#{keys.iso(at)}#{uuid.uuid4().hex[:10]}", data=record, label=record["to"]
    ).save()


def overrides(workspace_id: str, start: date, end: date) -> list[dict[str, Any]]:
    """The sentiment overrides made by people over the whole UTC days ``start``..``end``, oldest first."""
    bind()
    return [
        dict(i.data or {})
        for i in ListeningItem.query(
            _pk(workspace_id),
            ListeningItem.sk.between(f"OVERRIDE#{start.isoformat()}", f"OVERRIDE#{end.isoformat()}~"),
        )
    ]


def overrides_count(workspace_id: str, start: date, end: date) -> int:
    """How many times people overrode a message's or a mention's sentiment over the whole UTC days
    ``start``..``end`` (inclusive)."""
    return len(overrides(workspace_id, start, end))


__all__ = ["Mention", "MonitorKind", "VoiceShare", "overrides_count", "share_of_voice"]

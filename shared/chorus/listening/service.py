"""Listening: monitors, mentions (deduplicated, with sentiment), per-window counts, the crisis
early-warning run, incidents (acknowledge, resolve, escalate) and automatic pause of publishing.

Storage is the main table (``WS#<ws>`` partition), through ``ListeningItem``:
  MONITOR#<id>                          a monitor
  MENTION#<platform>#<platform id>      a mention (written once: the dedupe)
  MWIN#<key>#<window start>             negatives/total per 5-minute window, ADDed as mentions land
  CRISIS#<key>                          the detector's state (one small item per key)
  INCIDENT#<id>                         an incident with its timeline and sample messages
and ``LISTENING / <ws>`` registers workspaces that listen, so the detection run needs no table scan.
``key`` is ``all`` (the workspace) or a monitor id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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

WINDOW = timedelta(minutes=5)
ESCALATE_AFTER = timedelta(minutes=15)
SAMPLES = 5


class ListeningItem(MainItem, discriminator="listening"):
    data = JSONAttribute(null=True)
    negatives = NumberAttribute(null=True)
    total = NumberAttribute(null=True)
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
    return monitor


def list_monitors(workspace_id: str) -> list[Monitor]:
    bind()
    return [
        Monitor.from_dict(i.data)
        for i in ListeningItem.query(_pk(workspace_id), ListeningItem.sk.startswith("MONITOR#"))
    ]


def delete_monitor(workspace_id: str, monitor_id: str) -> None:
    from chorus.errors import NotFound

    bind()
    try:
        ListeningItem.get(_pk(workspace_id), f"MONITOR#{monitor_id}").delete()
    except DoesNotExist as exc:
        raise NotFound(f"monitor {monitor_id} not found") from exc


def set_auto_pause(workspace_id: str, enabled: bool) -> dict[str, Any]:
    bind()
    item = WorkspaceItem.get(_pk(workspace_id), keys.workspace_meta_sk())
    settings = dict(item.settings or {})
    settings["listening"] = {**settings.get("listening", {}), "auto_pause": enabled}
    item.update(actions=[WorkspaceItem.settings.set(settings)])
    return dict(settings["listening"])


def _auto_pause(workspace_id: str) -> bool:
    item = WorkspaceItem.get(_pk(workspace_id), keys.workspace_meta_sk())
    return bool((item.settings or {}).get("listening", {}).get("auto_pause", False))


# ------------------------------------------------------------------------------------------ mentions
@dataclass(frozen=True)
class Recorded:
    stored: bool  # False: a duplicate
    monitors: tuple[str, ...]


def record_mention(
    workspace_id: str, mention: Mention, sentiment: str, monitors: Iterable[Monitor]
) -> Recorded:
    """Store a mention once (by platform id), count it in its window for the workspace and each monitor
    it matches. Inbox messages and search results both come through here."""
    bind()
    hits = tuple(
        m.id for m in monitors if matches(m, mention.text, lang=mention.lang, platform=mention.platform)
    )
    item = ListeningItem(
        _pk(workspace_id),
        f"MENTION#{mention.platform}#{mention.platform_id}",
        data={
            "platform": mention.platform,
            "platform_id": mention.platform_id,
            "url": mention.url,
            "author": mention.author_handle,
            "text": mention.text[:2000],
            "created_at": keys.iso(mention.created_at),
            "lang": mention.lang,
            "monitors": list(hits),
        },
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
    start = keys.iso(window_start(mention.created_at))
    negative = 1 if sentiment == "negative" else 0
    for key in ("all", *hits):
        ListeningItem(_pk(workspace_id), f"MWIN#{key}#{start}").update(
            actions=[
                ListeningItem.negatives.add(negative),
                ListeningItem.total.add(1),
                ListeningItem.kind.set(ListeningItem),  # queries of the subclass filter on it
            ]
        )
    ListeningItem("LISTENING", workspace_id).save()
    return Recorded(True, hits)


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
            out.append({**item.data, "sentiment": item.label})
    return out


def series(workspace_id: str, key: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Mention volume and negatives per 5-minute window (key: ``all`` or a monitor id)."""
    bind()
    return [
        {
            "window_start": i.sk.split("#", 2)[2],
            "negatives": int(i.negatives or 0),
            "total": int(i.total or 0),
        }
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


__all__ = ["Mention", "MonitorKind"]

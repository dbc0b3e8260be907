"""Routes: monitors, mentions (with a person's sentiment override), their time series, share of voice,
listening settings (auto-pause, sentiment backend), incidents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, principal, query, route
from chorus.auth.roles import Role
from chorus.dates import within_years
from chorus.errors import ValidationFailed
from chorus.listening import overrides, service
from chorus.posts.timing import parse_time
from chorus.store.pages import PageRequest

bp = Blueprint(__name__)


class MonitorIn(BaseModel):
    name: str
    kind: str
    terms: list[str]
    exclude: list[str] = []
    languages: list[str] = []
    platforms: list[str] = []
    is_competitor: bool = False


class SettingsIn(BaseModel):
    auto_pause: bool | None = None
    sentiment_backend: Literal["offline", "comprehend"] | None = None


class SentimentIn(BaseModel):
    sentiment: str


def _day(params: dict[str, str], name: str, default: date) -> date:
    raw = params.get(name)
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw[:10])
    except ValueError:
        raise ValidationFailed.on(name, "must be a date (YYYY-MM-DD)", "date") from None
    within_years(day, name)
    return day


def _range() -> tuple[datetime, datetime]:
    params = query(bp.current_request)
    end = parse_time(params["to"], "to") if "to" in params else datetime.now(UTC)
    start = parse_time(params["from"], "from") if "from" in params else end - timedelta(days=1)
    start, end = start.replace(tzinfo=start.tzinfo or UTC), end.replace(tzinfo=end.tzinfo or UTC)
    if start > end:
        raise ValidationFailed.on("from", "must not be after to", "range")
    return start, end


@route(bp, "/monitors", methods=["POST"])
def create_monitor() -> Response:
    who = principal(Role.EDITOR)
    req = body(bp.current_request, MonitorIn)
    return ok(service.create_monitor(who.workspace_id, req.model_dump()).to_dict(), status=201)


@route(bp, "/monitors", methods=["GET"])
def list_monitors() -> Response:
    found = service.monitors_page(principal().workspace_id, PageRequest.from_query(query(bp.current_request)))
    return ok({"monitors": [m.to_dict() for m in found.items], "next_cursor": found.next_cursor})


@route(bp, "/monitors/{monitor_id}", methods=["DELETE"])
def delete_monitor(monitor_id: str) -> Response:
    service.delete_monitor(principal(Role.EDITOR).workspace_id, monitor_id)
    return Response(body="", status_code=204)


@route(bp, "/listening/mentions", methods=["GET"])
def list_mentions() -> Response:
    start, end = _range()
    params = query(bp.current_request)
    found = service.mentions_page(
        principal().workspace_id, start, end, params.get("monitor"), PageRequest.from_query(params)
    )
    return ok({"mentions": found.items, "next_cursor": found.next_cursor})


@route(bp, "/listening/series", methods=["GET"])
def mention_series() -> Response:
    start, end = _range()
    params = query(bp.current_request)
    key = params.get("monitor", "all")
    page = PageRequest.from_query(params, default=service.MAX_WINDOWS, maximum=service.MAX_WINDOWS)
    found = service.series_page(principal().workspace_id, key, start, end, page)
    return ok({"monitor": key, "windows": found.items, "next_cursor": found.next_cursor})


@route(bp, "/listening/mentions/{mention_id}/sentiment", methods=["PUT"])
def override_mention(mention_id: str) -> Response:
    who = principal(Role.EDITOR)
    req = body(bp.current_request, SentimentIn)
    from chalicelib.inbox import connection_sender

    return ok(
        overrides.override_mention(
            who.workspace_id, mention_id, req.sentiment, who.actor, connection_sender()
        )
    )


@route(bp, "/listening/share-of-voice", methods=["GET"])
def share_of_voice() -> Response:
    params = query(bp.current_request)
    end = _day(params, "to", datetime.now(UTC).date())
    start = _day(params, "from", end - timedelta(days=29))
    if start > end:
        raise ValidationFailed.on("from", "must not be after to", "range")
    if (end - start).days > 731:
        raise ValidationFailed.on("from", "at most two years at a time", "range")
    shares = service.share_of_voice(principal().workspace_id, start, end)
    return ok({"from": start.isoformat(), "to": end.isoformat(), "shares": [vars(s) for s in shares]})


@route(bp, "/listening/settings", methods=["GET"])
def get_settings() -> Response:
    return ok(service.listening_settings(principal().workspace_id))


@route(bp, "/listening/settings", methods=["PUT"])
def put_settings() -> Response:
    req = body(bp.current_request, SettingsIn)
    who = principal(Role.ADMIN)
    return ok(
        service.update_settings(
            who.workspace_id, auto_pause=req.auto_pause, sentiment_backend=req.sentiment_backend
        )
    )


@route(bp, "/incidents", methods=["GET"])
def list_incidents() -> Response:
    found = service.incidents_page(
        principal().workspace_id, PageRequest.from_query(query(bp.current_request))
    )
    return ok({"incidents": found.items, "next_cursor": found.next_cursor})


@route(bp, "/incidents/{incident_id}/acknowledge", methods=["POST"])
def acknowledge(incident_id: str) -> Response:
    who = principal(Role.EDITOR)
    found: dict[str, Any] = service.acknowledge(who.workspace_id, incident_id, who.actor)
    return ok(found)


@route(bp, "/incidents/{incident_id}/resolve", methods=["POST"])
def resolve(incident_id: str) -> Response:
    who = principal(Role.EDITOR)
    return ok(service.resolve(who.workspace_id, incident_id, who.actor))

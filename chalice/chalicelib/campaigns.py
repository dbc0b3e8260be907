"""Routes: campaigns (CRUD), their conversions (authenticated, or the public pixel URL with a signed
token) and the campaign report (JSON, CSV, HTML, PDF)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalice.app import Blueprint, Request, Response
from chalicelib.links import rendered
from chalicelib.web import body, ok, principal, query, route
from chorus.auth.roles import Role
from chorus.auth.workspaces import get_workspace
from chorus.campaigns import report, service
from chorus.campaigns.model import Campaign
from chorus.links.service import base_url

bp = Blueprint(__name__)


class GoalIn(BaseModel):
    metric: str = Field(max_length=20)  # clicks, conversions, revenue, engagements, impressions, reach, roi
    target: float


class CampaignIn(BaseModel):
    """A campaign (every field may be left out of a PATCH; ``name`` and ``starts_on`` are needed to create)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    starts_on: str | None = Field(default=None, max_length=10)  # YYYY-MM-DD
    ends_on: str | None = Field(default=None, max_length=10)
    currency: str | None = Field(default=None, max_length=3)  # ISO 4217
    budget: float | None = None
    conversion_value: float | None = None  # what a conversion without a value is worth
    goal: GoalIn | None = None
    costs: dict[str, float] | None = None  # spend per platform, when known
    utm_campaign: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=2000)


class ConversionIn(BaseModel):
    """A conversion: the click's short link ``code`` or its UTM values, once per ``event_id``."""

    event_id: str | None = Field(default=None, max_length=128)
    order_id: str | None = Field(default=None, max_length=128)
    code: str | None = Field(default=None, max_length=32)
    utm: dict[str, str] | None = None  # source, campaign, content (the post), ...
    value: float | None = None
    currency: str | None = Field(default=None, max_length=3)


def _fields(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(exclude_unset=True)


def _public(campaign: Campaign, request: Request, with_pixel: bool) -> dict[str, Any]:
    answer = campaign.public()
    if with_pixel:  # the pixel URL is a credential of its own: editors and above see it
        base = base_url() or f"https://{request.headers.get('host', '')}/{request.context.get('stage', '')}"
        answer["pixel_url"] = base.rstrip("/") + service.pixel_path(campaign)
    return answer


@route(bp, "/campaigns", methods=["GET"])
def list_campaigns() -> Response:
    return ok({"campaigns": [c.public() for c in service.list_all(principal().workspace_id)]})


@route(bp, "/campaigns", methods=["POST"])
def create_campaign() -> Response:
    who = principal(Role.EDITOR)
    created = service.create(who.workspace_id, _fields(body(bp.current_request, CampaignIn)))
    return ok(_public(created, bp.current_request, with_pixel=True), status=201)


@route(bp, "/campaigns/{campaign_id}", methods=["GET"])
def get_campaign(campaign_id: str) -> Response:
    from chorus.auth.roles import at_least

    who = principal()
    found = service.get(who.workspace_id, campaign_id)
    return ok(_public(found, bp.current_request, with_pixel=at_least(who.role, Role.EDITOR)))


@route(bp, "/campaigns/{campaign_id}", methods=["PATCH"])
def change_campaign(campaign_id: str) -> Response:
    who = principal(Role.EDITOR)
    changed = service.change(who.workspace_id, campaign_id, _fields(body(bp.current_request, CampaignIn)))
    return ok(_public(changed, bp.current_request, with_pixel=True))


@route(bp, "/campaigns/{campaign_id}", methods=["DELETE"])
def delete_campaign(campaign_id: str) -> Response:
    who = principal(Role.EDITOR)
    service.delete(who.workspace_id, campaign_id)
    return ok({"id": campaign_id, "deleted": True})


@route(bp, "/campaigns/{campaign_id}/conversions", methods=["POST"])
def add_conversion(campaign_id: str) -> Response:
    """201 with the conversion, or 200 with the one stored under the same ``event_id`` (counted once)."""
    who = principal(Role.CONTRIBUTOR)
    campaign = service.get(who.workspace_id, campaign_id)
    conversion, created = service.record_conversion(
        campaign, _fields(body(bp.current_request, ConversionIn)), "api"
    )
    return ok({**conversion.public(), "duplicate": not created}, status=201 if created else 200)


@route(bp, "/campaigns/{campaign_id}/conversions", methods=["GET"])
def list_conversions(campaign_id: str) -> Response:
    campaign = service.get(principal().workspace_id, campaign_id)
    return ok({"conversions": [c.public() for c in service.conversions(campaign)]})


@route(bp, "/pixel/{token}", methods=["GET"])
def pixel(token: str) -> Response:
    """Public, server to server: a conversion signed by the campaign's pixel token (query: event_id,
    code or utm_*, value, currency)."""
    campaign = service.pixel_campaign(token)
    conversion, created = service.record_conversion(campaign, query(bp.current_request), "pixel")
    return ok({"event_id": conversion.event_id, "duplicate": not created}, status=201 if created else 200)


@route(bp, "/campaigns/{campaign_id}/report", methods=["GET"])
def campaign_report(campaign_id: str) -> Response:
    who = principal()
    campaign = service.get(who.workspace_id, campaign_id)
    timezone = get_workspace(who.workspace_id).timezone
    return rendered(
        query(bp.current_request).get("format", "json"),
        lambda fmt: report.render(campaign, fmt, timezone, sees=who.sees_account),
    )

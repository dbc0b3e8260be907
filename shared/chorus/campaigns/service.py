"""Campaigns: create, read, change, delete; posts name one (``campaign_id``); conversions arrive through
``POST /campaigns/{id}/conversions`` or the campaign's pixel URL, carrying the click's short-link code or
its UTM values, and count once per order/event id (a conditional write).

The pixel URL is ``/pixel/<workspace>.<campaign>.<signature>``: the signature is an HMAC-SHA256 of
``<workspace>.<campaign>`` under the campaign's own random key, checked in constant time; the key never
leaves the table (only URLs signed with it do); a URL not signed with it is a 404."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from chorus.campaigns import store
from chorus.campaigns.model import GOAL_METRICS, Campaign, Conversion, Goal
from chorus.errors import FieldError, NotFound, ValidationFailed
from chorus.links import store as links
from chorus.links.utm import post_of_content

CURRENCY = re.compile(r"^[A-Z]{3}$")
EVENT_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
CODE = re.compile(r"^[A-Za-z0-9]{8,32}$")
ID = re.compile(r"^c[0-9a-f]{15}$")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100] or "campaign"


def _number(raw: Mapping[str, Any], name: str, errors: list[FieldError], default: float = 0.0) -> float:
    value = raw.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value > 1e12:
        errors.append(FieldError(name, "a number from 0", "number"))
        return default
    return float(value)


def _date(raw: Mapping[str, Any], name: str, errors: list[FieldError], required: bool) -> date | None:
    value = raw.get(name)
    if value is None:
        if required:
            errors.append(FieldError(name, "required (YYYY-MM-DD)", "required"))
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.append(FieldError(name, f"not a date (YYYY-MM-DD): {value!r}", "date"))
        return None


def parse(workspace_id: str, raw: Mapping[str, Any], old: Campaign | None, now: datetime) -> Campaign:
    """A campaign from a request body (over ``old`` for a change); a 422 naming every wrong field."""
    merged = {**(old.data() if old else {}), **({"name": old.name} if old else {}), **raw}
    errors: list[FieldError] = []
    name = merged.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors.append(FieldError("name", "required, at most 200 characters", "required"))
        name = ""
    starts = _date(merged, "starts_on", errors, required=True)
    ends = _date(merged, "ends_on", errors, required=False)
    if starts and ends and ends < starts:
        errors.append(FieldError("ends_on", "must not be before starts_on", "range"))
    currency = merged.get("currency") or "USD"
    if not isinstance(currency, str) or not CURRENCY.match(currency):
        errors.append(FieldError("currency", "an ISO 4217 code such as EUR or USD", "currency"))
        currency = "USD"
    budget = _number(merged, "budget", errors)
    value = _number(merged, "conversion_value", errors)
    goal = None
    raw_goal = merged.get("goal")
    if raw_goal is not None:
        if not isinstance(raw_goal, Mapping) or raw_goal.get("metric") not in GOAL_METRICS:
            errors.append(FieldError("goal.metric", f"one of {', '.join(GOAL_METRICS)}", "enum"))
        else:
            target = raw_goal.get("target")
            if isinstance(target, bool) or not isinstance(target, int | float) or not 0 < target <= 1e12:
                errors.append(FieldError("goal.target", "a number above 0 (at most 1e12)", "number"))
            else:
                goal = Goal(str(raw_goal["metric"]), float(target))
    costs: dict[str, float] = {}
    raw_costs = merged.get("costs") or {}
    if not isinstance(raw_costs, Mapping) or len(raw_costs) > 30:
        errors.append(FieldError("costs", "an object of platform -> spend", "type"))
    else:
        for platform, spend in raw_costs.items():
            costs[str(platform)] = _number({f"costs.{platform}": spend}, f"costs.{platform}", errors)
    utm_campaign = merged.get("utm_campaign") or _slug(name)
    if not isinstance(utm_campaign, str) or len(utm_campaign) > 100:
        errors.append(FieldError("utm_campaign", "a string of at most 100 characters", "type"))
        utm_campaign = _slug(name)
    description = merged.get("description") or ""
    if not isinstance(description, str) or len(description) > 2000:
        errors.append(FieldError("description", "at most 2000 characters", "max_length"))
        description = ""
    unknown = set(raw) - {"name", "starts_on", "ends_on", "currency", "budget", "conversion_value", "goal",
                          "costs", "utm_campaign", "description"}  # fmt: skip
    errors += [FieldError(k, "unknown field", "unknown") for k in sorted(unknown)]
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    assert starts is not None
    return Campaign(
        workspace_id=workspace_id, id=old.id if old else "c" + uuid.uuid4().hex[:15], name=name.strip(),
        starts_on=starts, ends_on=ends, currency=currency, budget=budget, conversion_value=value, goal=goal,
        costs=costs, utm_campaign=utm_campaign, description=description,
        created_at=old.created_at if old else now, updated_at=now,
    )  # fmt: skip


def create(workspace_id: str, raw: Mapping[str, Any], now: datetime | None = None) -> Campaign:
    campaign = parse(workspace_id, raw, None, now or datetime.now(UTC))
    store.save(campaign, pixel_key=secrets.token_hex(32))
    return campaign


def get(workspace_id: str, campaign_id: str) -> Campaign:
    if not ID.match(campaign_id):
        raise NotFound(f"campaign {campaign_id} not found")
    return store.get(workspace_id, campaign_id)


def change(workspace_id: str, campaign_id: str, raw: Mapping[str, Any]) -> Campaign:
    old = get(workspace_id, campaign_id)
    campaign = parse(workspace_id, raw, old, datetime.now(UTC))
    store.save(campaign)
    return campaign


def delete(workspace_id: str, campaign_id: str) -> None:
    get(workspace_id, campaign_id)
    store.delete(workspace_id, campaign_id)


def list_all(workspace_id: str) -> list[Campaign]:
    return store.list_all(workspace_id)


def check_campaign(workspace_id: str, campaign_id: str | None, field_name: str = "campaign_id") -> None:
    """A post's ``campaign_id`` must name a campaign of its workspace (422 naming the field)."""
    if campaign_id is None:
        return
    try:
        get(workspace_id, campaign_id)
    except NotFound as exc:
        raise ValidationFailed.on(
            field_name, f"no campaign {campaign_id} in this workspace", "exists"
        ) from exc


def previous(campaign: Campaign) -> Campaign | None:
    """The campaign that started last before ``campaign`` did (the report compares with it)."""
    earlier = [c for c in store.list_all(campaign.workspace_id)
               if (c.starts_on, c.id) < (campaign.starts_on, campaign.id)]  # fmt: skip
    return earlier[-1] if earlier else None


# ---------------------------------------------------------------- the pixel URL


def _signature(key: str, workspace_id: str, campaign_id: str) -> str:
    message = f"{workspace_id}.{campaign_id}".encode()
    return hmac.new(bytes.fromhex(key), message, hashlib.sha256).hexdigest()


def pixel_path(campaign: Campaign) -> str:
    key = store.pixel_key(campaign.workspace_id, campaign.id)
    return (
        f"/pixel/{campaign.workspace_id}.{campaign.id}.{_signature(key, campaign.workspace_id, campaign.id)}"
    )


def pixel_campaign(token: str) -> Campaign:
    """The campaign a pixel token signs; NotFound for any token not signed with its key (a URL that
    was never handed out names nothing, as an unknown short link does)."""
    parts = token.split(".")
    refused = NotFound("no such pixel: use the pixel_url of the campaign")  # a forged URL names nothing
    if len(parts) != 3 or not ID.match(parts[1]) or not re.fullmatch(r"[0-9a-f]{64}", parts[2]):
        raise refused
    workspace_id, campaign_id, signature = parts
    try:
        key = store.pixel_key(workspace_id, campaign_id)
    except NotFound:
        key = "00" * 32  # compare anyway: a missing campaign takes the time a wrong signature does
    expected = _signature(key, workspace_id, campaign_id)
    if not hmac.compare_digest(expected, signature):
        raise refused
    return store.get(workspace_id, campaign_id)


# ---------------------------------------------------------------- conversions


def record_conversion(
    campaign: Campaign, raw: Mapping[str, Any], source: str, now: datetime | None = None
) -> tuple[Conversion, bool]:
    """Attribute and store one conversion; (conversion, created). The same ``event_id`` again is not
    counted twice: the stored conversion comes back with created False."""
    errors: list[FieldError] = []
    event_id = raw.get("event_id") or raw.get("order_id")
    if not isinstance(event_id, str) or not EVENT_ID.match(event_id):
        errors.append(FieldError("event_id", "required: the order or event id (1-128 of A-Z a-z 0-9 . _ : -)",
                                 "required"))  # fmt: skip
    value = raw.get("value", None)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            value = -1
    if value is None:
        value = campaign.conversion_value
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1e12:
        errors.append(FieldError("value", "a number from 0", "number"))
        value = 0.0
    currency = raw.get("currency") or campaign.currency
    if not isinstance(currency, str) or not CURRENCY.match(currency):
        errors.append(FieldError("currency", "an ISO 4217 code such as EUR or USD", "currency"))
    elif currency != campaign.currency:
        errors.append(FieldError("currency", f"the campaign counts in {campaign.currency}", "currency"))
    code = raw.get("code")
    utm = {k.removeprefix("utm_"): v for k, v in raw.items() if isinstance(k, str) and k.startswith("utm_")}
    if isinstance(raw.get("utm"), Mapping):
        utm.update({str(k): v for k, v in raw["utm"].items()})
    attribution: dict[str, str | None] = {}
    if code is not None:
        if not isinstance(code, str) or not CODE.match(code):
            errors.append(FieldError("code", "a short link code", "code"))
        else:
            attribution = _by_code(campaign, code, errors)
    elif utm:
        attribution = _by_utm(campaign, utm, errors)
    else:
        errors.append(FieldError("code", "the click's short link code, or its utm_* values", "required"))
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    conversion = Conversion(
        workspace_id=campaign.workspace_id, campaign_id=campaign.id, event_id=str(event_id),
        value=float(value), currency=str(currency), source=source, at=now or datetime.now(UTC),
        code=attribution.get("code"), post_id=attribution.get("post_id"),
        account_id=attribution.get("account_id"), platform=attribution.get("platform"),
    )  # fmt: skip
    if store.add_conversion(conversion):
        return conversion, True
    return store.conversion(campaign.workspace_id, campaign.id, conversion.event_id), False


def _by_code(campaign: Campaign, code: str, errors: list[FieldError]) -> dict[str, str | None]:
    item = links.code_item(code)
    if item is None or item.workspace_id != campaign.workspace_id:
        errors.append(FieldError("code", f"no short link {code} in this workspace", "exists"))
        return {}
    if item.campaign_id != campaign.id:
        errors.append(FieldError("code", f"short link {code} is not of campaign {campaign.id}", "campaign"))
        return {}
    return {"code": code, "post_id": item.post_id, "account_id": item.account_id, "platform": item.platform}


def _by_utm(campaign: Campaign, utm: Mapping[str, Any], errors: list[FieldError]) -> dict[str, str | None]:
    name, content, source = utm.get("campaign"), utm.get("content"), utm.get("source")
    if name is not None and name != campaign.utm_campaign:
        errors.append(
            FieldError("utm_campaign", f"this campaign's links say {campaign.utm_campaign!r}", "campaign")
        )
        return {}
    if not isinstance(content, str) or not content:
        errors.append(FieldError("utm_content", "required with UTM values: it names the post", "required"))
        return {}
    post_id = post_of_content(content)
    account_id = content[len(post_id) + 1 :] or None  # <post>-<account>: a variant's links
    for link in links.short_links_of(campaign.workspace_id, post_id):
        if (
            link.campaign_id == campaign.id
            and (source is None or link.platform == source)
            and (account_id is None or link.account_id == account_id)
        ):
            return {
                "code": link.code,
                "post_id": post_id,
                "account_id": link.account_id,
                "platform": link.platform,
            }
    from chorus.store import posts

    try:
        post = posts.get_post(campaign.workspace_id, post_id)
    except NotFound:
        post = None
    if post is None or post.campaign_id != campaign.id:
        errors.append(FieldError("utm_content", f"no post {post_id} in campaign {campaign.id}", "exists"))
        return {}
    target = next((t for t in post.targets if (source is None or t.platform == source)
                   and (account_id is None or t.account_id == account_id)), None)  # fmt: skip
    return {
        "post_id": post_id,
        "account_id": target.account_id if target else None,
        "platform": target.platform if target else (str(source) if source else None),
    }


def conversions(campaign: Campaign) -> list[Conversion]:
    return store.conversions(campaign.workspace_id, campaign.id)

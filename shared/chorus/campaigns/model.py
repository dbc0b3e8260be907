"""A campaign and a conversion, as the domain sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

GOAL_METRICS = ("clicks", "conversions", "revenue", "engagements", "impressions", "reach", "roi")


@dataclass(frozen=True)
class Goal:
    metric: str  # one of GOAL_METRICS
    target: float

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "target": self.target}


@dataclass(frozen=True)
class Campaign:
    workspace_id: str
    id: str
    name: str
    starts_on: date
    ends_on: date | None
    currency: str
    budget: float = 0.0
    conversion_value: float = 0.0  # what a conversion that names no value is worth
    goal: Goal | None = None
    costs: dict[str, float] = field(default_factory=dict)  # spend per platform, when known
    utm_campaign: str = ""  # utm_campaign of its posts' links
    description: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def data(self) -> dict[str, Any]:
        """What the store keeps beside the name."""
        return {
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat() if self.ends_on else None,
            "currency": self.currency,
            "budget": self.budget,
            "conversion_value": self.conversion_value,
            "goal": self.goal.to_dict() if self.goal else None,
            "costs": dict(self.costs),
            "utm_campaign": self.utm_campaign,
            "description": self.description,
        }

    @classmethod
    def from_data(
        cls,
        workspace_id: str,
        campaign_id: str,
        name: str,
        data: dict[str, Any],
        created: datetime,
        updated: datetime,
    ) -> Campaign:
        goal = data.get("goal")
        return cls(
            workspace_id=workspace_id,
            id=campaign_id,
            name=name,
            starts_on=date.fromisoformat(data["starts_on"]),
            ends_on=date.fromisoformat(data["ends_on"]) if data.get("ends_on") else None,
            currency=data.get("currency") or "USD",
            budget=float(data.get("budget") or 0),
            conversion_value=float(data.get("conversion_value") or 0),
            goal=Goal(goal["metric"], float(goal["target"])) if goal else None,
            costs={k: float(v) for k, v in (data.get("costs") or {}).items()},
            utm_campaign=data.get("utm_campaign") or "",
            description=data.get("description") or "",
            created_at=created,
            updated_at=updated,
        )

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, **self.data(), "created_at": self.created_at,
                "updated_at": self.updated_at}  # fmt: skip


@dataclass(frozen=True)
class Conversion:
    workspace_id: str
    campaign_id: str
    event_id: str
    value: float
    currency: str
    source: str  # api | pixel
    at: datetime
    code: str | None = None
    post_id: str | None = None
    account_id: str | None = None
    platform: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "event_id": self.event_id,
            "value": self.value,
            "currency": self.currency,
            "source": self.source,
            "at": self.at,
            "code": self.code,
            "post_id": self.post_id,
            "account_id": self.account_id,
            "platform": self.platform,
        }

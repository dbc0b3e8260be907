"""Campaigns and conversions in the main table (``WS#<ws> / CAMPAIGN#<id>``, ``CONV#<campaign>#<event>``)."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, PutError

from chorus.campaigns.model import Campaign, Conversion
from chorus.errors import NotFound
from chorus.store import keys
from chorus.store.models import CampaignItem, ConversionItem, bind


def _campaign(item: CampaignItem) -> Campaign:
    return Campaign.from_data(
        item.workspace_id,
        item.campaign_id,
        item.name,
        dict(item.data or {}),
        item.created_at,
        item.updated_at,
    )


def save(campaign: Campaign, pixel_key: str | None = None) -> None:
    """Create (with its ``pixel_key``) or replace a campaign's name and data (the key stays)."""
    bind()
    pk, sk = keys.workspace_pk(campaign.workspace_id), keys.campaign_sk(campaign.id)
    now = campaign.updated_at or datetime.now(UTC)
    if pixel_key is not None:
        CampaignItem(
            pk, sk, workspace_id=campaign.workspace_id, campaign_id=campaign.id, name=campaign.name,
            data=campaign.data(), pixel_key=pixel_key, created_at=campaign.created_at, updated_at=now,
        ).save(condition=CampaignItem.pk.does_not_exist())  # fmt: skip
        return
    CampaignItem(pk, sk).update(
        actions=[CampaignItem.name.set(campaign.name), CampaignItem.data.set(campaign.data()),
                 CampaignItem.updated_at.set(now)],
        condition=CampaignItem.pk.exists(),
    )  # fmt: skip


def get(workspace_id: str, campaign_id: str) -> Campaign:
    return _campaign(_item(workspace_id, campaign_id))


def pixel_key(workspace_id: str, campaign_id: str) -> str:
    return _item(workspace_id, campaign_id).pixel_key


def _item(workspace_id: str, campaign_id: str) -> CampaignItem:
    bind()
    try:
        return CampaignItem.get(keys.workspace_pk(workspace_id), keys.campaign_sk(campaign_id))
    except DoesNotExist as exc:
        raise NotFound(f"campaign {campaign_id} not found") from exc


def list_all(workspace_id: str) -> list[Campaign]:
    bind()
    found = CampaignItem.query(keys.workspace_pk(workspace_id), CampaignItem.sk.startswith("CAMPAIGN#"))
    return sorted((_campaign(i) for i in found), key=lambda c: (c.starts_on, c.id))


def delete(workspace_id: str, campaign_id: str) -> None:
    bind()
    CampaignItem(keys.workspace_pk(workspace_id), keys.campaign_sk(campaign_id)).delete(
        condition=CampaignItem.pk.exists()
    )


def add_conversion(conversion: Conversion) -> bool:
    """Store ``conversion`` unless its event id is stored already (False then: a duplicate)."""
    bind()
    item = ConversionItem(
        keys.workspace_pk(conversion.workspace_id), keys.conversion_sk(conversion.campaign_id, conversion.event_id),
        workspace_id=conversion.workspace_id, campaign_id=conversion.campaign_id, event_id=conversion.event_id,
        value=conversion.value, currency=conversion.currency, code=conversion.code,
        post_id=conversion.post_id, account_id=conversion.account_id, platform=conversion.platform,
        source=conversion.source, at=conversion.at,
    )  # fmt: skip
    try:
        item.save(condition=ConversionItem.pk.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def conversion(workspace_id: str, campaign_id: str, event_id: str) -> Conversion:
    bind()
    item = ConversionItem.get(
        keys.workspace_pk(workspace_id), keys.conversion_sk(campaign_id, event_id), consistent_read=True
    )
    return _conversion(item)


def _conversion(i: ConversionItem) -> Conversion:
    return Conversion(
        workspace_id=i.workspace_id, campaign_id=i.campaign_id, event_id=i.event_id, value=float(i.value),
        currency=i.currency, source=i.source, at=i.at, code=i.code, post_id=i.post_id,
        account_id=i.account_id, platform=i.platform,
    )  # fmt: skip


def conversions(workspace_id: str, campaign_id: str) -> list[Conversion]:
    bind()
    found = ConversionItem.query(
        keys.workspace_pk(workspace_id), ConversionItem.sk.startswith(keys.conversions_prefix(campaign_id))
    )
    return [_conversion(i) for i in found]

"""PynamoDB models of the main table (single-table design; see ``chorus.store.keys``).

Persistence models are not domain models: repositories in this package map them explicitly.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chorus.config import get_settings, register_reset


class DueIndex(GlobalSecondaryIndex["MainItem"]):
    """Sparse time-bucketed index of scheduled targets: only a target waiting to be queued has gsi1pk."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class MainItem(Model):
    class Meta:
        table_name = "chorus-main"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    expires_at = TTLAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    due_index = DueIndex()


class WorkspaceItem(MainItem, discriminator="workspace"):
    workspace_id = UnicodeAttribute()
    name = UnicodeAttribute()
    timezone = UnicodeAttribute(default="UTC")
    created_at = UTCDateTimeAttribute()
    publishing_paused = BooleanAttribute(default=False)
    paused_reason = UnicodeAttribute(null=True)
    settings = JSONAttribute(null=True)


class ApiKeyItem(MainItem, discriminator="api_key"):
    workspace_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    revoked = BooleanAttribute(default=False)


class ConnectionItem(MainItem, discriminator="ws_connection"):
    workspace_id = UnicodeAttribute()
    connection_id = UnicodeAttribute()
    connected_at = UTCDateTimeAttribute()


class SchedulerStateItem(MainItem, discriminator="scheduler_state"):
    watermark = UTCDateTimeAttribute()
    runs = NumberAttribute(default=0)


_bound: dict[str, Any] = {}


def bind() -> None:
    """Point the models at the configured table (once per process, again after a reset)."""
    table = get_settings().table
    if _bound.get("table") == table:
        return
    MainItem.Meta.table_name = table
    for model in _all_models(MainItem):
        model.Meta.table_name = table
        model._connection = None
    MainItem._connection = None
    _bound["table"] = table


def _all_models(base: type[Model]) -> list[type[Model]]:
    found: list[type[Model]] = []
    for sub in base.__subclasses__():
        found.append(sub)
        found.extend(_all_models(sub))
    return found


register_reset(_bound.clear)

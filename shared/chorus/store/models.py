"""PynamoDB models of the main table (single-table design; see ``chorus.store.keys``).

Persistence models are not domain models: repositories in this package map them explicitly.
"""

from __future__ import annotations

import threading
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chorus.config import get_settings, register_reset


def conditional_failed(exc: Exception) -> bool:
    """Whether a PynamoDB write failed on its condition (ConditionalCheckFailed), not on anything else."""
    return "ConditionalCheckFailed" in str(getattr(exc, "cause_response_code", "")) or (
        "ConditionalCheckFailed" in str(exc)
    )


class DueIndex(GlobalSecondaryIndex["MainItem"]):
    """Sparse time-bucketed index: targets the publisher sent a message for (``QUEUED#<minute>``), those
    awaiting a person (``MANUAL#<minute>``), and scheduled targets written before session 9
    (``DUE#<minute>``, read until they are gone; new ones are in :class:`DueKeysIndex`)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class DueKeysIndex(GlobalSecondaryIndex["MainItem"]):
    """Sparse minute buckets of scheduled targets (``DUE#<minute>``, sort key ``<due>#<target id>``),
    keys only: the scheduler reads a bucket's keys; the claim and the ``published`` write leave the
    entry where it is, so they cost the index nothing (DynamoDB writes a KEYS_ONLY entry only when its
    key appears, changes or disappears)."""

    class Meta:
        index_name = "gsi3"
        projection = KeysOnlyProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class CalendarIndex(GlobalSecondaryIndex["MainItem"]):
    """Second index: posts by time per workspace (CAL#<ws>), accounts by platform id (PACCT#...),
    paused targets per workspace (PAUSED#<ws>)."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class MainItem(Model):
    class Meta:
        table_name = "chorus-main"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    expires_at = TTLAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    due_index = DueIndex()
    calendar_index = CalendarIndex()
    due_keys_index = DueKeysIndex()


class WorkspaceItem(MainItem, discriminator="workspace"):
    workspace_id = UnicodeAttribute()
    name = UnicodeAttribute()
    timezone = UnicodeAttribute(default="UTC")
    created_at = UTCDateTimeAttribute()
    publishing_paused = BooleanAttribute(default=False)
    paused_reason = UnicodeAttribute(null=True)
    settings = JSONAttribute(null=True)
    owners = NumberAttribute(default=0)  # members with the owner role: never below one once there is one


class ApiKeyItem(MainItem, discriminator="api_key"):
    workspace_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    revoked = BooleanAttribute(default=False)
    member_id = UnicodeAttribute(null=True)  # the member it belongs to (None: a workspace key of the CLI)
    scopes = UnicodeSetAttribute(null=True)  # None: every scope of its role
    valid_until = UTCDateTimeAttribute(null=True)


class MemberItem(MainItem, discriminator="member"):
    """WS#<ws> / MEMBER#<user>: a person's role in a workspace (and its mirror USER#<user> / WS#<ws>,
    which lists a person's workspaces; both written in one transaction)."""

    workspace_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    role = UnicodeAttribute()
    accounts = UnicodeSetAttribute(null=True)  # None: every account of the workspace
    joined_at = UTCDateTimeAttribute()
    signed_out_at = UTCDateTimeAttribute(null=True)  # tokens issued before are refused
    last_sign_in = UTCDateTimeAttribute(null=True)  # the auth_time of the last session seen acting here


class AuditItem(MainItem, discriminator="audit"):
    """AUDIT#<ws> / <time>#<id>: who did what, when, to what, and how it ended."""

    workspace_id = UnicodeAttribute()
    entry_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute()  # ok | refused | failed
    status = NumberAttribute(null=True)  # the HTTP status answered
    detail = UnicodeAttribute(null=True)


class InvitationItem(MainItem, discriminator="invitation"):
    """WS#<ws> / INVITE#<id>: an invitation by e-mail; only the hash of its secret is stored."""

    workspace_id = UnicodeAttribute()
    invitation_id = UnicodeAttribute()
    email = UnicodeAttribute()
    role = UnicodeAttribute()
    accounts = UnicodeSetAttribute(null=True)
    secret_hash = UnicodeAttribute()
    invited_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    valid_until = UTCDateTimeAttribute()
    state = UnicodeAttribute(default="pending")  # pending | accepted | revoked
    accepted_by = UnicodeAttribute(null=True)


class ConnectionItem(MainItem, discriminator="ws_connection"):
    workspace_id = UnicodeAttribute()
    connection_id = UnicodeAttribute()
    connected_at = UTCDateTimeAttribute()
    key_id = UnicodeAttribute(null=True)  # the API key it authenticated with: revoking it closes them
    user_id = UnicodeAttribute(null=True)  # the member it belongs to: removing them closes them


class AccountItem(MainItem, discriminator="account"):
    workspace_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    platform = UnicodeAttribute()
    platform_account_id = UnicodeAttribute()
    handle = UnicodeAttribute(null=True)
    display_name = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="active")  # active | needs_reauth | disabled
    status_reason = UnicodeAttribute(null=True)
    token_blob = UnicodeAttribute(null=True)  # the sealed token set (chorus.accounts.tokens)
    # KMS ciphertext of a second grant beside the token set (TikTok API for Business: chorus.accounts.grants)
    grant_blob = UnicodeAttribute(null=True)
    token_expires_at = UTCDateTimeAttribute(null=True)
    base_url = UnicodeAttribute(null=True)
    extra = JSONAttribute(null=True)
    retry_after = UTCDateTimeAttribute(null=True)  # rate-limit parking for the whole account
    created_at = UTCDateTimeAttribute()


class GrantWarningItem(MainItem, discriminator="grant_warning"):
    """An account's second grant (TikTok API for Business) waiting in the expiry-warning index (GSI1)
    until its owner is warned that its refresh token ends (chorus.accounts.expiry)."""

    workspace_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    grant = UnicodeAttribute()
    ends_at = UTCDateTimeAttribute()  # when the grant's refresh token expires


class PostItem(MainItem, discriminator="post"):
    workspace_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    content = JSONAttribute()  # text, media, link, thread, first_comment, variants
    account_ids = JSONAttribute()
    scheduled_at = UTCDateTimeAttribute(null=True)
    timezone = UnicodeAttribute(default="UTC")
    mode = UnicodeAttribute()  # draft | schedule | now | queue
    approval = JSONAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)
    series_id = UnicodeAttribute(null=True)
    cancelled = BooleanAttribute(default=False)
    assignee = UnicodeAttribute(null=True)  # reminder publishing: who posts it by hand (None: the author)
    campaign_id = UnicodeAttribute(null=True)
    utm = JSONAttribute(null=True)  # the post's own UTM values over the workspace's defaults
    tags = UnicodeSetAttribute(null=True)  # the post's tags (chorus.tags), filtered on by the calendar


class ApprovedPostItem(MainItem, discriminator="approved_post"):
    """WS#<ws> / APPROVED#<post>: the post as it was last approved (text, variants, media, accounts,
    time), written in the approval's own transaction; what a reviewer's diff compares with."""

    workspace_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    version = NumberAttribute()
    snapshot = JSONAttribute()  # content, variants, accounts, scheduled_at, timezone
    approved_by = UnicodeAttribute()
    approved_at = UTCDateTimeAttribute()


class TargetItem(MainItem, discriminator="target"):
    workspace_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    platform = UnicodeAttribute()
    state = UnicodeAttribute()
    due_at = UTCDateTimeAttribute(null=True)
    queue_token = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    attempt_log = JSONAttribute(null=True)
    platform_post_id = UnicodeAttribute(null=True)
    url = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    step = UnicodeAttribute(null=True)
    step_state = JSONAttribute(null=True)
    published_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    # Idempotency material and per-part progress (chorus.platforms.base.Progress), written once the
    # target starts publishing and kept across retries of the same content; an edit drops them.
    idem_key = UnicodeAttribute(null=True)
    started_at = UTCDateTimeAttribute(null=True)
    parts = MapAttribute(null=True)  # type: ignore[var-annotated]  # part name -> platform id, as each lands
    sent_parts = UnicodeSetAttribute(null=True)  # parts whose request went out with no known answer
    verify_looks = NumberAttribute(null=True)  # looks at the platform for the part being verified
    reminded_at = UTCDateTimeAttribute(null=True)  # reminder publishing: the reminder's e-mail claimed
    overdue_at = UTCDateTimeAttribute(null=True)  # reminder publishing: overdue when not marked by then


class NotificationItem(MainItem, discriminator="notification"):
    """WS#<ws> / NOTE#<recipient>#<id>: a web-app notification of one person (``user:<id>``) in a
    workspace, newest last in id order (ids start with their time)."""

    workspace_id = UnicodeAttribute()
    notification_id = UnicodeAttribute()
    recipient = UnicodeAttribute()
    topic = UnicodeAttribute()  # manual_publish_due | manual_publish_overdue
    subject = UnicodeAttribute()
    text = UnicodeAttribute()
    links = JSONAttribute(null=True)  # the post's link and media links, ready to open
    post_id = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    platform = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    read_at = UTCDateTimeAttribute(null=True)
    emailed_at = UTCDateTimeAttribute(null=True)  # its e-mail claimed (sent at most once)


class ShortLinkItem(MainItem, discriminator="short_link"):
    """WS#<ws> / SHORT#<post>#<acct>#<n>: the short link of a post's n-th link for one account, written
    (with its LINK#<code> item, in one transaction) before the first platform call and reused after."""

    workspace_id = UnicodeAttribute()
    code = UnicodeAttribute()
    post_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    platform = UnicodeAttribute()
    campaign_id = UnicodeAttribute(null=True)
    destination = UnicodeAttribute()  # the UTM-tagged URL the short link redirects to
    original = UnicodeAttribute()  # the URL as the post holds it
    short_url = UnicodeAttribute(null=True)  # <short link base>/l/<code>, as published
    created_at = UTCDateTimeAttribute()


class LinkCodeItem(MainItem, discriminator="link_code"):
    """LINK#<code> / LINK: all GET /l/{code} reads. A person's click adds to its counters ``clicks``,
    ``d_<date>``, ``h_<hour>``, ``r_<referrer platform>`` and ``c_<country>`` (chorus.links.store)."""

    workspace_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    platform = UnicodeAttribute()
    campaign_id = UnicodeAttribute(null=True)
    destination = UnicodeAttribute()
    disabled = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()


class CampaignItem(MainItem, discriminator="campaign"):
    workspace_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    name = UnicodeAttribute()
    data = JSONAttribute()  # dates, goal, budget, currency, conversion value, costs, utm_campaign
    pixel_key = UnicodeAttribute()  # HMAC key of the campaign's pixel URL (never shown on its own)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class ConversionItem(MainItem, discriminator="conversion"):
    """WS#<ws> / CONV#<campaign>#<event id>: written only if absent (the event id deduplicates)."""

    workspace_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    value = NumberAttribute(default=0)
    currency = UnicodeAttribute()
    code = UnicodeAttribute(null=True)
    post_id = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    platform = UnicodeAttribute(null=True)
    source = UnicodeAttribute()  # api | pixel
    at = UTCDateTimeAttribute()


class SchedulerStateItem(MainItem, discriminator="scheduler_state"):
    watermark = UTCDateTimeAttribute(null=True)  # targets due up to it have been handed out
    swept = UTCDateTimeAttribute(null=True)  # lost messages were looked for up to it
    overdue = UTCDateTimeAttribute(null=True)  # MANUAL buckets before this minute were swept for overdue
    backlog = UTCDateTimeAttribute(null=True)  # an outage's targets after it not yet failed as missed
    runs = NumberAttribute(default=0)


_bound: dict[str, Any] = {}
_binding = threading.Lock()


def connection() -> Connection:
    """The connection for transactions: the one every item model shares (see ``bind``)."""
    bind()
    found: Connection = _bound["connection"]
    return found


def bind() -> None:
    """Point the models at the configured table (once per process, again after a reset or when a model
    class was defined since).

    Every item model shares MainItem's table connection and so one botocore client: PynamoDB would make
    a client per model class, and one per thread when a handler's threads race to a model's first call
    (each costs ~30 ms of CPU: the service model is read from JSON every time)."""
    table = get_settings().table
    models = _all_models(MainItem)
    if _bound.get("table") == table and _bound.get("models") == len(models):
        return
    with _binding:
        if _bound.get("table") == table and _bound.get("models") == len(models):
            return
        MainItem.Meta.table_name = table
        MainItem._connection = None
        shared = MainItem._get_connection()
        _ = shared.connection.client  # made here, once, under the lock
        for model in models:
            model.Meta.table_name = table
            model._connection = shared
        _bound["connection"] = shared.connection
        _bound["models"] = len(models)
        _bound["table"] = table


def update(
    model: type[MainItem],
    pk: str,
    sk: str,
    actions: list[Any],
    condition: Any = None,
    return_values: str = "NONE",
) -> dict[str, Any]:
    """UpdateItem that returns nothing unless asked: PynamoDB's ``Model.update`` always asks for ALL_NEW,
    which sends the whole item back on every state change of a hot path. Returns the attributes asked
    for (raw DynamoDB JSON; empty with NONE). Raises UpdateError as ``Model.update`` does."""
    bind()
    answer = model._get_connection().update_item(
        pk, range_key=sk, actions=actions, condition=condition, return_values=return_values
    )
    found: dict[str, Any] = answer.get("Attributes", {}) if isinstance(answer, dict) else {}
    return found


def _all_models(base: type[Model]) -> list[type[Model]]:
    found: list[type[Model]] = []
    for sub in base.__subclasses__():
        found.append(sub)
        found.extend(_all_models(sub))
    return found


register_reset(_bound.clear)

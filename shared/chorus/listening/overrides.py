"""A person overrides the sentiment of an inbox message or a mention.

The machine's label is kept (``sentiment_original``) and every override is recorded (who, when, from
-> to: ``OVERRIDE#`` items, counted by :func:`chorus.listening.service.overrides_count`). The person's
label then wins everywhere sentiment is read:

* the message's own ``sentiment`` (the thread), and its conversation's when it is the latest inbound
  message (the inbox ``sentiment`` filter), pushed live like any change of the conversation;
* the inbox counters the report reads (``n_<label>`` of the message's day and month);
* the mention: its label, and its 5-minute window and UTC day counters for the workspace and every
  monitor it matched, so the series, share of voice and the crisis detector's windows not yet observed
  count it as the person said (windows already observed are not replayed).

An inbox message and the mention made of it are one thing heard twice: overriding either changes both
(one override recorded). Each change is a conditional update on the label it read, so two people
overriding at once move each counter once.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chorus.errors import Conflict, NotFound, ValidationFailed
from chorus.inbox.live import ConnectionSender
from chorus.inbox.store import ConversationItem, MessageItem, message_view, messages_of
from chorus.listening.service import (
    ListeningItem,
    count_sentiment,
    mention_sk,
    mention_view,
    parse_mention_id,
    record_override,
)
from chorus.store import keys
from chorus.store.models import bind

LABELS = ("positive", "negative", "neutral")


def check_label(value: Any) -> str:
    """The label a person may give (422 naming ``sentiment`` otherwise)."""
    if not isinstance(value, str) or value not in LABELS:
        raise ValidationFailed.on("sentiment", f"must be one of {', '.join(LABELS)}", "enum")
    return value


def _record(
    target: str, ref: dict[str, Any], previous: str | None, label: str, by: str, at: datetime
) -> dict[str, Any]:
    return {"target": target, **ref, "from": previous, "to": label, "by": by, "at": keys.iso(at)}


# ---------------------------------------------------------------------------------------- messages
def _find_message(workspace_id: str, conversation_id: str, message_id: str) -> tuple[MessageItem, bool]:
    """The message and whether it is its conversation's latest inbound message."""
    found = messages_of(workspace_id, conversation_id)
    inbound = [m for m in found if m.direction == "in"]
    for item in found:
        if item.message_id == message_id:
            return item, bool(inbound) and inbound[-1].message_id == message_id
    raise NotFound(f"message {message_id} not found in conversation {conversation_id}")


def _set_message(
    workspace_id: str,
    conversation_id: str,
    message_id: str,
    label: str,
    record: dict[str, Any],
    sender: ConnectionSender | None,
) -> tuple[MessageItem, str | None]:
    """Give the message ``label``; returns it and the label it had (unchanged when already ``label``)."""
    item, latest = _find_message(workspace_id, conversation_id, message_id)
    if item.direction != "in":
        raise Conflict("only inbound messages have a sentiment")
    previous = item.sentiment
    if previous == label:
        return item, previous
    condition = MessageItem.sentiment == previous if previous else MessageItem.sentiment.does_not_exist()
    try:
        item.update(
            actions=[
                MessageItem.sentiment.set(label),
                MessageItem.sentiment_original.set(item.sentiment_original or previous),
                MessageItem.sentiment_override.set(record),
            ],
            condition=condition,
        )
    except UpdateError as exc:
        raise Conflict("the message's sentiment changed meanwhile; try again") from exc
    _count_inbox(workspace_id, conversation_id, item, previous, label)
    if latest:
        from chorus.inbox.service import change_conversation

        def mutate(conv: ConversationItem) -> None:
            conv.sentiment = label

        change_conversation(workspace_id, conversation_id, mutate, sender)
    return item, previous


def _count_inbox(
    workspace_id: str, conversation_id: str, item: MessageItem, previous: str | None, label: str
) -> None:
    """Move the message from its old label's counter to the new one in the report's inbox counters."""
    from chorus.aws import client
    from chorus.config import get_settings
    from chorus.inbox.stats import day_sk, month_sk, sentiment_attr, stats_pk
    from chorus.inbox.store import get_conversation

    conv = get_conversation(workspace_id, conversation_id)
    if conv is None:
        return
    day = item.created_at.astimezone(UTC).date()
    for sk in (day_sk(day), month_sk(day)):
        client("dynamodb").update_item(
            TableName=get_settings().table,
            Key={"pk": {"S": stats_pk(workspace_id, conv.account_id)}, "sk": {"S": sk}},
            UpdateExpression="ADD #from :minus, #to :plus",
            ExpressionAttributeNames={"#from": sentiment_attr(previous), "#to": sentiment_attr(label)},
            ExpressionAttributeValues={":minus": {"N": "-1"}, ":plus": {"N": "1"}},
        )


def override_message(
    workspace_id: str,
    conversation_id: str,
    message_id: str,
    label: Any,
    by: str,
    sender: ConnectionSender | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A person's label for an inbound message (and for the mention made of it, if any)."""
    label = check_label(label)
    bind()
    at = now or datetime.now(UTC)
    probe, _ = _find_message(workspace_id, conversation_id, message_id)
    ref = {
        "conversation_id": conversation_id,
        "message_id": message_id,
        "platform": probe.platform,
        "platform_id": probe.platform_message_id,
    }
    record = _record("message", ref, probe.sentiment, label, by, at)
    item, previous = _set_message(workspace_id, conversation_id, message_id, label, record, sender)
    if previous != label:
        mention = _get_mention(workspace_id, item.platform, item.platform_message_id)
        if mention is not None:
            _set_mention(workspace_id, mention, label, record)
        record_override(workspace_id, record, at)
    return message_view(MessageItem.get(item.pk, item.sk, consistent_read=True))


# ---------------------------------------------------------------------------------------- mentions
def _get_mention(workspace_id: str, platform: str, platform_id: str) -> ListeningItem | None:
    try:
        return ListeningItem.get(
            keys.workspace_pk(workspace_id), mention_sk(platform, platform_id), consistent_read=True
        )
    except DoesNotExist:
        return None


def _set_mention(workspace_id: str, item: ListeningItem, label: str, record: dict[str, Any]) -> bool:
    """Give the mention ``label`` and move it between its counters; False when it had it already."""
    previous = item.label
    if previous == label:
        return False
    data = dict(item.data or {})
    data["sentiment_original"] = data.get("sentiment_original") or previous
    data["sentiment_override"] = record
    condition = ListeningItem.label == previous if previous else ListeningItem.label.does_not_exist()
    try:
        item.update(
            actions=[ListeningItem.label.set(label), ListeningItem.data.set(data)], condition=condition
        )
    except UpdateError as exc:
        raise Conflict("the mention's sentiment changed meanwhile; try again") from exc
    count_sentiment(
        workspace_id,
        ("all", *data.get("monitors", [])),
        keys.parse_iso(str(data["created_at"])),
        total=0,
        negatives=int(label == "negative") - int(previous == "negative"),
        positives=int(label == "positive") - int(previous == "positive"),
    )
    return True


def override_mention(
    workspace_id: str,
    mention_id: str,
    label: Any,
    by: str,
    sender: ConnectionSender | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A person's label for a mention (and for the inbox message it came from, if it did)."""
    label = check_label(label)
    bind()
    at = now or datetime.now(UTC)
    platform, platform_id = parse_mention_id(mention_id)
    item = _get_mention(workspace_id, platform, platform_id)
    if item is None:
        raise NotFound(f"mention {mention_id} not found")
    inbox = (item.data or {}).get("inbox") or {}
    ref = {"mention_id": mention_id, "platform": platform, "platform_id": platform_id, **inbox}
    record = _record("mention", ref, item.label, label, by, at)
    if _set_mention(workspace_id, item, label, record):
        if inbox.get("conversation_id") and inbox.get("message_id"):
            # the message may be gone (removed since): then the mention alone changes
            with contextlib.suppress(NotFound):
                _set_message(
                    workspace_id, inbox["conversation_id"], inbox["message_id"], label, record, sender
                )
        record_override(workspace_id, record, at)
    found = _get_mention(workspace_id, platform, platform_id)
    assert found is not None
    return mention_view(found)

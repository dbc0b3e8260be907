"""X (Twitter) Account Activity API webhook: CRC handshake, signature check and event parsing.

* CRC: ``GET ?crc_token=T`` -> ``{"response_token": "sha256=" + base64(HMAC-SHA256(consumer_secret, T))}``.
* POST: ``x-twitter-webhooks-signature`` carries the same scheme over the raw body.
* Events: DMs (``direct_message_events``, only those another user sent to ``for_user_id``; our
  own echoes are ignored), typing/read indicators (ignored), ``tweet_create_events`` (replies to our
  user -> REPLY, mentions and quotes -> MENTION; our own tweets and retweets ignored),
  ``tweet_delete_events`` (Deletion) and ``user_event.revoke`` (Revocation).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from chorus.inbox.normalized import (
    Deletion,
    InboundEvent,
    InboundMedia,
    InboundMessage,
    MessageKind,
    ParseResult,
    Revocation,
)
from chorus.platforms.webhooks import (
    NOT_CONFIGURED,
    OK,
    MalformedWebhook,
    SignatureError,
    WebhookRequest,
    WebhookResponse,
    WebhookSecrets,
    arr,
    from_epoch,
    hmac_digest,
    ident,
    json_response,
    load_json_object,
    obj,
    opt_obj,
    req_ident,
    require_secret,
    same,
    text_of,
)

PLATFORM = "x"
SIGNATURE_HEADER = "x-twitter-webhooks-signature"

_IGNORED_KEYS = {
    "direct_message_indicate_typing_events": "typing",
    "direct_message_mark_read_events": "read",
    "favorite_events": "favorite",
    "follow_events": "follow",
    "unfollow_events": "unfollow",
    "block_events": "block",
    "unblock_events": "unblock",
    "mute_events": "mute",
    "unmute_events": "unmute",
}


def sign(consumer_secret: str, message: bytes) -> str:
    """``"sha256=" + base64(HMAC-SHA256(consumer_secret, message))`` -- CRC token and POST body alike."""
    return "sha256=" + base64.b64encode(hmac_digest(consumer_secret, message)).decode("ascii")


def crc_response(consumer_secret: str, crc_token: str) -> dict[str, str]:
    return {"response_token": sign(consumer_secret, crc_token.encode("utf-8"))}


class XWebhook:
    platform = "x"

    def handshake(self, req: WebhookRequest, secrets: WebhookSecrets) -> WebhookResponse | None:
        if req.method.upper() != "GET" or "crc_token" not in req.query:
            return None
        if not secrets.x_consumer_secret:
            return NOT_CONFIGURED
        return json_response(crc_response(secrets.x_consumer_secret, req.query["crc_token"]))

    def verify(self, req: WebhookRequest, secrets: WebhookSecrets) -> None:
        secret = require_secret(secrets.x_consumer_secret, "x_consumer_secret")
        header = req.header(SIGNATURE_HEADER)
        if not header:
            raise SignatureError(f"{SIGNATURE_HEADER}: missing")
        if not same(sign(secret, req.body), header.strip()):
            raise SignatureError(f"{SIGNATURE_HEADER}: does not match the body")

    def ack(self, req: WebhookRequest) -> WebhookResponse:
        return OK

    def replay_key(self, req: WebhookRequest) -> str | None:
        return None  # no signed timestamp: a replay is deduped by message id at ingest

    def parse(self, body: bytes, headers: Mapping[str, str], secrets: WebhookSecrets) -> ParseResult:
        return parse_account_activity(body)


def parse_account_activity(body: bytes) -> ParseResult:
    data = load_json_object(body)
    outcomes: list[InboundEvent | str] = []  # an event, or the reason an item is ignored
    if "user_event" in data:
        outcomes.append(_user_event(obj(data["user_event"], "user_event")))
    for key, reason in _IGNORED_KEYS.items():
        outcomes.extend(reason for _ in arr(data.get(key), key))

    needs_user = ("direct_message_events", "tweet_create_events", "tweet_delete_events")
    for_user = ident(data.get("for_user_id"))
    if for_user is None and any(key in data for key in needs_user):
        raise MalformedWebhook("for_user_id: missing")
    account = for_user or ""

    users = _users(data)
    for i, raw in enumerate(arr(data.get("direct_message_events"), "direct_message_events")):
        where = f"direct_message_events[{i}]"
        outcomes.append(_direct_message(obj(raw, where), account, users, where))
    for i, raw in enumerate(arr(data.get("tweet_delete_events"), "tweet_delete_events")):
        where = f"tweet_delete_events[{i}].status"
        status = obj(obj(raw, f"tweet_delete_events[{i}]").get("status"), where)
        outcomes.append(Deletion(PLATFORM, account, req_ident(status.get("id"), f"{where}.id")))
    blocked = str(data.get("user_has_blocked", "false")).lower() == "true"
    for i, raw in enumerate(arr(data.get("tweet_create_events"), "tweet_create_events")):
        where = f"tweet_create_events[{i}]"
        outcomes.append("blocked_user" if blocked else _tweet(obj(raw, where), account, where))

    events = tuple(o for o in outcomes if not isinstance(o, str))
    ignored = tuple(o for o in outcomes if isinstance(o, str)) or (() if events else ("unknown_event",))
    return ParseResult(events=events, ignored=ignored)


def _user_event(user_event: dict[str, Any]) -> InboundEvent | str:
    revoke = opt_obj(user_event.get("revoke"), "user_event.revoke")
    if not revoke:
        return "user_event"
    source = opt_obj(revoke.get("source"), "user_event.revoke.source")
    user_id = req_ident(source.get("user_id"), "user_event.revoke.source.user_id")
    return Revocation(PLATFORM, user_id, "user_event.revoke")


def _users(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``users`` map; the documented sample nests the user objects under ``apps``, so both count."""
    found: dict[str, dict[str, Any]] = {}
    for container in (data.get("apps"), data.get("users")):
        if isinstance(container, dict):
            for key, value in container.items():
                if isinstance(value, dict) and "screen_name" in value:
                    found[str(key)] = value
    return found


def _direct_message(
    event: dict[str, Any], account: str, users: dict[str, dict[str, Any]], where: str
) -> InboundMessage | str:
    """The message for one DM event, or the reason it is ignored."""
    if event.get("type") != "message_create":
        return f"dm.{event.get('type')}"
    create = obj(event.get("message_create"), f"{where}.message_create")
    sender = req_ident(create.get("sender_id"), f"{where}.message_create.sender_id")
    if sender == account:
        return "echo"  # sent by our own account (from Chorus or another client)
    data = opt_obj(create.get("message_data"), f"{where}.message_create.message_data")
    attachment = opt_obj(data.get("attachment"), f"{where}.message_create.message_data.attachment")
    media_obj = opt_obj(attachment.get("media"), "attachment.media")
    media: tuple[InboundMedia, ...] = ()
    url = media_obj.get("media_url_https") or media_obj.get("media_url")
    if isinstance(url, str):
        kind = {"photo": "image", "video": "video", "animated_gif": "video"}.get(
            str(media_obj.get("type")), "other"
        )
        media = (InboundMedia(url=url, type=kind, platform_media_id=ident(media_obj.get("id_str"))),)
    profile = users.get(sender, {})
    return InboundMessage(
        platform=PLATFORM,
        account_ref=account,
        platform_message_id=req_ident(event.get("id"), f"{where}.id"),
        kind=MessageKind.DM,
        conversation_ref=sender,
        text=text_of(data.get("text")),
        created_at=from_epoch(event.get("created_timestamp"), f"{where}.created_timestamp"),
        author_id=sender,
        author_name=profile.get("name") if isinstance(profile.get("name"), str) else None,
        author_handle=profile.get("screen_name") if isinstance(profile.get("screen_name"), str) else None,
        media=media,
        raw_type="x.direct_message",
    )


def _tweet_time(tweet: dict[str, Any], where: str) -> datetime:
    if tweet.get("timestamp_ms") is not None:
        return from_epoch(tweet["timestamp_ms"], f"{where}.timestamp_ms")
    created = tweet.get("created_at")
    if isinstance(created, str):
        try:  # v1.1 style: "Wed Oct 10 20:19:24 +0000 2018"
            return datetime.strptime(created, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
        except ValueError as exc:
            raise MalformedWebhook(f"{where}.created_at: not a timestamp ({created!r})") from exc
    raise MalformedWebhook(f"{where}.created_at: missing")


def _tweet_text(tweet: dict[str, Any]) -> str:
    extended = tweet.get("extended_tweet")
    if isinstance(extended, dict) and isinstance(extended.get("full_text"), str):
        return str(extended["full_text"])
    return text_of(tweet.get("full_text")) or text_of(tweet.get("text"))


def _tweet(tweet: dict[str, Any], account: str, where: str) -> InboundMessage | str:
    """The message for one tweet, or the reason it is ignored."""
    user = obj(tweet.get("user"), f"{where}.user")
    author = req_ident(user.get("id_str") or user.get("id"), f"{where}.user.id_str")
    if author == account:
        return "own_tweet"
    if "retweeted_status" in tweet:
        return "retweet"
    tweet_id = req_ident(tweet.get("id_str") or tweet.get("id"), f"{where}.id_str")
    in_reply_to = ident(tweet.get("in_reply_to_status_id_str")) or ident(tweet.get("in_reply_to_status_id"))
    reply_user = ident(tweet.get("in_reply_to_user_id_str")) or ident(tweet.get("in_reply_to_user_id"))
    quoted = opt_obj(tweet.get("quoted_status"), f"{where}.quoted_status")
    quoted_id = ident(tweet.get("quoted_status_id_str")) or ident(quoted.get("id_str"))
    quoted_author = ident(opt_obj(quoted.get("user"), f"{where}.quoted_status.user").get("id_str"))
    is_reply = in_reply_to is not None and reply_user == account
    media = tuple(
        InboundMedia(url=str(m["media_url_https"]), type="image" if m.get("type") == "photo" else "video")
        for m in arr(
            opt_obj(tweet.get("extended_entities") or tweet.get("entities"), f"{where}.entities").get(
                "media"
            ),
            f"{where}.entities.media",
        )
        if isinstance(m, dict) and isinstance(m.get("media_url_https"), str)
    )
    return InboundMessage(
        platform=PLATFORM,
        account_ref=account,
        platform_message_id=tweet_id,
        kind=MessageKind.REPLY if is_reply else MessageKind.MENTION,
        conversation_ref=in_reply_to if is_reply and in_reply_to else tweet_id,
        text=_tweet_text(tweet),
        created_at=_tweet_time(tweet, where),
        author_id=author,
        author_name=user.get("name") if isinstance(user.get("name"), str) else None,
        author_handle=user.get("screen_name") if isinstance(user.get("screen_name"), str) else None,
        parent_ref=in_reply_to,
        post_ref=in_reply_to if is_reply else (quoted_id if quoted_author == account else None),
        media=media,
        raw_type="x.tweet.reply" if is_reply else ("x.tweet.quote" if quoted_id else "x.tweet.mention"),
    )


X = XWebhook()

"""Parsers for every Meta webhook body Chorus subscribes to.

One endpoint receives them all; the body's shape says which product sent it:

* ``object: "page"`` -- Page ``feed`` (comments, visitor posts), ``mention``, ``ratings`` changes, and
  Messenger ``messaging`` events;
* ``object: "instagram"`` -- ``comments``/``live_comments``/``mentions`` changes and Instagram DMs
  (``messaging``);
* ``object: "whatsapp_business_account"`` -- Cloud API ``messages`` (inbound) and ``statuses``;
* no ``object`` but ``values`` -- a Threads delivery (``replies``, ``mentions``, ``delete``).

Choices worth knowing (see the report / decision log):

* A Facebook comment is a COMMENT when its ``parent_id`` is the post, a REPLY otherwise; Instagram
  comments follow the same rule (``parent_id`` is only present on replies to a comment).
* Comments written by the page itself are kept (the thread needs them) but flagged
  ``authored_by_account``; posts added by the page itself are ignored (``own_post``); a visitor's
  post on the page is a MENTION.
* Messenger postbacks (a tapped button, "Get Started") become a DM whose text is the button title
  (or the payload when no title is sent): the person started or continued a conversation an agent
  may have to answer inside the 24-hour window; dropping it would lose the conversation opener.
* Echoes, read and delivery receipts, reactions and WhatsApp statuses are ignored with a reason.
* Instagram ``mentions`` and a few others carry ids only: the message has empty text and the
  ingest worker fetches the rest (``raw_type`` says which).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chorus.inbox.normalized import (
    REPLY_REFERENCE,
    Deletion,
    DeliveryConfirmed,
    DeliveryFailed,
    InboundEvent,
    InboundMedia,
    InboundMessage,
    MessageKind,
    ParseResult,
)
from chorus.platforms.webhooks import (
    MalformedWebhook,
    arr,
    from_epoch,
    from_iso,
    ident,
    load_json_object,
    obj,
    opt_obj,
    req_ident,
    text_of,
)

FACEBOOK = "facebook"
INSTAGRAM = "instagram"
WHATSAPP = "whatsapp"
THREADS = "threads"

_POST_ITEMS = frozenset(
    {"status", "post", "photo", "video", "share", "link", "event", "album", "note", "question"}
)
_MEDIA_TYPES = {"image": "image", "video": "video", "audio": "audio", "file": "file", "sticker": "sticker"}


class _Collector:
    def __init__(self) -> None:
        self.events: list[InboundEvent] = []
        self.ignored: list[str] = []

    def result(self) -> ParseResult:
        return ParseResult(events=tuple(self.events), ignored=tuple(self.ignored))


def parse_meta(body: bytes) -> ParseResult:
    """Parse any Meta webhook body (see the module docstring for the shapes)."""
    data = load_json_object(body)
    out = _Collector()
    kind = data.get("object")
    if kind is None and "values" in data:
        _threads(data, out)
        return out.result()
    if not isinstance(kind, str):
        raise MalformedWebhook("object: missing")
    if kind == "whatsapp_business_account":
        _whatsapp(data, out)
        return out.result()
    if kind not in ("page", "instagram"):
        out.ignored.append(f"object:{kind}")
        return out.result()
    platform = FACEBOOK if kind == "page" else INSTAGRAM
    for i, raw_entry in enumerate(arr(data.get("entry"), "entry")):
        where = f"entry[{i}]"
        entry = obj(raw_entry, where)
        account = req_ident(entry.get("id"), f"{where}.id")
        entry_time = entry.get("time")
        for j, raw_change in enumerate(arr(entry.get("changes"), f"{where}.changes")):
            change_where = f"{where}.changes[{j}]"
            change = obj(raw_change, change_where)
            field = change.get("field")
            value = obj(change.get("value"), f"{change_where}.value")
            if platform == FACEBOOK:
                _page_change(field, value, account, entry_time, where=change_where, out=out)
            else:
                _instagram_change(field, value, account, entry_time, where=change_where, out=out)
        for j, raw_event in enumerate(arr(entry.get("messaging"), f"{where}.messaging")):
            _messaging(platform, obj(raw_event, f"{where}.messaging[{j}]"), f"{where}.messaging[{j}]", out)
        for _ in arr(entry.get("standby"), f"{where}.standby"):
            out.ignored.append("standby")  # another app owns the thread (handover protocol)
    return out.result()


# --- Facebook Page changes ---------------------------------------------------------------------------


def _when(value: dict[str, Any], entry_time: Any, where: str) -> datetime:
    created = value.get("created_time")
    if isinstance(created, str) and not created.lstrip("-").isdigit():
        return from_iso(created, f"{where}.value.created_time")
    if created is not None:
        return from_epoch(created, f"{where}.value.created_time")
    if entry_time is not None:
        return from_epoch(entry_time, "entry.time")
    raise MalformedWebhook(f"{where}.value.created_time: missing")


def _page_author(value: dict[str, Any]) -> tuple[str, str | None]:
    sender = opt_obj(value.get("from"), "value.from")
    author_id = ident(sender.get("id")) or ident(value.get("sender_id")) or ""
    name = sender.get("name") or value.get("sender_name")
    return author_id, name if isinstance(name, str) else None


def _page_media(value: dict[str, Any]) -> tuple[InboundMedia, ...]:
    media: list[InboundMedia] = []
    if isinstance(value.get("photo"), str):
        media.append(InboundMedia(url=value["photo"], type="image"))
    if isinstance(value.get("video"), str):
        media.append(InboundMedia(url=value["video"], type="video"))
    for link in arr(value.get("photos"), "value.photos"):
        if isinstance(link, str):
            media.append(InboundMedia(url=link, type="image"))
    return tuple(media)


def _page_change(
    field: Any, value: dict[str, Any], page_id: str, entry_time: Any, *, where: str, out: _Collector
) -> None:
    if field == "feed":
        _page_feed(value, page_id, entry_time, where=where, out=out)
    elif field == "mention":
        _page_mention(value, page_id, entry_time, where=where, out=out)
    elif field == "ratings":
        _page_rating(value, page_id, entry_time, where=where, out=out)
    else:
        out.ignored.append(f"page.{field}")


def _page_feed(value: dict[str, Any], page_id: str, entry_time: Any, *, where: str, out: _Collector) -> None:
    item = value.get("item")
    if not isinstance(item, str):
        raise MalformedWebhook(f"{where}.value.item: missing")
    if item in ("reaction", "like"):
        out.ignored.append("reaction")
        return
    if item == "comment":
        _page_comment(value, page_id, entry_time, where=where, out=out)
    elif item in _POST_ITEMS:
        _page_post(value, page_id, entry_time, where=where, out=out)
    else:
        out.ignored.append(f"feed.{item}")


def _page_comment(
    value: dict[str, Any], page_id: str, entry_time: Any, *, where: str, out: _Collector
) -> None:
    verb = value.get("verb")
    comment_id = req_ident(value.get("comment_id"), f"{where}.value.comment_id")
    if verb == "remove":
        out.events.append(Deletion(FACEBOOK, page_id, comment_id))
        return
    if verb not in ("add", "edited"):
        out.ignored.append(f"comment.{verb}")  # hide / unhide: moderation, not a message
        return
    post_id = req_ident(value.get("post_id"), f"{where}.value.post_id")
    parent_id = ident(value.get("parent_id")) or post_id
    author_id, author_name = _page_author(value)
    out.events.append(
        InboundMessage(
            platform=FACEBOOK,
            account_ref=page_id,
            platform_message_id=comment_id,
            kind=MessageKind.COMMENT if parent_id == post_id else MessageKind.REPLY,
            conversation_ref=post_id,
            text=text_of(value.get("message")),
            created_at=_when(value, entry_time, where),
            author_id=author_id,
            author_name=author_name,
            parent_ref=parent_id,
            post_ref=post_id,
            media=_page_media(value),
            raw_type=f"page.feed.comment.{verb}",
            edited=verb == "edited",
            authored_by_account=author_id == page_id,
        )
    )


def _page_post(value: dict[str, Any], page_id: str, entry_time: Any, *, where: str, out: _Collector) -> None:
    verb = value.get("verb")
    item = value.get("item")
    post_id = req_ident(value.get("post_id"), f"{where}.value.post_id")
    if verb in ("remove", "delete"):
        out.events.append(Deletion(FACEBOOK, page_id, post_id))
        return
    author_id, author_name = _page_author(value)
    if author_id == page_id:
        out.ignored.append("own_post")  # our own publishing, already known to Chorus
        return
    if verb not in ("add", "edited"):
        out.ignored.append(f"post.{verb}")
        return
    out.events.append(
        InboundMessage(
            platform=FACEBOOK,
            account_ref=page_id,
            platform_message_id=post_id,
            kind=MessageKind.MENTION,  # a visitor post on our page
            conversation_ref=post_id,
            text=text_of(value.get("message")),
            created_at=_when(value, entry_time, where),
            author_id=author_id,
            author_name=author_name,
            media=_page_media(value),
            raw_type=f"page.feed.{item}.{verb}",
            edited=verb == "edited",
        )
    )


def _page_mention(
    value: dict[str, Any], page_id: str, entry_time: Any, *, where: str, out: _Collector
) -> None:
    item = value.get("item")
    verb = value.get("verb")
    post_id = req_ident(value.get("post_id"), f"{where}.value.post_id")
    message_id = ident(value.get("comment_id")) if item == "comment" else post_id
    if message_id is None:
        raise MalformedWebhook(f"{where}.value.comment_id: missing")
    if verb == "remove":
        out.events.append(Deletion(FACEBOOK, page_id, message_id))
        return
    author_id, author_name = _page_author(value)
    out.events.append(
        InboundMessage(
            platform=FACEBOOK,
            account_ref=page_id,
            platform_message_id=message_id,
            kind=MessageKind.MENTION,
            conversation_ref=post_id,
            text=text_of(value.get("message")),
            created_at=_when(value, entry_time, where),
            author_id=author_id,  # not in the payload: "" until the ingest worker looks it up
            author_name=author_name,
            parent_ref=post_id if item == "comment" else None,
            raw_type=f"page.mention.{item}.{verb}",
            edited=verb == "edited",
        )
    )


def _page_rating(
    value: dict[str, Any], page_id: str, entry_time: Any, *, where: str, out: _Collector
) -> None:
    story = ident(value.get("open_graph_story_id")) or ident(value.get("review_id"))
    if value.get("item") != "rating" or story is None:
        out.ignored.append(f"ratings.{value.get('item')}")
        return
    if value.get("verb") == "remove":
        out.events.append(Deletion(FACEBOOK, page_id, story))
        return
    out.events.append(
        InboundMessage(
            platform=FACEBOOK,
            account_ref=page_id,
            platform_message_id=story,
            kind=MessageKind.REVIEW,
            conversation_ref=story,
            text=text_of(value.get("review_text")),
            created_at=_when(value, entry_time, where),
            author_id=ident(value.get("reviewer_id")) or "",
            author_name=value.get("reviewer_name") if isinstance(value.get("reviewer_name"), str) else None,
            raw_type=f"page.ratings.{value.get('verb')}",
            edited=value.get("verb") == "edited",
        )
    )


# --- Instagram changes -------------------------------------------------------------------------------


def _instagram_change(
    field: Any, value: dict[str, Any], ig_id: str, entry_time: Any, *, where: str, out: _Collector
) -> None:
    if field in ("comments", "live_comments"):
        comment_id = req_ident(value.get("id"), f"{where}.value.id")
        sender = opt_obj(value.get("from"), f"{where}.value.from")
        media = opt_obj(value.get("media"), f"{where}.value.media")
        media_id = ident(media.get("id"))
        parent_id = ident(value.get("parent_id"))
        author_id = ident(sender.get("id")) or ""
        handle = sender.get("username") if isinstance(sender.get("username"), str) else None
        is_reply = parent_id is not None and parent_id != media_id
        out.events.append(
            InboundMessage(
                platform=INSTAGRAM,
                account_ref=ig_id,
                platform_message_id=comment_id,
                kind=MessageKind.REPLY if is_reply else MessageKind.COMMENT,
                # the media groups the thread; an old-shape delivery without media is its own thread
                conversation_ref=media_id or comment_id,
                text=text_of(value.get("text")),
                created_at=_when(value, entry_time, where),
                author_id=author_id,
                author_handle=handle,
                parent_ref=parent_id or media_id,
                post_ref=media_id,
                raw_type=f"instagram.{field}",
                authored_by_account=bool(author_id) and author_id == ig_id,
            )
        )
    elif field == "mentions":
        mentioned_media = ident(value.get("media_id"))
        mentioned_comment = ident(value.get("comment_id"))
        message_id = mentioned_comment or mentioned_media
        if message_id is None:
            raise MalformedWebhook(f"{where}.value.media_id: missing")
        out.events.append(
            InboundMessage(
                platform=INSTAGRAM,
                account_ref=ig_id,
                platform_message_id=message_id,
                kind=MessageKind.MENTION,
                conversation_ref=mentioned_media or message_id,
                text="",  # ids only: fetch via /{ig-user-id}?fields=mentioned_comment / mentioned_media
                created_at=_when(value, entry_time, where),
                author_id="",
                parent_ref=mentioned_media if mentioned_comment else None,
                raw_type="instagram.mentions.comment" if mentioned_comment else "instagram.mentions.media",
            )
        )
    else:
        out.ignored.append(f"instagram.{field}")


# --- Messenger and Instagram DMs ---------------------------------------------------------------------


def _attachments(message: dict[str, Any], where: str) -> tuple[InboundMedia, ...]:
    media: list[InboundMedia] = []
    for k, raw in enumerate(arr(message.get("attachments"), f"{where}.attachments")):
        attachment = obj(raw, f"{where}.attachments[{k}]")
        payload = opt_obj(attachment.get("payload"), f"{where}.attachments[{k}].payload")
        url = payload.get("url")
        kind = str(attachment.get("type") or "other")
        if kind == "location":
            coords = opt_obj(payload.get("coordinates"), f"{where}.attachments[{k}].payload.coordinates")
            if "lat" in coords and "long" in coords:
                url = f"geo:{coords['lat']},{coords['long']}"
        if not isinstance(url, str) or not url:
            continue
        media_type = "sticker" if payload.get("sticker_id") else _MEDIA_TYPES.get(kind, kind)
        if media_type not in ("image", "video", "audio", "file", "sticker", "location"):
            media_type = "other"
        media.append(InboundMedia(url=url, type=media_type))
    return tuple(media)


def _messaging(platform: str, event: dict[str, Any], where: str, out: _Collector) -> None:
    sender = ident(opt_obj(event.get("sender"), f"{where}.sender").get("id"))
    recipient = ident(opt_obj(event.get("recipient"), f"{where}.recipient").get("id"))
    prefix = "messenger" if platform == FACEBOOK else "instagram.messaging"

    def message_of(mid: str, text: str, raw_type: str, **extra: Any) -> InboundMessage:
        if sender is None:
            raise MalformedWebhook(f"{where}.sender.id: missing")
        if recipient is None:
            raise MalformedWebhook(f"{where}.recipient.id: missing")
        return InboundMessage(
            platform=platform,
            account_ref=recipient,
            platform_message_id=mid,
            kind=MessageKind.DM,
            conversation_ref=sender,
            text=text,
            created_at=from_epoch(event.get("timestamp"), f"{where}.timestamp"),
            author_id=sender,
            raw_type=raw_type,
            **extra,
        )

    if "message" in event:
        message = obj(event["message"], f"{where}.message")
        if message.get("is_echo"):
            out.ignored.append("echo")  # our own outbound message
            return
        mid = req_ident(message.get("mid"), f"{where}.message.mid")
        if message.get("is_deleted"):
            out.events.append(Deletion(platform, recipient or "", mid))
            return
        reply_to = opt_obj(message.get("reply_to"), f"{where}.message.reply_to")
        story = opt_obj(reply_to.get("story"), f"{where}.message.reply_to.story")
        parent = ident(reply_to.get("mid")) or ident(story.get("id"))
        out.events.append(
            message_of(
                mid,
                text_of(message.get("text")),
                f"{prefix}.message",
                parent_ref=parent,
                media=_attachments(message, f"{where}.message"),
            )
        )
    elif "message_edit" in event:
        edit = obj(event["message_edit"], f"{where}.message_edit")
        mid = req_ident(edit.get("mid"), f"{where}.message_edit.mid")
        out.events.append(message_of(mid, text_of(edit.get("text")), f"{prefix}.message_edit", edited=True))
    elif "postback" in event:
        postback = obj(event["postback"], f"{where}.postback")
        text = text_of(postback.get("title")) or text_of(postback.get("payload"))
        mid = ident(postback.get("mid")) or f"postback.{sender}.{event.get('timestamp')}"
        out.events.append(message_of(mid, text, f"{prefix}.postback"))
    elif "read" in event:
        out.ignored.append("read")
    elif "delivery" in event:
        out.ignored.append("delivery")
    elif "reaction" in event:
        out.ignored.append("reaction")
    else:
        known = next(
            (key for key in event if key not in ("sender", "recipient", "timestamp")),
            "unknown",
        )
        out.ignored.append(f"messaging.{known}")  # optin, referral, account_linking, handover, ...


# --- WhatsApp Cloud API -------------------------------------------------------------------------------


def _whatsapp(data: dict[str, Any], out: _Collector) -> None:
    for i, raw_entry in enumerate(arr(data.get("entry"), "entry")):
        entry = obj(raw_entry, f"entry[{i}]")
        for j, raw_change in enumerate(arr(entry.get("changes"), f"entry[{i}].changes")):
            where = f"entry[{i}].changes[{j}]"
            change = obj(raw_change, where)
            field = change.get("field")
            value = obj(change.get("value"), f"{where}.value")
            if field != "messages":
                out.ignored.append(f"whatsapp.{field}")  # templates, account updates, ...
                continue
            metadata = opt_obj(value.get("metadata"), f"{where}.value.metadata")
            phone_number_id = ident(metadata.get("phone_number_id")) or ident(entry.get("id"))
            if phone_number_id is None:
                raise MalformedWebhook(f"{where}.value.metadata.phone_number_id: missing")
            names: dict[str, tuple[str | None, str | None]] = {}
            for raw_contact in arr(value.get("contacts"), f"{where}.value.contacts"):
                contact = opt_obj(raw_contact, f"{where}.value.contacts[]")
                profile = opt_obj(contact.get("profile"), "contacts[].profile")
                wa_id = ident(contact.get("wa_id"))
                if wa_id:
                    name, username = profile.get("name"), profile.get("username")
                    names[wa_id] = (
                        name if isinstance(name, str) else None,
                        username if isinstance(username, str) else None,
                    )
            for k, raw_status in enumerate(arr(value.get("statuses"), f"{where}.value.statuses")):
                status = opt_obj(raw_status, f"{where}.value.statuses[{k}]")
                known = _whatsapp_status(status, phone_number_id, f"{where}.value.statuses[{k}]")
                if known is None:
                    out.ignored.append("status")  # sent/delivered/read of OUR messages, nothing to confirm
                else:
                    out.events.append(known)
            for k, raw_message in enumerate(arr(value.get("messages"), f"{where}.value.messages")):
                _whatsapp_message(
                    obj(raw_message, f"{where}.value.messages[{k}]"),
                    phone_number_id,
                    names,
                    f"{where}.value.messages[{k}]",
                    out,
                )


REENGAGEMENT = 131047


_DELIVERED = frozenset({"sent", "delivered", "read", "played"})


def _whatsapp_status(
    status: dict[str, Any], phone_number_id: str, where: str
) -> DeliveryFailed | DeliveryConfirmed | None:
    """A ``failed`` status of one of our messages (an error that often arrives here after a 200
    ``accepted``), with WhatsApp's reason; a sent/delivered/read one that echoes the reference Chorus
    sent (``biz_opaque_callback_data``); None for the others."""
    state = status.get("status")
    if not isinstance(state, str):
        return None  # a status without a readable state says nothing Chorus can act on
    if state in _DELIVERED:
        reference = status.get("biz_opaque_callback_data")
        if not isinstance(reference, str) or not reference.startswith(REPLY_REFERENCE):
            return None  # no reference, or not one of Chorus's replies
        return DeliveryConfirmed(
            WHATSAPP, phone_number_id, req_ident(status.get("id"), f"{where}.id"), reference
        )
    if state != "failed":
        return None
    reasons = []
    for k, raw in enumerate(arr(status.get("errors"), f"{where}.errors")):
        error = opt_obj(raw, f"{where}.errors[{k}]")
        details = text_of(opt_obj(error.get("error_data"), f"{where}.errors[{k}].error_data").get("details"))
        title = text_of(error.get("title")) or text_of(error.get("message"))
        line = f"{title} ({error.get('code')})" + (f": {details}" if details else "")
        if error.get("code") == REENGAGEMENT:
            line += "; the 24-hour customer-service window had closed: send an approved template"
        reasons.append(line)
    return DeliveryFailed(
        platform=WHATSAPP,
        account_ref=phone_number_id,
        platform_message_id=req_ident(status.get("id"), f"{where}.id"),
        reason="WhatsApp did not deliver the message: " + ("; ".join(reasons) or "no reason given"),
    )


def _whatsapp_message(
    message: dict[str, Any],
    phone_number_id: str,
    names: dict[str, tuple[str | None, str | None]],
    where: str,
    out: _Collector,
) -> None:
    kind = message.get("type")
    if kind == "reaction":
        out.ignored.append("reaction")
        return
    if kind == "system":
        out.ignored.append("system")  # number changed, identity changed
        return
    sender = req_ident(message.get("from"), f"{where}.from")
    mid = req_ident(message.get("id"), f"{where}.id")
    text, media = _whatsapp_content(message, str(kind), where)
    context = opt_obj(message.get("context"), f"{where}.context")
    name, username = names.get(sender, (None, None))
    out.events.append(
        InboundMessage(
            platform=WHATSAPP,
            account_ref=phone_number_id,
            platform_message_id=mid,
            kind=MessageKind.DM,
            conversation_ref=sender,
            text=text,
            created_at=from_epoch(message.get("timestamp"), f"{where}.timestamp"),
            author_id=sender,
            author_name=name,
            author_handle=username,
            parent_ref=ident(context.get("id")),
            media=media,
            raw_type=f"whatsapp.{kind}",
        )
    )


_Content = tuple[str, tuple[InboundMedia, ...]]
_ContentFn = Callable[[dict[str, Any], dict[str, Any], str], _Content]


def _wa_text(body: dict[str, Any], message: dict[str, Any], where: str) -> _Content:
    return text_of(body.get("body")), ()


def _wa_media(kind: str) -> _ContentFn:
    media_type = {"document": "file"}.get(kind, kind)

    def content(body: dict[str, Any], message: dict[str, Any], where: str) -> _Content:
        media = InboundMedia(
            url=text_of(body.get("url")), type=media_type, platform_media_id=ident(body.get("id"))
        )
        return text_of(body.get("caption")), (media,)

    return content


def _wa_location(body: dict[str, Any], message: dict[str, Any], where: str) -> _Content:
    label = ", ".join(part for part in (text_of(body.get("name")), text_of(body.get("address"))) if part)
    geo = f"geo:{body.get('latitude')},{body.get('longitude')}"
    return label, (InboundMedia(url=geo, type="location"),)


def _wa_contacts(body: dict[str, Any], message: dict[str, Any], where: str) -> _Content:
    shared = []
    for raw in arr(message.get("contacts"), f"{where}.contacts"):
        card = opt_obj(raw, f"{where}.contacts[]")
        name = text_of(opt_obj(card.get("name"), f"{where}.contacts[].name").get("formatted_name"))
        phones = [
            text_of(opt_obj(p, f"{where}.contacts[].phones[]").get("phone"))
            for p in arr(card.get("phones"), f"{where}.contacts[].phones")
        ]
        shared.append(f"{name} ({', '.join(p for p in phones if p)})" if phones else name)
    return "; ".join(shared), ()


def _wa_button(body: dict[str, Any], message: dict[str, Any], where: str) -> _Content:
    return text_of(body.get("text")), ()


def _wa_interactive(body: dict[str, Any], message: dict[str, Any], where: str) -> _Content:
    reply = opt_obj(body.get("button_reply") or body.get("list_reply"), f"{where}.interactive")
    return text_of(reply.get("title")), ()


def _wa_order(body: dict[str, Any], message: dict[str, Any], where: str) -> _Content:
    items = arr(body.get("product_items"), f"{where}.order.product_items")
    products = [opt_obj(p, f"{where}.order.product_items[]") for p in items]
    lines = [f"{p.get('quantity')} x {p.get('product_retailer_id')}" for p in products]
    return "\n".join(filter(None, [text_of(body.get("text")), *lines])), ()


_WA_CONTENT: dict[str, _ContentFn] = {
    "text": _wa_text,
    "image": _wa_media("image"),
    "video": _wa_media("video"),
    "audio": _wa_media("audio"),
    "document": _wa_media("document"),
    "sticker": _wa_media("sticker"),
    "location": _wa_location,
    "contacts": _wa_contacts,
    "button": _wa_button,
    "interactive": _wa_interactive,
    "order": _wa_order,
}


def _whatsapp_content(message: dict[str, Any], kind: str, where: str) -> _Content:
    handler = _WA_CONTENT.get(kind)
    if handler is None:
        return "", ()  # unsupported / unknown: kept (a customer wrote something) with an empty text
    body = opt_obj(message.get(kind), f"{where}.{kind}") if kind != "contacts" else {}
    return handler(body, message, where)


# --- Threads ------------------------------------------------------------------------------------------


def _threads(data: dict[str, Any], out: _Collector) -> None:
    values = obj(data.get("values"), "values")
    field = values.get("field")
    value = obj(values.get("value"), "values.value")
    account = ident(data.get("target_id"))
    if account is None:
        raise MalformedWebhook("target_id: missing")
    if field == "delete":
        out.events.append(Deletion(THREADS, account, req_ident(value.get("id"), "values.value.id")))
        return
    if field not in ("replies", "mentions"):
        out.ignored.append(f"threads.{field}")
        return
    reply_id = req_ident(value.get("id"), "values.value.id")
    root = opt_obj(value.get("root_post"), "values.value.root_post")
    replied_to = opt_obj(value.get("replied_to"), "values.value.replied_to")
    root_id = ident(root.get("id"))
    username = value.get("username") if isinstance(value.get("username"), str) else None
    stamp = value.get("timestamp")
    created = from_iso(stamp, "values.value.timestamp") if stamp else from_epoch(data.get("time"), "time")
    out.events.append(
        InboundMessage(
            platform=THREADS,
            account_ref=account,
            platform_message_id=reply_id,
            kind=MessageKind.REPLY if field == "replies" else MessageKind.MENTION,
            conversation_ref=root_id or reply_id,
            text=text_of(value.get("text")),
            created_at=created,
            author_id=username or "",  # Threads sends the username only, no user id
            author_handle=username,
            parent_ref=ident(replied_to.get("id")),
            post_ref=root_id,
            raw_type=f"threads.{field}",
        )
    )

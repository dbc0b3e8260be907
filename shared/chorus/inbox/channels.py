"""Where a conversation lives and how a reply to it goes out (DESIGN decision 12).

A conversation's **channel** is set at ingest from the message that opened it (a Facebook comment, a
Messenger message, an X direct message, ...) and stays on the conversation. Each channel declares,
as data, what arrives through it, the endpoint a reply goes out by, and the platform's reply window:

* ``window``: free-form replies only this long after the person's last message (Messenger and
  Instagram 24 h, WhatsApp's customer-service window 24 h, WeChat 48 h); ``None``: no window
  (comments, posts);
* ``tagged_window``: how long a human agent may still answer with the ``HUMAN_AGENT`` tag, when the
  deployment is approved for it (``CHORUS_META_HUMAN_AGENT``; Messenger and Instagram: 7 days);
* ``templates``: outside the window only an approved template may be sent (WhatsApp), chosen in the
  reply.

:func:`plan_reply` applies those rules before anything is queued or sent, so a reply the platform
would refuse is refused here, with the reason, and never reaches the network. The replier applies
them again just before the call (the window may close while a reply waits in the queue).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chorus.errors import ValidationFailed
from chorus.inbox.normalized import MessageKind

HUMAN_AGENT = "HUMAN_AGENT"
PUBLISHER = "publisher"
"""The sender spec of channels whose reply is a post/comment made by the platform's publishing adapter
(``reply_to`` = the message answered): the adapter's own exactly-once and verify rules apply."""


@dataclass(frozen=True)
class Channel:
    name: str
    platform: str
    label: str  # as a person names it: "Messenger", "Facebook comments"
    arrives: str  # what reaches the inbox through it
    reply_via: str | None  # how a reply goes out; None: Chorus cannot reply here (said before anyone types)
    sender: str | None = None  # PUBLISHER, or "module:Class" of a reply sender in chorus.platforms
    window: timedelta | None = None
    tagged_window: timedelta | None = None
    templates: bool = False
    max_chars: int | None = None
    max_bytes: int | None = None  # UTF-8 bytes (Instagram messaging)
    visibility: str | None = None  # a reply status's visibility (Mastodon direct mentions)
    private_sender: str | None = None  # a private reply to a comment's author ("private": true)
    needs_scope: str | None = None  # the scope an account's grant needs to reply here
    grant: str | None = None  # the account's second authorisation replies use (chorus.accounts.grants)

    @property
    def can_reply(self) -> bool:
        return self.reply_via is not None and self.sender is not None


DAY = timedelta(hours=24)

CHANNELS: Mapping[str, Channel] = {
    c.name: c
    for c in (
        Channel("facebook.comment", "facebook", "Facebook comments",
                "comments, replies, visitor posts and mentions on the Page's posts",
                "a reply comment: POST /{comment-id}/comments; with \"private\": true one private reply to "
                "the commenter within 7 days (POST /{page-id}/messages, recipient.comment_id)", PUBLISHER,
                private_sender="meta.messaging:FacebookPrivateReplies"),
        Channel("messenger", "facebook", "Messenger", "Messenger messages and postbacks sent to the Page",
                "Send API: POST /{page-id}/messages, messaging_type RESPONSE (MESSAGE_TAG HUMAN_AGENT after "
                "24 h, when configured)",
                "meta.messaging:MessengerSender", window=DAY, tagged_window=timedelta(days=7), max_chars=2000),
        Channel("instagram.comment", "instagram", "Instagram comments",
                "comments and replies on the account's media",
                "a reply: POST /{ig-comment-id}/replies; with \"private\": true one private reply to the "
                "commenter within 7 days (POST /{ig-user-id}/messages, recipient.comment_id)",
                "instagram.replies:InstagramCommentReplies",
                private_sender="meta.messaging:InstagramPrivateReplies"),
        Channel("instagram.mention", "instagram", "Instagram mentions",
                "mentions of the account in others' media and comments (ids only)", None),
        Channel("instagram.dm", "instagram", "Instagram direct messages", "Instagram direct messages",
                "Instagram messaging: POST /{page-id}/messages (the linked Page) to the person's "
                "Instagram-scoped id",
                "meta.messaging:InstagramDirectSender", window=DAY, tagged_window=timedelta(days=7),
                max_bytes=1000),
        Channel("x.post", "x", "X mentions and replies", "mentions, replies and quotes of the account",
                "a reply post: POST /2/tweets with reply.in_reply_to_tweet_id", PUBLISHER),
        Channel("x.dm", "x", "X direct messages", "direct messages to the account",
                "POST /2/dm_conversations/with/{participant_id}/messages", "x.dm:XDirectSender",
                max_chars=10_000),
        Channel("whatsapp", "whatsapp", "WhatsApp", "messages to the business phone number",
                "Cloud API: POST /{phone-number-id}/messages: text, or the approved template chosen in the "
                "reply",
                "whatsapp.messages:WhatsAppSender", window=DAY, templates=True, max_chars=4096),
        Channel("wechat", "wechat", "WeChat", "messages to the Official Account",
                "customer-service message: POST /cgi-bin/message/custom/send", "wechat.messages:WeChatSender", window=timedelta(hours=48)),
        Channel("mastodon", "mastodon", "Mastodon", "mentions and replies",
                "a reply status: POST /api/v1/statuses with in_reply_to_id", PUBLISHER),
        Channel("mastodon.direct", "mastodon", "Mastodon direct mentions",
                "mentions addressed only to the account (visibility direct)",
                "a reply status with visibility direct: POST /api/v1/statuses", PUBLISHER,
                visibility="direct"),
        Channel("bluesky", "bluesky", "Bluesky", "mentions, replies and quotes",
                "a reply post (app.bsky.feed.post with reply refs)", PUBLISHER),
        Channel("bluesky.dm", "bluesky", "Bluesky direct messages",
                "direct messages through Bluesky's chat service (polled: chat.bsky.convo.getLog)",
                "POST chat.bsky.convo.sendMessage (convoId, message.text) on the account's PDS with "
                "atproto-proxy: did:web:api.bsky.chat#bsky_chat", "bluesky.chat:BlueskyChatSender",
                max_chars=1000, max_bytes=10_000),
        Channel("weibo", "weibo", "Weibo comments",
                "comments on the account's statuses and comments mentioning it (polled)",
                "a reply comment: POST 2/comments/reply.json (cid, id, comment)",
                "weibo.comments:WeiboCommentReplies", max_chars=140),
        Channel("threads", "threads", "Threads", "replies and mentions",
                "a reply post: POST /{threads-user-id}/threads (media_type TEXT, reply_to_id), then "
                "POST /{threads-user-id}/threads_publish", "threads.replies:ThreadsReplies", max_chars=500),
        Channel("linkedin", "linkedin", "LinkedIn", "comments and mentions on the organisation's posts",
                "a reply comment: POST /rest/socialActions/{comment-urn}/comments (actor, object, message.text, "
                "parentComment)", "linkedin.replies:LinkedInCommentReplies"),
        Channel("youtube", "youtube", "YouTube comments",
                "comments and replies on the channel's videos (polled within the daily quota)",
                "a reply: POST /youtube/v3/comments (snippet.parentId, textOriginal; 50 quota units)",
                "youtube.comments:YouTubeCommentReplies", max_chars=10_000),
        Channel("tiktok", "tiktok", "TikTok comments",
                "comments on the account's newest videos (polled once comments are enabled: comment.list)",
                "a reply comment: POST /business/comment/reply/create/ (business_id, video_id, comment_id, text; "
                "needs comment.list.manage)", "tiktok.comments:TikTokCommentReplies", max_chars=150,
                needs_scope="comment.list.manage", grant="tiktok_business"),
        Channel("douyin", "douyin", "Douyin comments",
                "comments on the account's newest videos (enterprise accounts granted item.comment; polled)",
                "a reply comment: POST /item/comment/reply/ (item_id, comment_id, content)",
                "douyin.comments:DouyinCommentReplies"),
        Channel("sandbox", "sandbox", "Sandbox (local only)", "comments, mentions and messages",
                "a reply on the local sandbox platform", PUBLISHER),
    )
}  # fmt: skip


PRIVATE_WINDOW = timedelta(days=7)
"""A private reply to a comment's author: within 7 days of the comment, one per comment (Meta)."""


def plan_private(channel: Channel, comment_at: datetime | None, now: datetime) -> None:
    """Meta's rules for a private reply to the author of a comment written at ``comment_at``; a reply it
    would refuse raises :class:`ValidationFailed` with the reason (one per comment is the caller's check)."""
    if channel.private_sender is None:
        raise ValidationFailed.on("private", f"{channel.label} have no private replies", "not_supported")
    if comment_at is None:
        raise ValidationFailed.on("private", "there is no comment to answer privately", "required")
    ends = comment_at + PRIVATE_WINDOW
    if now > ends:
        raise ValidationFailed.on(
            "private",
            f"a private reply is allowed only within 7 days of the comment; that window closed at {_at(ends)}",
            "reply_window",
        )


def account_refusal(channel: Channel, extra: Mapping[str, str]) -> str | None:
    """Why the account (its ``extra``) cannot reply on ``channel`` though the channel can (the grant
    replies use lacks the scope they need: TikTok's business grant without ``comment.list.manage``, or
    none at all); None when it can."""
    if channel.needs_scope is None:
        return None
    if channel.grant is not None:
        from chorus.accounts.grants import granted_scopes

        if channel.needs_scope in granted_scopes(dict(extra)):
            return None
        return (
            f"Chorus cannot reply on {channel.label} from this account: comments are not enabled with "
            f"{channel.needs_scope} granted; enable comments for the account on the Accounts page"
        )
    if channel.needs_scope in {s.strip() for s in (extra.get("scopes") or "").split(",")}:
        return None
    return (
        f"Chorus cannot reply on {channel.label} from this account: its authorisation did not grant "
        f"{channel.needs_scope}; connect it again granting that permission"
    )


def window_text(channel: Channel) -> str:
    """The channel's reply window as a person reads it (the README's inbox table)."""
    if channel.window is None:
        return "none"
    hours = round(channel.window.total_seconds() / 3600)
    if channel.templates:
        return f"{hours} h; after it only an approved template"
    if channel.tagged_window is not None:
        return f"{hours} h; {channel.tagged_window.days} days with the HUMAN_AGENT tag when configured"
    return f"{hours} h"


def name_for(platform: str, kind: MessageKind | str) -> str:
    """The channel of a conversation opened by a message of ``kind`` on ``platform`` (set at ingest)."""
    dm = kind == MessageKind.DM
    if platform == "facebook":
        return "messenger" if dm else "facebook.comment"
    if platform == "instagram":
        if dm:
            return "instagram.dm"
        return "instagram.mention" if kind == MessageKind.MENTION else "instagram.comment"
    if platform == "x":
        return "x.dm" if dm else "x.post"
    if platform == "mastodon":
        return "mastodon.direct" if dm else "mastodon"
    if platform == "bluesky":
        return "bluesky.dm" if dm else "bluesky"
    return platform


def get(name: str) -> Channel:
    """The channel ``name``; one Chorus does not know is one it cannot reply on."""
    found = CHANNELS.get(name)
    if found is not None:
        return found
    return Channel(name, name.split(".", maxsplit=1)[0], name, "", None)


def window_ends_at(channel: Channel, last_inbound_at: datetime | None) -> datetime | None:
    """When free-form replies stop being allowed (None: the channel has no window, or nobody wrote)."""
    if channel.window is None or last_inbound_at is None:
        return None
    return last_inbound_at + channel.window


def mentioning(text: str, handle: str) -> str:
    """``text`` mentioning ``@handle`` (a direct status reaches only the accounts it mentions)."""
    mention = "@" + handle.lstrip("@")
    return text if mention.casefold() in text.casefold() else f"{mention} {text}"


@dataclass(frozen=True)
class ReplyPlan:
    """How a reply allowed by :func:`plan_reply` is sent."""

    tag: str | None = None  # HUMAN_AGENT outside the standard window
    template: dict[str, Any] | None = None


def _at(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_reply(
    channel: Channel,
    last_inbound_at: datetime | None,
    now: datetime,
    *,
    text: str,
    template: dict[str, Any] | None = None,
    human_agent: bool = False,
) -> ReplyPlan:
    """The platform's rules for a reply sent ``now``; a reply it would refuse raises
    :class:`ValidationFailed` naming the field and the reason (before the network)."""
    if not channel.can_reply:
        raise ValidationFailed.on(
            "conversation", f"Chorus cannot reply on {channel.label} yet: answer on the platform itself",
            "reply_unsupported",
        )  # fmt: skip
    if template is not None and not channel.templates:
        raise ValidationFailed.on("template", f"{channel.label} has no message templates", "not_supported")
    if template is None:
        if channel.max_chars is not None and len(text) > channel.max_chars:
            raise ValidationFailed.on(
                "text", f"{channel.label} takes at most {channel.max_chars} characters", "max_length"
            )
        if channel.max_bytes is not None and len(text.encode("utf-8")) > channel.max_bytes:
            raise ValidationFailed.on(
                "text", f"{channel.label} takes at most {channel.max_bytes} bytes of UTF-8", "max_length"
            )
    ends = window_ends_at(channel, last_inbound_at)
    if ends is None or now <= ends or template is not None:
        return ReplyPlan(template=template)
    hours = round(channel.window.total_seconds() / 3600) if channel.window else 0
    if channel.templates:
        raise ValidationFailed.on(
            "template",
            f"the {channel.label} customer-service window closed at {_at(ends)} ({hours} h after the "
            "customer's last message): outside it only an approved template can be sent; give "
            "template.name and template.language",
            "reply_window",
        )
    if channel.tagged_window is not None and last_inbound_at is not None:
        if human_agent and now <= last_inbound_at + channel.tagged_window:
            return ReplyPlan(tag=HUMAN_AGENT)
        why = (
            "the human-agent window has closed too"
            if human_agent
            else "the human-agent tag is not configured (CHORUS_META_HUMAN_AGENT)"
        )
        raise ValidationFailed.on(
            "text",
            f"{channel.label} allows a reply only within {hours} h of the person's last message; the "
            f"window closed at {_at(ends)} and {why}",
            "reply_window",
        )
    raise ValidationFailed.on(
        "text",
        f"{channel.label} allows a reply only within {hours} h of the person's last message; the window "
        f"closed at {_at(ends)}",
        "reply_window",
    )

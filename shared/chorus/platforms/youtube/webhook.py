"""YouTube push notifications (WebSub / PubSubHubbub via pubsubhubbub.appspot.com).

* ``GET ?hub.mode=subscribe|unsubscribe&hub.topic=..&hub.challenge=..``: echo the challenge when the
  topic is a YouTube channel feed (``https://www.youtube.com/xml/feeds/videos.xml?channel_id=..``),
  404 otherwise (WebSub: "refuse by answering 404"). ``hub.mode=denied`` is acknowledged.
* ``POST``: an Atom feed, signed by the hub with ``X-Hub-Signature: sha1=<hex HMAC-SHA1(secret,
  body)>`` because Chorus subscribes with ``hub.secret``. Unsigned or wrongly signed bodies are
  refused, and so is every push when ``youtube_hub_secret`` is not configured (an unsigned push could
  come from anyone); the subscription check is then answered 503, so no subscription is made that the
  receiver would have to trust blindly.

A new or updated video is not an inbox message: :meth:`YouTubeWebhook.parse` reports it as ignored
(``video_published``) and :func:`parse_video_notifications` / :func:`parse_video_notification` give
the ids to whoever needs them (metrics, "published elsewhere" detection). A ``deleted-entry``
becomes a :class:`Deletion` of the video.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from chorus.inbox.normalized import Deletion, InboundEvent, ParseResult
from chorus.platforms.webhooks import (
    NOT_CONFIGURED,
    OK,
    MalformedWebhook,
    SignatureError,
    WebhookRequest,
    WebhookResponse,
    WebhookSecrets,
    from_iso,
    hmac_digest,
    require_secret,
    same,
)

PLATFORM = "youtube"
SIGNATURE_HEADER = "x-hub-signature"
_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "yt": "http://www.youtube.com/xml/schemas/2015",
    "at": "http://purl.org/atompub/tombstones/1.0",
}
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_FEED_HOSTS = {"www.youtube.com", "youtube.com"}
NOT_FOUND = WebhookResponse(404, b"unknown topic")


@dataclass(frozen=True)
class VideoNotification:
    channel_id: str
    video_id: str
    title: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    deleted: bool = False


def is_youtube_topic(topic: str) -> bool:
    """Whether ``topic`` is a YouTube channel's video feed."""
    parts = urlsplit(topic)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() not in _FEED_HOSTS:
        return False
    if parts.path != "/xml/feeds/videos.xml":
        return False
    channel = parse_qs(parts.query).get("channel_id", [""])[0]
    return bool(channel)


def _channel_from_uri(uri: str) -> str:
    if "channel_id=" in uri:
        return parse_qs(urlsplit(uri).query).get("channel_id", [""])[0]
    return uri.rstrip("/").rsplit("/", 1)[-1]


def parse_video_notifications(body: bytes) -> list[VideoNotification]:
    """Every video the Atom push mentions (new/updated entries and deleted entries)."""
    if _DECLARATION.search(body):
        raise MalformedWebhook("body: DOCTYPE/ENTITY declarations are refused")
    try:
        root = ET.fromstring(body)  # noqa: S314 -- DTDs refused above, so no entity can be declared
    except ET.ParseError as exc:
        raise MalformedWebhook(f"body: not well-formed XML ({exc})") from exc
    if root.tag != f"{{{_NS['atom']}}}feed":
        raise MalformedWebhook("feed: the body is not an Atom feed")
    found: list[VideoNotification] = []
    for i, entry in enumerate(root.findall("atom:entry", _NS)):
        video = (entry.findtext("yt:videoId", default="", namespaces=_NS) or "").strip()
        channel = (entry.findtext("yt:channelId", default="", namespaces=_NS) or "").strip()
        if not video:
            raise MalformedWebhook(f"entry[{i}].yt:videoId: missing")
        if not channel:
            raise MalformedWebhook(f"entry[{i}].yt:channelId: missing")
        published = entry.findtext("atom:published", default="", namespaces=_NS)
        updated = entry.findtext("atom:updated", default="", namespaces=_NS)
        found.append(
            VideoNotification(
                channel_id=channel,
                video_id=video,
                title=entry.findtext("atom:title", default=None, namespaces=_NS),
                published=from_iso(published, f"entry[{i}].published") if published else None,
                updated=from_iso(updated, f"entry[{i}].updated") if updated else None,
            )
        )
    for i, tomb in enumerate(root.findall("at:deleted-entry", _NS)):
        ref = tomb.get("ref", "")
        video = ref.removeprefix("yt:video:")
        if not video:
            raise MalformedWebhook(f"deleted-entry[{i}].ref: missing")
        uri = tomb.findtext("at:by/atom:uri", default="", namespaces=_NS) or ""
        when = tomb.get("when")
        found.append(
            VideoNotification(
                channel_id=_channel_from_uri(uri),
                video_id=video,
                updated=from_iso(when, f"deleted-entry[{i}].when") if when else None,
                deleted=True,
            )
        )
    return found


def parse_video_notification(body: bytes) -> tuple[str, str]:
    """``(channel_id, video_id)`` of the first video in the push; :class:`MalformedWebhook` if none."""
    videos = parse_video_notifications(body)
    if not videos:
        raise MalformedWebhook("entry: no video in the notification")
    return videos[0].channel_id, videos[0].video_id


class YouTubeWebhook:
    platform = "youtube"

    def handshake(self, req: WebhookRequest, secrets: WebhookSecrets) -> WebhookResponse | None:
        if req.method.upper() != "GET" or "hub.mode" not in req.query:
            return None
        if not secrets.youtube_hub_secret:
            return NOT_CONFIGURED  # a subscription without hub.secret would deliver unsigned pushes
        mode = req.query.get("hub.mode", "")
        if mode == "denied":
            return OK  # the hub refused our subscription; nothing to echo
        if mode not in ("subscribe", "unsubscribe") or not is_youtube_topic(req.query.get("hub.topic", "")):
            return NOT_FOUND
        return WebhookResponse(200, req.query.get("hub.challenge", "").encode("utf-8"))

    def verify(self, req: WebhookRequest, secrets: WebhookSecrets) -> None:
        secret = require_secret(secrets.youtube_hub_secret, "youtube_hub_secret")
        header = req.header(SIGNATURE_HEADER)
        if not header:
            raise SignatureError("X-Hub-Signature: missing")
        algorithm, _, digest = header.strip().partition("=")
        if algorithm.lower() not in ("sha1", "sha256", "sha384", "sha512") or not digest:
            raise SignatureError("X-Hub-Signature: unsupported format")
        expected = hmac_digest(secret, req.body, algorithm.lower()).hex()
        if not same(expected, digest.lower()):
            raise SignatureError("X-Hub-Signature: does not match the body")

    def ack(self, req: WebhookRequest) -> WebhookResponse:
        return OK

    def replay_key(self, req: WebhookRequest) -> str | None:
        return None  # no signed timestamp: a replay is deduped by message id at ingest

    def parse(self, body: bytes, headers: Mapping[str, str], secrets: WebhookSecrets) -> ParseResult:
        events: list[InboundEvent] = []
        ignored: list[str] = []
        for video in parse_video_notifications(body):
            if video.deleted:
                events.append(Deletion(PLATFORM, video.channel_id, video.video_id))
            else:
                ignored.append("video_published")
        return ParseResult(events=tuple(events), ignored=tuple(ignored))


YOUTUBE = YouTubeWebhook()

"""Contract: YouTube WebSub push (challenge, optional X-Hub-Signature, Atom parsing)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from chorus.inbox.normalized import Deletion
from chorus.platforms.webhooks import (
    WEBHOOKS,
    MalformedWebhook,
    SignatureError,
    WebhookRequest,
    WebhookSecrets,
)
from chorus.platforms.youtube.webhook import (
    VideoNotification,
    parse_video_notification,
    parse_video_notifications,
)
from tests.support import fixture_bytes

YOUTUBE = WEBHOOKS["youtube"]
FEED = "https://www.youtube.com/xml/feeds/videos.xml?channel_id=UCuAXFkgsw1L7xaCfnd5JJOw"
BODY = fixture_bytes("webhooks/youtube/pubsubhubbub_notification.xml")
HUB = WebhookSecrets(youtube_hub_secret="hub-secret")


@pytest.mark.parametrize("mode", ["subscribe", "unsubscribe"])
def test_the_hub_challenge_is_echoed_for_a_youtube_feed(mode: str) -> None:
    query = {
        "hub.mode": mode,
        "hub.topic": FEED,
        "hub.challenge": "14829735727466525155",
        "hub.lease_seconds": "432000",
    }
    response = YOUTUBE.handshake(WebhookRequest("GET", "youtube", query, {}, b""), HUB)
    assert response is not None
    assert (response.status, response.body) == (200, b"14829735727466525155")


@pytest.mark.parametrize(
    "topic",
    [
        "https://evil.example/xml/feeds/videos.xml?channel_id=UC1",
        "https://www.youtube.com/xml/feeds/videos.xml",
        "https://www.youtube.com/feeds/other?channel_id=UC1",
        "",
    ],
)
def test_a_challenge_for_another_topic_is_refused_with_404(topic: str) -> None:
    query = {"hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "x"}
    response = YOUTUBE.handshake(WebhookRequest("GET", "youtube", query, {}, b""), HUB)
    assert response is not None
    assert response.status == 404


def test_the_documented_notification_is_a_published_video_not_an_inbox_message() -> None:
    result = YOUTUBE.parse(BODY, {}, WebhookSecrets())
    assert (result.events, result.ignored) == ((), ("video_published",))
    assert parse_video_notification(BODY) == ("CHANNEL_ID", "VIDEO_ID")
    (video,) = parse_video_notifications(BODY)
    assert video == VideoNotification(
        channel_id="CHANNEL_ID",
        video_id="VIDEO_ID",
        title="Video title",
        published=datetime(2015, 3, 6, 21, 40, 57, tzinfo=UTC),
        updated=datetime(2015, 3, 9, 19, 5, 24, 552394, tzinfo=UTC),
    )


def test_with_a_hub_secret_only_correctly_signed_bodies_are_accepted() -> None:
    secrets = WebhookSecrets(youtube_hub_secret="hub-secret")
    good = "sha1=" + hmac.new(b"hub-secret", BODY, hashlib.sha1).hexdigest()
    YOUTUBE.verify(WebhookRequest("POST", "youtube", {}, {"x-hub-signature": good}, BODY), secrets)
    with pytest.raises(SignatureError):
        YOUTUBE.verify(WebhookRequest("POST", "youtube", {}, {"x-hub-signature": good}, BODY + b" "), secrets)
    with pytest.raises(SignatureError, match="missing"):
        YOUTUBE.verify(WebhookRequest("POST", "youtube", {}, {}, BODY), secrets)


def test_without_a_hub_secret_pushes_and_subscriptions_are_refused_like_any_unsigned_webhook() -> None:
    # Given no youtube_hub_secret configured
    unsigned = WebhookRequest("POST", "youtube", {}, {}, BODY)
    # When a push arrives, Then it is refused (an unsigned push could come from anyone)
    with pytest.raises(SignatureError, match="youtube_hub_secret is not configured"):
        YOUTUBE.verify(unsigned, WebhookSecrets())
    # and a subscription check is answered 503, so no unsigned subscription is ever confirmed
    query = {"hub.mode": "subscribe", "hub.topic": FEED, "hub.challenge": "x"}
    response = YOUTUBE.handshake(WebhookRequest("GET", "youtube", query, {}, b""), WebhookSecrets())
    assert response is not None
    assert response.status == 503


def test_a_deleted_video_tombstone_is_a_deletion() -> None:
    body = b"""<feed xmlns:at="http://purl.org/atompub/tombstones/1.0" xmlns="http://www.w3.org/2005/Atom">
      <at:deleted-entry ref="yt:video:abc123" when="2024-01-02T03:04:05+00:00">
        <link href="https://www.youtube.com/watch?v=abc123"/>
        <at:by><name>Channel</name><uri>https://www.youtube.com/channel/UCchan</uri></at:by>
      </at:deleted-entry></feed>"""
    result = YOUTUBE.parse(body, {}, WebhookSecrets())
    assert result.events == (Deletion("youtube", "UCchan", "abc123"),)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"<feed", "not well-formed"),
        (b"<rss/>", "not an Atom feed"),
        (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>x</title></entry></feed>', "yt:videoId"),
        (b'<!DOCTYPE feed [<!ENTITY e "x">]><feed/>', "DOCTYPE"),
    ],
)
def test_bodies_that_are_not_youtube_feeds_are_malformed(body: bytes, field: str) -> None:
    with pytest.raises(MalformedWebhook, match=field):
        YOUTUBE.parse(body, {}, WebhookSecrets())

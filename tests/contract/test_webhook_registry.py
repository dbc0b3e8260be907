"""Contract: the webhook registry, the shared helpers, and that every webhook fixture is exercised."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from chorus.platforms.webhooks import (
    WEBHOOKS,
    MalformedWebhook,
    WebhookRequest,
    WebhookSpec,
    from_epoch,
    from_iso,
)
from tests.support import fixtures_dir

# Every file under fixtures/webhooks/ and the test module that uses it (reference-only files are
# asserted on too: the documented field names / envelopes they hold).
FIXTURE_OWNERS = {
    "bluesky/README.md": "readme",
    "bluesky/lexicon_app.bsky.feed.post.json": "test_notifications_bluesky",
    "bluesky/lexicon_app.bsky.notification.listNotifications.json": "test_notifications_bluesky",
    "bluesky/listNotifications_appview_snapshot.snap.txt": "test_notifications_bluesky",
    "bluesky/reply_post_record_docs.json": "test_notifications_bluesky",
    "linkedin/README.md": "readme",
    "linkedin/webhook_validation.json": "test_webhook_linkedin",
    "mastodon/README.md": "readme",
    "mastodon/notification_mention_docs.jsonc": "test_notifications_mastodon",
    "mastodon/notification_mention_mastodonpy.json": "test_notifications_mastodon",
    "meta/README.md": "readme",
    "meta/docs_instagram_comments_template.txt": "test_webhook_registry",
    "meta/instagram_comments.json": "test_webhook_meta",
    "meta/instagram_comments_minimal.json": "test_webhook_meta",
    "meta/instagram_mentions.json": "test_webhook_meta",
    "meta/instagram_messaging_attachment.json": "test_webhook_meta",
    "meta/instagram_messaging_read.json": "test_webhook_meta",
    "meta/messenger_message_echo.json": "test_webhook_meta",
    "meta/messenger_message_reply.json": "test_webhook_meta",
    "meta/messenger_message_text.json": "test_webhook_meta",
    "meta/messenger_postback.json": "test_webhook_meta",
    "meta/page_feed_comment_add.json": "test_webhook_meta",
    "meta/page_feed_comment_add_legacy_v2_5.json": "test_webhook_meta",
    "meta/page_feed_comment_add_with_photo.json": "test_webhook_meta",
    "meta/page_feed_post_add.json": "test_webhook_meta",
    "meta/page_feed_reaction_add.json": "test_webhook_meta",
    "meta/page_mention_comment_add.json": "test_webhook_meta",
    "meta/signature_vectors.json": "test_webhook_meta",
    "meta/verification_request.json": "test_webhook_meta",
    "threads/README.md": "readme",
    "threads/replies_webhook.json": "test_webhook_threads",
    "tiktok/README.md": "readme",
    "tiktok/signature_scheme.json": "test_webhook_tiktok",
    "tiktok/webhook_authorization_removed.json": "test_webhook_tiktok",
    "wechat/README.md": "readme",
    "wechat/crypto_and_signature_vectors.json": "test_webhook_wechat",
    "wechat/messages_and_events.json": "test_webhook_wechat",
    "whatsapp/README.md": "readme",
    "whatsapp/pywa_updates_message.json": "test_webhook_whatsapp",
    "whatsapp/pywa_updates_message_status.json": "test_webhook_whatsapp",
    "x_twitter/README.md": "readme",
    "x_twitter/aaa_direct_message_events.json": "test_webhook_x",
    "x_twitter/aaa_direct_message_indicate_typing_events.json": "test_webhook_x",
    "x_twitter/aaa_tweet_create_events_templates.txt": "test_webhook_x",
    "x_twitter/aaa_tweet_delete_events.json": "test_webhook_x",
    "x_twitter/aaa_user_event_revoke.json": "test_webhook_x",
    "x_twitter/crc_vectors.json": "test_webhook_x",
    "youtube/README.md": "readme",
    "youtube/pubsubhubbub_notification.xml": "test_webhook_youtube",
}


def test_every_webhook_fixture_file_is_owned_by_a_test_module() -> None:
    # Given the fixture folder as it is today
    root = fixtures_dir() / "webhooks"
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    # Then every file is listed (a new fixture makes this fail until a test covers it)
    assert present == set(FIXTURE_OWNERS)


@pytest.mark.parametrize("owner", sorted({o for o in FIXTURE_OWNERS.values() if o.startswith("test_")}))
def test_each_owning_module_really_reads_its_fixtures(owner: str) -> None:
    from pathlib import Path

    source = (Path(__file__).parent / f"{owner}.py").read_text()
    for name, module in FIXTURE_OWNERS.items():
        if module == owner and owner != "test_webhook_registry":
            folder, file = name.split("/")
            assert file in source or f'"{folder}/' in source, f"{owner} never mentions {name}"


def test_the_instagram_docs_template_names_the_fields_the_parser_reads() -> None:
    template = (fixtures_dir() / "webhooks/meta/docs_instagram_comments_template.txt").read_text()
    for field in ('"field": "comments"', '"from"', '"username"', '"media"', '"text"', "parent_id"):
        assert field in template


def test_the_registry_serves_exactly_the_six_url_segments() -> None:
    assert sorted(WEBHOOKS) == ["linkedin", "meta", "tiktok", "wechat", "x", "youtube"]
    assert len(WEBHOOKS) == 6


@pytest.mark.parametrize("segment", ["meta", "x", "wechat", "tiktok", "linkedin", "youtube"])
def test_every_registered_spec_implements_the_protocol_under_its_segment(segment: str) -> None:
    spec = WEBHOOKS[segment]
    assert isinstance(spec, WebhookSpec)
    assert spec.platform == segment
    assert WEBHOOKS[segment] is spec  # loaded once


def test_an_unknown_platform_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        WEBHOOKS["myspace"]


def test_looking_up_meta_does_not_import_the_other_platforms() -> None:
    # Given a fresh interpreter (cold start)
    code = (
        "import sys; from chorus.platforms.webhooks import WEBHOOKS; WEBHOOKS['meta'];"
        "print(sorted(m for m in sys.modules if m.startswith('chorus.platforms.')"
        " and m.endswith(('webhook', 'crypto'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # Then only the Meta module was imported
    assert out.strip() == "['chorus.platforms.meta.webhook']"


def test_headers_are_found_whatever_their_case() -> None:
    request = WebhookRequest("POST", "meta", {}, {"X-Hub-Signature-256": "sha256=1"}, b"")
    assert request.header("x-hub-signature-256") == "sha256=1"
    assert request.header("missing") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1449135003, datetime(2015, 12, 3, 9, 30, 3, tzinfo=UTC)),
        ("1516403560557", datetime(2018, 1, 19, 23, 12, 40, 557000, tzinfo=UTC)),
    ],
)
def test_epoch_seconds_and_milliseconds_become_aware_utc(value: object, expected: datetime) -> None:
    assert from_epoch(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-08-07T10:33:16+0000", datetime(2024, 8, 7, 10, 33, 16, tzinfo=UTC)),
        ("2015-04-01T19:05:24.552394234+00:00", datetime(2015, 4, 1, 19, 5, 24, 552394, tzinfo=UTC)),
        ("2026-08-01T13:51:39.1Z", datetime(2026, 8, 1, 13, 51, 39, 100000, tzinfo=UTC)),
        ("2024-01-01T02:00:00+02:00", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00", datetime(2024, 1, 1, tzinfo=UTC)),
    ],
)
def test_iso_timestamps_in_every_platform_spelling_become_aware_utc(value: str, expected: datetime) -> None:
    parsed = from_iso(value)
    assert parsed == expected
    assert parsed.utcoffset() is not None


@pytest.mark.parametrize("value", [None, "yesterday", [1]])
def test_unreadable_epoch_timestamps_are_malformed(value: object) -> None:
    with pytest.raises(MalformedWebhook, match="timestamp"):
        from_epoch(value)


@pytest.mark.parametrize("value", [None, "", "yesterday", 1700000000])
def test_unreadable_iso_timestamps_are_malformed(value: object) -> None:
    with pytest.raises(MalformedWebhook, match="timestamp"):
        from_iso(value)

"""The webhook receiver's closed doors: body limits (413), unsigned YouTube pushes, WeChat replays and
stale timestamps, a queue that fails (503, never 500), and the DynamoDB replay guard."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chorus.inbox.queue import IngestMessage, InMemoryIngestQueue
from chorus.inbox.receiver import receive
from chorus.platforms.webhooks import MAX_BODY_BYTES, QUEUE_BODY_BYTES, WEBHOOKS, WebhookSecrets, body_limit
from chorus.platforms.wechat.crypto import sha1_signature
from tests.support import fixture_bytes, main_table_in_moto
from tests.unit.test_webhook_properties import MemoryReplays

WECHAT = WebhookSecrets(wechat_token="wechat-token")
TEXT = (
    b"<xml><ToUserName>gh_1</ToUserName><FromUserName>o_1</FromUserName><CreateTime>1700000000</CreateTime>"
    b"<MsgType>text</MsgType><Content>hello</Content><MsgId>42</MsgId></xml>"
)


def wechat_query(nonce: str = "n1", at: datetime | None = None) -> dict[str, str]:
    timestamp = str(int((at or datetime.now(UTC)).timestamp()))
    return {
        "signature": sha1_signature("wechat-token", timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }


class BrokenQueue:
    def send(self, message: IngestMessage) -> None:
        raise ConnectionError("SQS unreachable")


# --- 413 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", sorted(WEBHOOKS))
def test_a_body_over_the_platform_limit_is_413_naming_the_limit(platform: str) -> None:
    # Given a body one byte over the platform's cap
    limit = body_limit(platform)
    queue = InMemoryIngestQueue()
    # When it is posted
    answer = receive(
        platform, "POST", {}, {}, b"x" * (limit + 1), WebhookSecrets(), queue, replays=MemoryReplays()
    )
    # Then it is refused with 413 naming the cap (the platform stops retrying), and nothing is queued
    assert answer.status == 413
    assert str(limit) in json.loads(answer.body)["detail"]
    assert queue.sent == []
    # and a body exactly at the cap gets past the size check (here: refused as unsigned)
    at_cap = receive(platform, "POST", {}, {}, b"x" * limit, WebhookSecrets(), queue, replays=MemoryReplays())
    assert at_cap.status != 413


def test_every_limit_fits_one_queue_message() -> None:
    # the queued message is base64 of the body in a JSON envelope: the cap keeps it under SQS's 256 KiB
    biggest = IngestMessage(
        "meta", "2026-12-06T00:00:00Z", b"\xff" * QUEUE_BODY_BYTES, {"content-type": "x" * 200}
    )
    assert len(biggest.to_json().encode()) < 262_144
    assert set(MAX_BODY_BYTES) == set(WEBHOOKS)
    assert all(body_limit(p) <= QUEUE_BODY_BYTES for p in WEBHOOKS)


# --- YouTube without a hub secret ------------------------------------------------------------------


def test_an_unsigned_youtube_push_without_a_configured_secret_is_refused_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given no youtube_hub_secret and a genuine-looking Atom push
    body = fixture_bytes("webhooks/youtube/pubsubhubbub_notification.xml")
    queue = InMemoryIngestQueue()
    # When it is posted
    with caplog.at_level(logging.WARNING, logger="chorus.inbox.receiver"):
        answer = receive("youtube", "POST", {}, {}, body, WebhookSecrets(), queue, replays=MemoryReplays())
    # Then it is refused like any unsigned webhook, logged with the reason, and nothing is queued
    assert answer.status == 401
    assert queue.sent == []
    refused = [r for r in caplog.records if r.getMessage() == "webhook refused"]
    assert refused
    assert "youtube_hub_secret" in refused[0].__dict__["reason"]


# --- WeChat window and replays ---------------------------------------------------------------------


def test_a_replayed_wechat_plain_mode_request_is_refused_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    # Given a signed plain-mode message received once
    replays, queue = MemoryReplays(), InMemoryIngestQueue()
    query = wechat_query("nonce-1")
    first = receive("wechat", "POST", query, {}, TEXT, WECHAT, queue, replays=replays)
    assert (first.status, first.body) == (200, b"success")
    # When the same timestamp and nonce come again, even with another body (plain mode signs no body)
    with caplog.at_level(logging.WARNING, logger="chorus.inbox.receiver"):
        again = receive(
            "wechat", "POST", query, {}, TEXT.replace(b"hello", b"forged"), WECHAT, queue, replays=replays
        )
    # Then it is refused and logged, and only the first body was queued
    assert again.status == 401
    assert "replayed" in json.loads(again.body)["detail"]
    assert [r.getMessage() for r in caplog.records].count("webhook replayed") == 1
    assert len(queue.sent) == 1
    # while a fresh nonce is accepted
    fresh = receive("wechat", "POST", wechat_query("nonce-2"), {}, TEXT, WECHAT, queue, replays=replays)
    assert fresh.status == 200


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_a_wechat_request_outside_the_timestamp_window_is_refused(skew: timedelta) -> None:
    query = wechat_query("n", datetime.now(UTC) + skew)
    answer = receive(
        "wechat", "POST", query, {}, TEXT, WECHAT, InMemoryIngestQueue(), replays=MemoryReplays()
    )
    assert answer.status == 401


def test_a_forged_wechat_signature_does_not_use_up_the_nonce() -> None:
    # Given a forged request carrying a nonce, Then it is refused before the nonce is claimed
    replays = MemoryReplays()
    forged = {**wechat_query("n-shared"), "signature": "0" * 40}
    assert (
        receive("wechat", "POST", forged, {}, TEXT, WECHAT, InMemoryIngestQueue(), replays=replays).status
        == 401
    )
    assert replays.seen == set()
    # so the genuine request with that nonce is still accepted
    genuine = receive(
        "wechat", "POST", wechat_query("n-shared"), {}, TEXT, WECHAT, InMemoryIngestQueue(), replays=replays
    )
    assert genuine.status == 200


def test_a_queue_failure_is_503_and_the_retry_is_not_taken_for_a_replay() -> None:
    # Given the queue is down
    replays = MemoryReplays()
    query = wechat_query("n-retry")
    # When WeChat delivers, Then 503 (WeChat retries), not a 500
    assert receive("wechat", "POST", query, {}, TEXT, WECHAT, BrokenQueue(), replays=replays).status == 503
    # and its retry with the same timestamp and nonce is accepted once the queue is back
    queue = InMemoryIngestQueue()
    assert receive("wechat", "POST", query, {}, TEXT, WECHAT, queue, replays=replays).status == 200
    assert len(queue.sent) == 1


# --- the DynamoDB replay guard ---------------------------------------------------------------------


def test_the_dynamo_replay_guard_claims_once_releases_and_ignores_expired_markers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with main_table_in_moto(monkeypatch, "test-nonces"):
        from chorus.store.nonces import DynamoReplayGuard, NonceItem

        guard = DynamoReplayGuard()
        # Given a first claim, Then a second claim of the same key fails; another key or platform is free
        assert guard.claim("wechat", "1700000000:abc", 900) is True
        assert guard.claim("wechat", "1700000000:abc", 900) is False
        assert guard.claim("wechat", "1700000000:abd", 900) is True
        assert guard.claim("tiktok", "1700000000:abc", 900) is True
        # When released, Then it can be claimed again
        guard.release("wechat", "1700000000:abc")
        assert guard.claim("wechat", "1700000000:abc", 900) is True
        # and a marker past its TTL that DynamoDB has not deleted yet does not count as seen
        stale = NonceItem.get("NONCE#wechat#1700000000:abd", "nonce")
        stale.expires_at = datetime.now(UTC) - timedelta(seconds=5)
        stale.save()
        assert guard.claim("wechat", "1700000000:abd", 900) is True


# --- the Lambda handler ----------------------------------------------------------------------------


def handler_event(payload: bytes, platform: str = "wechat", **extra: Any) -> dict[str, Any]:
    return {
        "httpMethod": "POST",
        "pathParameters": {"platform": platform},
        "queryStringParameters": None,
        "headers": None,
        "body": base64.b64encode(payload).decode(),
        "isBase64Encoded": True,
        **extra,
    }


def test_the_handler_answers_oversized_and_undecodable_bodies_with_4xx() -> None:
    from functions.webhooks.app import handler

    oversized = handler(handler_event(b"x" * (body_limit("wechat") + 1)), None)  # type: ignore[arg-type]
    assert oversized["statusCode"] == 413
    broken = handler(handler_event(b"", body="not base64!"), None)  # type: ignore[arg-type]
    assert broken["statusCode"] == 400
    assert "base64" in json.loads(broken["body"])["detail"]


def test_a_5xx_answer_counts_a_webhook_server_error_for_the_alarm(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a webhook the receiver cannot queue (503: the platform retries), and one it refuses (401)
    import functions.webhooks.app as webhooks
    from chorus.inbox.receiver import problem

    answers = iter([problem(503, "Service unavailable", "retry later"), problem(401, "Unauthorized", "x")])
    monkeypatch.setattr(webhooks, "receive", lambda **_: next(answers))
    # When the handler answers both
    assert webhooks.handler(handler_event(b"{}"), None)["statusCode"] == 503  # type: ignore[arg-type]
    assert webhooks.handler(handler_event(b"{}"), None)["statusCode"] == 401  # type: ignore[arg-type]
    # Then one WebhookServerError metric (EMF, what WebhookServerErrorsAlarm reads) was written, for the 503
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    counted = [m for m in emitted if "WebhookServerError" in m]
    assert len(counted) == 1
    assert counted[0]["WebhookServerError"] == [1.0]
    assert counted[0]["service"] == "chorus"  # the alarm's dimension
    assert counted[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Chorus"

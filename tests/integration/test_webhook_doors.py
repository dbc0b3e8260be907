"""Webhook doors on the embedded runtime: a body over the platform's cap is a 413 problem (not a 502
the platform retries for ever), a WeChat replay is refused through the DynamoDB replay markers, and an
unsigned YouTube push is refused when no hub secret is configured."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from chorus.platforms.webhooks import body_limit
from chorus.platforms.wechat.crypto import sha1_signature
from tests.integration.harness import Chorus
from tests.support import fixture_bytes

TOKEN = "wechat-door-token"
TEXT = (
    b"<xml><ToUserName>gh_door</ToUserName><FromUserName>o_1</FromUserName><CreateTime>1700000000</CreateTime>"
    b"<MsgType>text</MsgType><Content>hello</Content><MsgId>4242</MsgId></xml>"
)


@pytest.fixture(scope="module")
def chorus() -> Iterator[Chorus]:
    c = Chorus(parameters={"WeChatToken": TOKEN, "MetaAppSecret": "door-meta-secret"})
    yield c
    c.close()


def post(chorus: Chorus, platform: str, body: bytes, **params: str) -> tuple[int, dict[str, object]]:
    answer = chorus.http.post(
        f"{chorus.rt.api_url}/webhooks/{platform}", data=body, params=params, timeout=30
    )
    return answer.status_code, answer.json() if answer.content.startswith(b"{") else {}


def test_a_body_over_the_cap_is_413_with_a_problem_naming_the_limit(chorus: Chorus) -> None:
    status, problem = post(chorus, "meta", b"{" + b" " * body_limit("meta") + b"}")
    assert status == 413
    assert str(body_limit("meta")) in str(problem["detail"])


def test_a_wechat_replay_is_refused_through_the_stored_markers(chorus: Chorus) -> None:
    timestamp = str(int(datetime.now(UTC).timestamp()))
    query = {
        "signature": sha1_signature(TOKEN, timestamp, "door-nonce"),
        "timestamp": timestamp,
        "nonce": "door-nonce",
    }
    first, _ = post(chorus, "wechat", TEXT, **query)
    again, problem = post(chorus, "wechat", TEXT.replace(b"hello", b"forged"), **query)
    assert (first, again) == (200, 401)
    assert "replayed" in str(problem["detail"])


def test_an_unsigned_youtube_push_without_a_hub_secret_is_refused(chorus: Chorus) -> None:
    status, _ = post(chorus, "youtube", fixture_bytes("webhooks/youtube/pubsubhubbub_notification.xml"))
    assert status == 401

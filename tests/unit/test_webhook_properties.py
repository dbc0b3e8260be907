"""Properties of every inbound parser under arbitrary input (hypothesis).

For every platform the webhook registry serves (Meta: Facebook, Instagram, Messenger, WhatsApp and
Threads; X; WeChat in plain and safe mode; TikTok; LinkedIn; YouTube WebSub) and every polled
notification parser the ingest worker reads (Mastodon, Bluesky, sandbox):

* arbitrary bytes, arbitrary JSON-shaped values and mutated documented payloads never raise
  anything but the domain's "bad webhook" errors (:class:`MalformedWebhook`, or
  :class:`SignatureError` for a WeChat ciphertext that is not this app's);
* a parse either returns complete normalised events or raises: there is no half result;
* the receiver answers a signed arbitrary body with 2xx/4xx (never an exception, i.e. never a 5xx),
  and queues it only when it parsed to events;
* the ingest worker's path over arbitrary queued bodies never reports a body failed (a body that
  does not parse is dropped as malformed, not redelivered until the DLQ).

Examples are bounded in ``make test`` (profile ``default``, 100 a test); ``HYPOTHESIS_PROFILE=fuzz``
(``make fuzz``) runs 5,000 a test. Both profiles are registered in ``tests/conftest.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.inbox import ingest
from chorus.inbox.normalized import (
    Deletion,
    DeliveryFailed,
    InboundMessage,
    MessageKind,
    ParseResult,
    Revocation,
)
from chorus.inbox.queue import IngestMessage, InMemoryIngestQueue
from chorus.inbox.receiver import receive
from chorus.listening.sentiment import default_analyzer
from chorus.platforms.webhooks import WEBHOOKS, MalformedWebhook, SignatureError, WebhookSecrets
from chorus.platforms.wechat.crypto import WeChatCrypto, sha1_signature
from chorus.platforms.x.webhook import sign as x_sign
from tests.support import fixtures_dir

WECHAT_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters: a valid EncodingAESKey
SECRETS = WebhookSecrets(
    meta_app_secret="meta-secret",
    meta_verify_token="verify",
    threads_app_secret="threads-secret",
    x_consumer_secret="x-secret",
    wechat_token="wechat-token",
    wechat_encoding_aes_key=WECHAT_KEY,
    wechat_app_id="wx-app",
    tiktok_client_secret="tiktok-secret",
    linkedin_client_secret="linkedin-secret",
    youtube_hub_secret="hub-secret",
)
PLAIN_WECHAT = WebhookSecrets(wechat_token="wechat-token")
CRYPTO = WeChatCrypto("wechat-token", WECHAT_KEY, "wx-app")
DOMAIN_ERRORS = (MalformedWebhook, SignatureError)
POLLED = ("mastodon", "bluesky", "sandbox")


# ------------------------------------------------------------------------------------- material
def _json_documents(folder: str) -> Iterator[Any]:
    for path in sorted((fixtures_dir() / "webhooks" / folder).glob("*.json")):
        yield json.loads(path.read_text("utf-8"))


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _seeds(folders: tuple[str, ...], wanted: Callable[[Any], bool]) -> list[Any]:
    return [v for folder in folders for doc in _json_documents(folder) for v in _walk(doc) if wanted(v)]


def _is(*keys: str) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, dict) and any(k in v for k in keys)


LINKEDIN_SEED = {
    "type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS",
    "notifications": [
        {
            "notificationId": 1234,
            "organizationalEntity": "urn:li:organization:5",
            "action": "COMMENT",
            "sourcePost": "urn:li:share:1",
            "generatedActivity": "urn:li:comment:(urn:li:activity:1,2)",
            "decoratedGeneratedActivity": {"comment": {"owner": "urn:li:person:a", "text": "hi"}},
            "lastModifiedAt": 1619025487000,
        }
    ],
}

JSON_SEEDS: dict[str, list[Any]] = {
    "meta": _seeds(("meta", "threads", "whatsapp"), _is("object", "values")),
    "x": _seeds(("x_twitter",), _is("for_user_id", "user_event")),
    "tiktok": _seeds(("tiktok",), _is("event")),
    "linkedin": [LINKEDIN_SEED],
}


def _bluesky_view(record: dict[str, Any]) -> dict[str, Any]:
    """A listNotifications view around a documented post record (the fields the lexicon requires)."""
    return {
        "uri": "at://did:plc:replier/app.bsky.feed.post/3k43tv4rft2001",
        "cid": "bafyreihdw3r6o7rcyokgpnw5ynhnvuqhwhifbibzv3xo7y3wdjd6vkxe7m",
        "author": {"did": "did:plc:replier", "handle": "replier.bsky.social", "displayName": "Rae"},
        "reason": "reply",
        "record": record,
        "isRead": False,
        "indexedAt": "2023-08-07T05:49:41.000Z",
        "labels": [],
    }


POLL_SEEDS: dict[str, list[Any]] = {
    "mastodon": [[v] for v in _seeds(("mastodon",), _is("status"))],
    "bluesky": [[_bluesky_view(record)] for record in _seeds(("bluesky",), _is("$type"))],
    "sandbox": [
        [{"type": "mention", "id": "n1", "text": "hi", "author": "u1", "created_at": "2026-01-01T00:00:00Z"}]
    ],
}
WECHAT_XML: list[str] = [m["xml"] for m in _seeds(("wechat",), _is("xml")) if isinstance(m["xml"], str)]
YOUTUBE_XML = (fixtures_dir() / "webhooks" / "youtube" / "pubsubhubbub_notification.xml").read_bytes()


def test_every_registered_webhook_platform_has_seeds_here() -> None:
    # Given the registry, When a platform is added to it, Then this file must learn its payloads
    covered = set(JSON_SEEDS) | {"wechat", "youtube"}
    assert set(WEBHOOKS) == covered
    assert all(JSON_SEEDS[p] for p in JSON_SEEDS), {p: len(s) for p, s in JSON_SEEDS.items()}
    assert WECHAT_XML
    assert all(POLL_SEEDS[p] for p in POLL_SEEDS)


# ------------------------------------------------------------------------------------- strategies
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
scalar_or_extreme = json_scalars | st.sampled_from(
    [10**30, -(10**30), 1e308, float("nan"), float("inf"), "", "0", "-1", "9" * 40, "x", [], {}, None, True]
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutated(value: Any, path: tuple[Any, ...], replacement: Any, delete: bool) -> Any:
    if not path:
        return replacement
    copy = json.loads(json.dumps(value))
    node = copy
    for step in path[:-1]:
        node = node[step]
    if delete and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = replacement
    return copy


@st.composite
def mutations(draw: st.DrawFn, seeds: list[Any]) -> Any:
    """A documented payload with one to three of its values replaced (by any JSON) or deleted."""
    doc = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        doc = _mutated(doc, path, draw(scalar_or_extreme | json_values), draw(st.booleans()))
    return doc


def _dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8")


# ------------------------------------------------------------------------------------- completeness
def assert_complete(result: ParseResult) -> None:
    """Every event is a whole normalised item: the fields the inbox keys and threads by are present."""
    assert isinstance(result, ParseResult)
    assert all(isinstance(reason, str) for reason in result.ignored)
    for event in result.events:
        assert isinstance(event, InboundMessage | Deletion | Revocation | DeliveryFailed)
        assert isinstance(event.platform, str)
        assert event.platform
        assert isinstance(event.account_ref, str)
        if isinstance(event, InboundMessage):
            assert event.platform_message_id
            assert isinstance(event.platform_message_id, str)
            assert isinstance(event.kind, MessageKind)
            assert event.conversation_ref
            assert isinstance(event.conversation_ref, str)
            assert isinstance(event.text, str)
            assert isinstance(event.author_id, str)
            assert isinstance(event.created_at, datetime)
            assert event.created_at.tzinfo is not None
            event.created_at.astimezone(UTC).isoformat()  # storable
            assert all(isinstance(m.url, str) and isinstance(m.type, str) for m in event.media)
            for optional in (event.author_name, event.author_handle, event.parent_ref, event.post_ref):
                assert optional is None or isinstance(optional, str)
        elif isinstance(event, Deletion | DeliveryFailed):
            assert event.platform_message_id
            assert isinstance(event.platform_message_id, str)
        else:
            assert isinstance(event.reason, str)


def parse_or_refuse(platform: str, body: bytes, secrets: WebhookSecrets = SECRETS) -> ParseResult | None:
    """The parse, or ``None`` when it refused the body with a domain error; anything else escapes."""
    try:
        result = WEBHOOKS[platform].parse(body, {}, secrets)
    except DOMAIN_ERRORS:
        return None
    assert_complete(result)
    return result


def poll_or_refuse(platform: str, body: bytes) -> ParseResult | None:
    message = IngestMessage(platform=platform, received_at="2026-12-06T00:00:00Z", body=body, source="poll",
                            account_ref="acct-1", workspace_id="ws-1")  # fmt: skip
    try:
        result = ingest.parse(message, SECRETS)
    except DOMAIN_ERRORS:
        return None
    assert_complete(result)
    return result


# ------------------------------------------------------------------------------------- parsers
@pytest.mark.parametrize("platform", sorted(WEBHOOKS))
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes_are_parsed_or_refused_never_crash(platform: str, body: bytes) -> None:
    # Given any bytes, When a platform's parser reads them, Then a whole result or a domain refusal
    parse_or_refuse(platform, body)


@pytest.mark.parametrize("platform", sorted(WEBHOOKS))
@given(value=json_values)
def test_arbitrary_json_values_are_parsed_or_refused_never_crash(platform: str, value: Any) -> None:
    parse_or_refuse(platform, _dumps(value))


@pytest.mark.parametrize("platform", sorted(JSON_SEEDS))
@given(data=st.data())
def test_mutated_documented_payloads_are_parsed_or_refused_never_crash(
    platform: str, data: st.DataObject
) -> None:
    # Given a documented payload with values replaced by anything (numbers out of range, wrong types)
    body = _dumps(data.draw(mutations(JSON_SEEDS[platform])))
    # Then the parser returns complete events or refuses it
    parse_or_refuse(platform, body)


def test_the_unmutated_seeds_parse_to_events() -> None:
    # the mutation tests start from payloads that do parse (else they would test refusals only)
    for platform, seeds in JSON_SEEDS.items():
        parsed = [parse_or_refuse(platform, _dumps(seed)) for seed in seeds]
        assert any(p is not None and p.events for p in parsed), platform


_XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@st.composite
def wechat_messages(draw: st.DrawFn) -> str:
    """A documented WeChat message with element texts replaced, elements dropped or added."""
    import re

    xml = draw(st.sampled_from(WECHAT_XML))
    tags = re.findall(r"<(\w+)>", xml)
    for _ in range(draw(st.integers(1, 3))):
        tag = draw(st.sampled_from(tags))
        choice = draw(st.integers(0, 2))
        pattern = re.compile(rf"<{tag}>.*?</{tag}>", re.S)
        if choice == 0 and tag != "xml":
            xml = pattern.sub("", xml, count=1)
        elif choice == 1 and tag != "xml":
            text = draw(_XML_TEXT).replace("]]>", "")
            xml = pattern.sub(lambda _m, t=tag, v=text: f"<{t}><![CDATA[{v}]]></{t}>", xml, count=1)
        else:
            number = draw(scalar_or_extreme.map(str))
            xml = xml.replace("</xml>", f"<CreateTime>{number.replace('<', '')}</CreateTime></xml>")
    return xml


@given(xml=wechat_messages())
def test_mutated_wechat_plain_messages_are_parsed_or_refused(xml: str) -> None:
    parse_or_refuse("wechat", xml.encode("utf-8"), PLAIN_WECHAT)


@given(xml=wechat_messages() | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_wechat_safe_mode_envelopes_of_anything_are_parsed_or_refused(xml: str) -> None:
    # Given any inner plaintext, encrypted for this app and wrapped in the safe-mode envelope
    envelope = f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{CRYPTO.encrypt(xml.encode('utf-8'))}]]></Encrypt></xml>"
    parse_or_refuse("wechat", envelope.encode("utf-8"))


@given(encrypt=st.text(max_size=80) | st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()))
def test_wechat_ciphertexts_that_are_not_ours_are_refused(encrypt: str) -> None:
    envelope = f"<xml><Encrypt><![CDATA[{encrypt.replace(']]>', '')}]]></Encrypt></xml>"
    parse_or_refuse("wechat", envelope.encode("utf-8", "surrogatepass"))


@st.composite
def youtube_feeds(draw: st.DrawFn) -> bytes:
    text = YOUTUBE_XML.decode("utf-8")
    import re

    values = re.findall(r">([^<>]+)<", text)
    for _ in range(draw(st.integers(1, 3))):
        old = draw(st.sampled_from(values))
        new = draw(_XML_TEXT | scalar_or_extreme.map(str)).replace("<", "").replace("&", "")
        text = text.replace(old, new, 1)
    return text.encode("utf-8")


@given(body=youtube_feeds())
def test_mutated_youtube_feeds_are_parsed_or_refused(body: bytes) -> None:
    parse_or_refuse("youtube", body)


@pytest.mark.parametrize("platform", POLLED)
@given(data=st.data())
def test_polled_pages_of_anything_are_parsed_or_refused(platform: str, data: st.DataObject) -> None:
    seeds = POLL_SEEDS[platform]
    page = data.draw(mutations(seeds) | json_values | st.lists(json_values, max_size=3))
    poll_or_refuse(platform, _dumps(page))


# ------------------------------------------------------------------------------------- receiver
class MemoryReplays:
    """The replay guard's contract in memory (the DynamoDB one is tested in test_webhook_receiver)."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def claim(self, platform: str, key: str, ttl_s: int) -> bool:
        if (platform, key) in self.seen:
            return False
        self.seen.add((platform, key))
        return True

    def release(self, platform: str, key: str) -> None:
        self.seen.discard((platform, key))


@given(data=st.data())
def test_the_receiver_answers_a_signed_arbitrary_body_with_2xx_or_4xx_and_queues_only_parsed_events(
    data: st.DataObject,
) -> None:
    # Given an authentic (X-signed) body that is anything: bytes, JSON, a mutated payload
    body = data.draw(
        st.binary(max_size=200) | json_values.map(_dumps) | mutations(JSON_SEEDS["x"]).map(_dumps)
    )
    queue = InMemoryIngestQueue()
    # When the receiver takes it
    answer = receive("x", "POST", {}, {"X-Twitter-Webhooks-Signature": x_sign("x-secret", body)}, body,
                     SECRETS, queue, replays=MemoryReplays())  # fmt: skip
    # Then it answers 200 or 400, and queues only a body that parsed to events
    assert answer.status in (200, 400), answer
    parsed = parse_or_refuse("x", body)
    assert len(queue.sent) == (1 if parsed is not None and parsed.events else 0)
    if answer.status == 400:
        assert json.loads(answer.body)["detail"]


@given(body=st.binary(max_size=100), signature=st.text(max_size=50))
def test_a_forged_signature_is_refused_with_401_never_500(body: bytes, signature: str) -> None:
    for platform in sorted(WEBHOOKS):
        headers = {"X-Hub-Signature-256": signature, "X-Twitter-Webhooks-Signature": signature,
                   "TikTok-Signature": signature, "X-LI-Signature": signature, "X-Hub-Signature": signature}  # fmt: skip
        query = {"signature": signature, "timestamp": "1", "nonce": "n"}
        answer = receive(
            platform, "POST", query, headers, body, SECRETS, InMemoryIngestQueue(), replays=MemoryReplays()
        )
        assert answer.status in (400, 401), (platform, answer)


@given(
    body=wechat_messages().map(str.encode) | st.binary(max_size=200),
    nonce=st.text("abc123", min_size=1, max_size=8),
)
def test_wechat_plain_mode_signed_now_answers_2xx_or_4xx_and_a_replay_401(body: bytes, nonce: str) -> None:
    # Given a plain-mode POST signed for now with any body
    timestamp = str(int(datetime.now(UTC).timestamp()))
    query = {
        "signature": sha1_signature("wechat-token", timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    replays, queue = MemoryReplays(), InMemoryIngestQueue()
    # When it is received twice
    first = receive("wechat", "POST", query, {}, body, PLAIN_WECHAT, queue, replays=replays)
    second = receive("wechat", "POST", query, {}, body, PLAIN_WECHAT, queue, replays=replays)
    # Then the first is answered 200 or 400, and the second, when the first was accepted, is a replay
    assert first.status in (200, 400), first
    if first.status == 200:
        assert second.status == 401
        assert b"replayed" in second.body
    assert len(queue.sent) <= 1


# ------------------------------------------------------------------------------------- ingest worker
def documented_bodies(platform: str) -> st.SearchStrategy[bytes]:
    """Mutations of a platform's documented bodies (WeChat: plain messages and safe-mode envelopes
    whose ciphertext is anything)."""
    if platform in JSON_SEEDS:
        return mutations(JSON_SEEDS[platform]).map(_dumps)
    if platform == "youtube":
        return youtube_feeds()
    garbage = st.binary(min_size=16, max_size=64).map(lambda b: base64.b64encode(b).decode())
    envelopes = garbage.map(lambda e: f"<xml><Encrypt><![CDATA[{e}]]></Encrypt></xml>".encode())
    return wechat_messages().map(str.encode) | envelopes


@given(data=st.data())
def test_the_ingest_worker_drops_unparseable_bodies_and_never_fails_them(data: st.DataObject) -> None:
    # Given a queued batch of arbitrary bodies for webhook platforms (no account is connected)
    platform = data.draw(st.sampled_from(sorted(WEBHOOKS)))
    body = data.draw(st.binary(max_size=120) | documented_bodies(platform))
    message = IngestMessage(platform=platform, received_at="2026-12-06T00:00:00Z", body=body)
    deps = ingest.IngestDeps(
        analyzer=default_analyzer(),
        secrets=SECRETS,
        accounts_for=lambda _p, _ref: [],
        keep_aside=lambda _event, _at: True,  # no AWS here: what is kept aside is tested in tests/faults
    )
    # When the worker ingests it
    report = ingest.ingest_batch([message], deps)
    # Then nothing is redelivered: it was either malformed (dropped) or parsed (here: unrouted/ignored)
    assert report.failed == []
    assert report.stored == 0
    parsed = parse_or_refuse(platform, body)
    assert report.malformed == (1 if parsed is None else 0)


def test_fixtures_dir_is_the_shared_one() -> None:
    assert Path(fixtures_dir(), "webhooks").is_dir()

"""No secret leaves its box (issue 14): the flows that handle tokens, run with recognisable secrets, and
every place a secret could end up scanned for them.

One embedded runtime plays, in order: connecting a sandbox account with a token; publishing (a success,
and a failure whose platform error echoes the request URL with ``?access_token=``); collecting metrics;
an inbox comment polled and replied to; an X OAuth connection (tokens in the token endpoint's answer,
the client secret in the request); a Facebook OAuth connection that fails with a Graph error echoing
``/me/accounts?access_token=`` (Graph reads carry the token and the app secret in the query string).

Every token and app secret is recognisable (``NEEDLE`` in each, except the sandbox token, which by the
sandbox's convention is ``tok-<handle>``). Then each sink is scanned for every one of them:

* every log record, taken *before* the redacting log filter (a handler first in line on the ``chorus``
  logger and on the root logger): what the code logs, not what the filter saves;
* every item of every DynamoDB table (tokens are stored KMS-encrypted: never in clear);
* every domain event put on the bus (a catch-all rule to an SQS queue);
* every alert sent to the alerts topic (an SQS subscription);
* every answer of the HTTP API.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.integration.harness import Chorus, eventually
from tests.support import LoopbackServer, json_handler

NEEDLE = "SECRET-c0ffee"
X_ACCESS = f"tok-{NEEDLE}-x-access"
X_REFRESH = f"tok-{NEEDLE}-x-refresh"
X_CLIENT_SECRET = f"x-{NEEDLE}-client-secret"
META_USER_TOKEN = f"tok-{NEEDLE}-meta-user"
META_APP_SECRET = f"meta-{NEEDLE}-app-secret"
X_USER_ID = "2244994945"
MASTODON_CLIENT_SECRET = f"mast-{NEEDLE}-client-secret"
MASTODON_ACCESS = f"tok-{NEEDLE}-mastodon"
BLUESKY_PASSWORD = f"app-{NEEDLE}-password"
BLUESKY_REFRESH = f"tok-{NEEDLE}-bluesky-refresh"
BLUESKY_ACCESS = f"eyJhbGciOiJFUzI1NksifQ.eyJleHAiOjQxMDI0NDQ4MDB9.{NEEDLE}"  # a JWT: exp 2100, sig = needle
BLUESKY_DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"


class FakeOAuth:
    """X's token and users/me endpoints; Meta's token endpoint and a ``/me/accounts`` that refuses the
    token with an error echoing the request URL, token included (as Graph errors sometimes do); a
    Mastodon instance's app registration, token and verify_credentials endpoints; a Bluesky PDS's
    createSession."""

    def __init__(self) -> None:
        class Handler(json_handler()):
            def _params(self) -> tuple[str, dict[str, str]]:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                merged = {**parse_qs(parts.query), **parse_qs(raw)}
                return parts.path, {k: v[0] for k, v in merged.items()}

            def do_POST(self) -> None:
                if self.path == "/xrpc/com.atproto.server.createSession":
                    length = int(self.headers.get("Content-Length") or 0)
                    login = json.loads(self.rfile.read(length) or b"{}")
                    if login.get("password") != BLUESKY_PASSWORD:
                        return self._answer(
                            401,
                            {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                        )
                    return self._answer(
                        200,
                        {
                            "did": BLUESKY_DID,
                            "handle": "brand.test",
                            "accessJwt": BLUESKY_ACCESS,
                            "refreshJwt": BLUESKY_REFRESH,
                        },
                    )
                path, params = self._params()
                if path == "/api/v1/apps":
                    return self._answer(
                        200,
                        {
                            "id": "563419",
                            "name": "Chorus",
                            "client_id": "mast-client",
                            "client_secret": MASTODON_CLIENT_SECRET,
                        },
                    )
                if path == "/oauth/token" and params.get("client_secret") == MASTODON_CLIENT_SECRET:
                    return self._answer(
                        200,
                        {
                            "access_token": MASTODON_ACCESS,
                            "token_type": "Bearer",
                            "scope": "read write",
                            "created_at": 1,
                        },
                    )
                if path == "/2/oauth2/token" and params.get("code") == "good":
                    return self._answer(
                        200,
                        {
                            "token_type": "bearer",
                            "expires_in": 7200,
                            "access_token": X_ACCESS,
                            "refresh_token": X_REFRESH,
                            "scope": "tweet.read tweet.write users.read offline.access",
                        },
                    )
                return self._answer(400, {"error": "invalid_grant", "error_description": "bad code"})

            def do_GET(self) -> None:
                path, params = self._params()
                if path == "/2/users/me" and self.headers.get("Authorization") == f"Bearer {X_ACCESS}":
                    return self._answer(200, {"data": {"id": X_USER_ID, "name": "X Dev", "username": "dev"}})
                if path == "/api/v1/accounts/verify_credentials":
                    if self.headers.get("Authorization") != f"Bearer {MASTODON_ACCESS}":
                        return self._answer(401, {"error": "The access token is invalid"})
                    return self._answer(
                        200, {"id": "109", "username": "brand", "acct": "brand", "display_name": "Brand"}
                    )
                if path == "/oauth/access_token":
                    return self._answer(
                        200, {"access_token": META_USER_TOKEN, "token_type": "bearer", "expires_in": 5183944}
                    )
                if path == "/me/accounts":
                    echoed = f"https://graph.facebook.com/v19.0/me/accounts?access_token={params.get('access_token')}"
                    return self._answer(
                        400,
                        {
                            "error": {
                                "message": f"Invalid OAuth access token for {echoed}",
                                "type": "OAuthException",
                                "code": 100,
                                "fbtrace_id": "Ab1",
                            }
                        },
                    )
                return self._answer(404, {"error": "not_found"})

        self.server = LoopbackServer(Handler)
        self.url = self.server.url


class RawRecords(logging.Handler):
    """Every record as the code logged it: message, arguments, extra keys and traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = [f"{record.name} {record.levelname} {record.getMessage()}", repr(record.__dict__)]
        if record.exc_info:
            text.append("".join(traceback.format_exception(*record.exc_info)))
        self.lines.append("\n".join(text))


@dataclass
class Scan:
    logs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    flows: dict[str, Any] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=lambda: [NEEDLE])


def chorus_oauth_url(chorus: Chorus) -> str:
    """The fake platforms' URL (the X API URL the runtime was given)."""
    import os

    return os.environ["CHORUS_X_API_URL"]


def _queue(chorus: Chorus, name: str) -> tuple[str, str]:
    sqs = chorus.rt.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


def _drain(chorus: Chorus, url: str) -> list[str]:
    sqs, bodies = chorus.rt.client("sqs"), []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages"
    ):
        for message in batch:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def _every_item(chorus: Chorus) -> list[str]:
    dynamodb, items = chorus.rt.client("dynamodb"), []
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            items.extend(json.dumps(item, default=repr) for item in page["Items"])
    return items


@pytest.fixture(scope="module")
def scan() -> Iterator[Scan]:
    oauth = FakeOAuth()
    chorus = Chorus(
        parameters={
            "XClientId": "x-client",
            "XClientSecret": X_CLIENT_SECRET,
            "MetaAppId": "meta-app",
            "MetaAppSecret": META_APP_SECRET,
        },
        extra_env={
            "CHORUS_X_TOKEN_URL": f"{oauth.url}/2/oauth2/token",
            "CHORUS_X_API_URL": oauth.url,
            "CHORUS_FACEBOOK_GRAPH_URL": oauth.url,
        },
    )
    raw = RawRecords()
    watched = [logging.getLogger("chorus"), logging.getLogger()]
    levels = [logger.level for logger in watched]
    for logger in watched:
        logger.handlers.insert(0, raw)  # first in line: sees each record before any filter redacts it
        logger.setLevel(logging.DEBUG)  # debug lines too: a deployment may turn them on
    try:
        yield _run_flows(chorus, raw)
    finally:
        for logger, level in zip(watched, levels, strict=True):
            logger.removeHandler(raw)
            logger.setLevel(level)
        chorus.close()
        oauth.server.stop()


def _run_flows(chorus: Chorus, raw: RawRecords) -> Scan:
    from chorus.events.envelope import EVENT_SOURCES
    from chorus.inbox.poller import tracked

    result = Scan()
    refs = chorus.rt.stack.refs  # type: ignore[union-attr]
    events_url, events_arn = _queue(chorus, "secret-scan-events")
    bus = chorus.rt.client("events")
    bus.put_rule(
        Name="secret-scan",
        EventBusName=refs["EventBus"],
        EventPattern=json.dumps({"source": sorted(set(EVENT_SOURCES.values()))}),
    )
    bus.put_targets(
        Rule="secret-scan", EventBusName=refs["EventBus"], Targets=[{"Id": "scan", "Arn": events_arn}]
    )
    alerts_url, alerts_arn = _queue(chorus, "secret-scan-alerts")
    chorus.rt.client("sns").subscribe(TopicArn=refs["AlertsTopic"], Protocol="sqs", Endpoint=alerts_arn)

    send = chorus.call

    def api(method: str, path: str, key: str | None = None, **kw: Any) -> requests.Response:
        answer = send(method, path, key, **kw)
        result.answers.append(f"{method} {path} {answer.status_code} {answer.headers} {answer.text}")
        return answer

    chorus.call = api  # type: ignore[method-assign]  # every answer, the harness helpers' too
    ws, key = chorus.workspace("Secret Scan")
    handle = f"scan-{ws}"
    # Connecting an account with its token (the sandbox's convention: tok-<account> is that account's)
    result.secrets.append(f"tok-{handle}")
    account = chorus.sandbox_account(key, handle)

    def settle(post_id: str) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            target = api("GET", f"/posts/{post_id}", key).json()["targets"][0]
            return dict(target) if target["state"] in {"published", "failed"} else None

        return eventually(done, timeout=30)

    # Publishing: one success ...
    made = api("POST", "/posts", key, json={"text": "All good", "accounts": [account], "mode": "now"})
    assert made.status_code == 201, made.text
    result.flows["published"] = settle(made.json()["id"])
    # ... and one failure whose platform error echoes the request URL with its token
    echo = f"bad request: GET {chorus.sandbox.url}/api/accounts/{handle}/posts?access_token=tok-{handle}"
    chorus.fault(kind="status", account=handle, status=400, message=echo, times=1)
    made = api("POST", "/posts", key, json={"text": "Refused", "accounts": [account], "mode": "now"})
    assert made.status_code == 201, made.text
    result.flows["failed"] = settle(made.json()["id"])
    # Metrics collection for the published post and the account
    assert chorus.rt.wait_idle(timeout=30)
    chorus.tick_at("MetricsFanoutFunction", datetime.now(UTC) + timedelta(minutes=61))
    assert chorus.rt.wait_idle(timeout=30)
    result.flows["metrics_items"] = sum('"METRIC' in i or "metric" in i.lower() for i in _every_item(chorus))
    # An inbox comment, polled, and a reply sent with the token
    eventually(lambda: any(t.account_id == account for t in tracked(["sandbox"])), timeout=15)
    requests.post(
        chorus.sandbox.url + "/_control/notify",
        json={
            "account": handle,
            "type": "comment",
            "text": "Where is it?",
            "author": {"id": "fan-1"},
            "post_id": "p1",
        },
        timeout=5,
    ).raise_for_status()
    chorus.rt.tick("PollerFunction")
    chorus.rt.wait_idle()
    conversation = eventually(lambda: api("GET", "/inbox", key).json()["conversations"], timeout=15)[0]
    reply = api("POST", f"/inbox/{conversation['id']}/reply", key, json={"text": "On its way"})
    assert reply.status_code in {200, 201, 202}, reply.text

    def sent() -> dict[str, Any] | None:
        replies = api("GET", f"/inbox/{conversation['id']}", key).json()["replies"]
        return next((r for r in replies if r["state"] in {"sent", "failed"}), None)

    result.flows["reply"] = eventually(sent, timeout=30)
    # OAuth: an X connection (tokens granted), a Facebook one refused with the token echoed back
    for platform, code in (("x", "good"), ("facebook", "meta-code")):
        started = api(
            "GET", f"/accounts/connect/{platform}", key, params={"redirect_uri": "https://app.example/done"}
        )
        assert started.status_code == 200, started.text
        back = api(
            "GET", f"/oauth/callback/{platform}", key, params={"code": code, "state": started.json()["state"]}
        )
        result.flows[f"oauth_{platform}"] = back.status_code
    # Mastodon: one connection finished, one abandoned after the app registration on the instance
    for finished in (True, False):
        started = api(
            "GET",
            "/accounts/connect/mastodon",
            key,
            params={"redirect_uri": "https://app.example/done", "base_url": chorus_oauth_url(chorus)},
        )
        assert started.status_code == 200, started.text
        if finished:
            back = api(
                "GET", "/oauth/callback/mastodon", key, params={"code": "m", "state": started.json()["state"]}
            )
            result.flows["oauth_mastodon"] = back.status_code
    # Bluesky: an app password that works, and one the PDS refuses
    for password in (BLUESKY_PASSWORD, f"wrong-{NEEDLE}"):
        connected = api(
            "POST",
            "/accounts",
            key,
            json={
                "platform": "bluesky",
                "handle": "brand.test",
                "app_password": password,
                "base_url": chorus_oauth_url(chorus),
            },
        )
        result.flows.setdefault("bluesky", []).append(connected.status_code)
    api("GET", "/accounts", key)
    assert chorus.rt.wait_idle(timeout=30)
    result.logs = list(raw.lines)
    result.items = _every_item(chorus)
    result.events = _drain(chorus, events_url)
    result.alerts = _drain(chorus, alerts_url)
    return result


def _found(texts: list[str], secrets: list[str]) -> list[str]:
    return [t[:600] for t in texts if any(secret in t for secret in secrets)]


def test_secret_scan_the_flows_ran_through_every_path(scan: Scan) -> None:
    # The scan proves something only if the flows did what they claim
    assert scan.flows["published"]["state"] == "published"
    assert scan.flows["failed"]["state"] == "failed"
    assert scan.flows["reply"]["state"] == "sent"
    assert scan.flows["oauth_x"] == 200
    assert scan.flows["oauth_facebook"] == 400
    assert scan.flows["oauth_mastodon"] == 200
    assert scan.flows["bluesky"] == [201, 422]
    assert scan.logs
    assert scan.items
    assert any("PublishFailed" in e for e in scan.events)


def test_secret_scan_the_failed_target_keeps_the_platform_message_without_the_token(scan: Scan) -> None:
    error = json.dumps(scan.flows["failed"])
    assert "access_token=REDACTED" in error
    assert _found([error], scan.secrets) == []


def test_secret_scan_no_log_record_holds_a_secret(scan: Scan) -> None:
    assert _found(scan.logs, scan.secrets) == []


def test_secret_scan_no_stored_item_holds_a_secret(scan: Scan) -> None:
    assert _found(scan.items, scan.secrets) == []


def test_secret_scan_no_event_or_alert_holds_a_secret(scan: Scan) -> None:
    assert _found(scan.events, scan.secrets) == []
    assert _found(scan.alerts, scan.secrets) == []


def test_secret_scan_no_api_answer_holds_a_secret(scan: Scan) -> None:
    assert _found(scan.answers, scan.secrets) == []

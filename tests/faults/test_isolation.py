"""Tenant isolation starts at connect time: a workspace connects an account only with a token the
platform says is that account's, and an inbound message for no connected account reaches nobody.

Meta's Graph API is faked on 127.0.0.1 (``FakePlatform``) answering ``GET /me`` and ``GET /me/accounts``
as documented: a Page token's ``/me`` is the Page; a user token's ``/me`` is the user, its Pages listed by
``/me/accounts``. DynamoDB and KMS run in moto."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from chorus import cli
from chorus.accounts import ownership
from chorus.accounts import service as accounts
from chorus.accounts.tokens import TokenSet
from chorus.inbox.ingest import IngestDeps, IngestReport, ingest_batch
from chorus.inbox.queue import IngestMessage
from chorus.inbox.unrouted import unrouted, unrouted_counts
from chorus.listening.sentiment import default_analyzer
from chorus.platforms.webhooks import WebhookSecrets
from chorus.store import keys
from tests.faults.harness import FakePlatform, Request
from tests.support import fixture_bytes, main_table_in_moto

TABLE = "chorus-isolation-test"
PAGE_A = "1111"  # workspace A's Page
PAGE_B = "2222"  # workspace B's own Page
# token -> what Graph's /me answers for it (Page tokens answer the Page; user tokens the user)
ME = {
    "page-token-a": {"id": PAGE_A, "name": "Brand A"},
    "page-token-b": {"id": PAGE_B, "name": "Brand B"},
    "user-token-b": {"id": "9001", "name": "B's admin"},
}
PAGES_OF = {"user-token-b": [{"id": PAGE_B, "name": "Brand B", "access_token": "page-token-b"}]}
# The documented Messenger text message webhook: a DM to Page 12345654332, which no workspace connected
UNCONNECTED_PAGE = "12345654332"
DM = fixture_bytes("webhooks/meta/messenger_message_text.json")


def graph(platform: FakePlatform) -> None:
    def bearer(req: Request) -> str:
        return str(req.headers.get("Authorization") or "").removeprefix("Bearer ")

    def me(req: Request, _: re.Match[str]) -> Any:
        found = ME.get(bearer(req))
        if found is None:  # Graph's answer to a token it does not know (OAuthException 190)
            return 400, {
                "error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}
            }
        return found

    def pages(req: Request, _: re.Match[str]) -> Any:
        return {"data": PAGES_OF.get(bearer(req), [])}

    platform.route("GET", r"/me", me)
    platform.route("GET", r"/me/accounts", pages)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, platform: FakePlatform) -> Iterator[FakePlatform]:
    graph(platform)
    monkeypatch.setenv("CHORUS_FACEBOOK_GRAPH_URL", platform.url)
    monkeypatch.setenv("CHORUS_EMBEDDED", "true")  # Graph is faked on 127.0.0.1 over http, as locally
    with main_table_in_moto(monkeypatch, TABLE):
        yield platform


def connect(workspace_id: str, token: str, page_id: str | None) -> accounts.Account:
    claim = ownership.Claim("facebook", token, page_id)
    return ownership.connect_with_token(workspace_id, claim, TokenSet(token))


def ingest(*bodies: bytes, source: str = "webhook", workspace_id: str | None = None) -> IngestReport:
    messages = [
        IngestMessage(
            platform="meta" if source == "webhook" else "sandbox",
            received_at=keys.iso(datetime(2026, 12, 6, 12, tzinfo=UTC)),
            body=body,
            source=source,
            workspace_id=workspace_id,
            account_ref="acme" if source == "poll" else None,
        )
        for body in bodies
    ]
    return ingest_batch(messages, IngestDeps(analyzer=default_analyzer(), secrets=WebhookSecrets()))


def inbox_items() -> list[dict[str, Any]]:
    """Every conversation and message stored, in any workspace."""
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
    items = table.scan()["Items"]
    return [i for i in items if i.get("kind") in ("inbox_conversation", "inbox_message")]


def test_workspace_b_connecting_a_s_page_with_a_token_that_is_not_a_s_is_refused(aws: FakePlatform) -> None:
    # Given workspace A connected its Page with its Page token
    mine = connect("ws-a", "page-token-a", PAGE_A)
    assert (mine.platform_account_id, mine.display_name) == (PAGE_A, "Brand A")
    # When workspace B names A's Page with its own Page token, or with a user token that manages no such Page
    for token in ("page-token-b", "user-token-b"):
        with pytest.raises(ownership.NotTheOwner) as refused:
            connect("ws-b", token, PAGE_A)
        # Then it is refused (403) naming platform_account_id
        assert refused.value.status == 403
        assert refused.value.errors[0].field == "platform_account_id"
    # And a token Graph does not know is a 400 naming the token
    with pytest.raises(ownership.BadRequest) as unknown:
        connect("ws-b", "made-up-token", PAGE_A)
    assert unknown.value.errors[0].field == "access_token"
    # And A's Page is still connected to A alone: B's inbox never sees A's messages
    assert [(a.workspace_id, a.id) for a in accounts.accounts_by_platform_id("facebook", PAGE_A)] == [
        ("ws-a", mine.id)
    ]
    assert accounts.list_accounts("ws-b") == []


def test_the_account_connected_is_the_one_the_platform_names_never_the_one_typed(aws: FakePlatform) -> None:
    # Given B's admin gives a user token and names no Page, then B's own Page
    by_me = connect("ws-b", "page-token-b", None)
    by_user_token = connect("ws-b", "user-token-b", PAGE_B)
    # Then both are B's Page, as Graph names it, stored with the Page's own token (not the user's)
    assert by_me.platform_account_id == by_user_token.platform_account_id == PAGE_B
    assert by_me.id == by_user_token.id  # the second connect re-authorised the same account
    assert accounts.credentials(accounts.get_account("ws-b", by_me.id)).access_token == "page-token-b"
    # And every check went to the platform with the token in a header, never in a URL
    assert all("token" not in r.path and not r.query.get("access_token") for r in aws.requests)


def test_an_account_connected_elsewhere_is_connected_again_only_with_its_owner_s_token(
    aws: FakePlatform,
) -> None:
    # Given A's Page connected in workspace A
    connect("ws-a", "page-token-a", PAGE_A)
    # When someone holding A's own Page token connects it in workspace C (an agency both use)
    agency = connect("ws-c", "page-token-a", PAGE_A)
    # Then that proof is enough, and both workspaces hold it
    assert agency.platform_account_id == PAGE_A
    assert sorted(a.workspace_id for a in accounts.accounts_by_platform_id("facebook", PAGE_A)) == [
        "ws-a",
        "ws-c",
    ]


def test_an_inbound_message_with_no_matching_account_reaches_nobody_and_is_counted(
    aws: FakePlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two workspaces with their own Pages, neither of them the Page the DM is for
    connect("ws-a", "page-token-a", PAGE_A)
    connect("ws-b", "page-token-b", PAGE_B)
    # When the DM's webhook is ingested, and SQS delivers it a second time
    first = ingest(DM)
    again = ingest(DM)
    # Then it reaches nobody: no conversation or message in any workspace, nothing redelivered
    assert (first.unrouted, first.stored, first.failed) == (1, 0, [])
    assert (again.unrouted, again.stored) == (1, 0)
    assert inbox_items() == []
    # And it is kept aside once for operators: which platform and account, no content
    [kept] = unrouted()
    assert (kept.platform, kept.account_ref, kept.event) == ("facebook", UNCONNECTED_PAGE, "message")
    assert unrouted_counts("2026-12-06") == {"facebook": 1}
    # (operators list them with `chorus inbox unrouted`; --aws: this process's AWS, here moto)
    assert cli.main(["inbox", "unrouted", "--aws"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["platform"], listed["account_ref"], listed["platform_message_id"]) == (
        "facebook",
        UNCONNECTED_PAGE,
        "mid.1457764197618:41d102a3e1ae206a38",
    )
    stored = json.dumps(
        boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE).scan()["Items"], default=str
    )
    assert "hello, world!" not in stored


def test_a_polled_notification_for_another_workspace_s_account_is_not_delivered_to_it(
    aws: FakePlatform,
) -> None:
    # Given the sandbox account "acme" connected only in workspace A
    accounts.connect_or_reconnect("ws-a", "sandbox", "acme", TokenSet("tok-acme"))
    note = {"id": "n1", "type": "comment", "text": "hi", "author": {"id": "fan"}, "post_id": "p1",
            "created_at": "2026-12-06T11:00:00Z", "account": "acme"}  # fmt: skip
    # When workspace B's poller hands over a page naming "acme" (B has no such account)
    report = ingest(json.dumps([note]).encode(), source="poll", workspace_id="ws-b")
    # Then it goes to neither B nor, as a fallback, every workspace holding "acme"
    assert (report.unrouted, report.stored) == (1, 0)
    assert inbox_items() == []
    # And the same page polled for A lands in A only
    mine = ingest(json.dumps([note]).encode(), source="poll", workspace_id="ws-a")
    assert mine.stored == 1
    assert {i["pk"] for i in inbox_items()} == {keys.workspace_pk("ws-a")}

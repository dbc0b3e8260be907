"""Connecting a Bluesky account with its handle and app password through POST /accounts, on the embedded
runtime, against a tiny XRPC stub of a PDS on 127.0.0.1: the app password is stored only inside the
KMS-encrypted token blob (the raw DynamoDB item never holds it in plain text), never answered by the
API, and the refresher opens a new session with it when the PDS refuses the refresh JWT."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.harness import Chorus
from tests.support import LoopbackServer, json_handler

HANDLE = "brand.test"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
PASSWORD = "abcd-efgh-ijkl-mnop"
EXP = 4_102_444_800  # 2100-01-01: the session does not expire during the test


def jwt(n: int) -> str:
    """An access JWT as a PDS issues it (only its ``exp`` claim is read by Chorus), unique per ``n``."""
    payload = base64.urlsafe_b64encode(json.dumps({"exp": EXP, "n": n}).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJFUzI1NksifQ.{payload}.c2ln"


class Pds:
    """``com.atproto.server.createSession`` and ``refreshSession`` as the XRPC spec documents them."""

    def __init__(self) -> None:
        self.logins: list[dict[str, Any]] = []
        self.refreshes: list[str] = []
        self.sessions = 0
        pds = self

        class Handler(json_handler()):
            def _session(self) -> None:
                pds.sessions += 1
                self._answer(
                    200,
                    {
                        "did": DID,
                        "handle": HANDLE,
                        "accessJwt": jwt(pds.sessions),
                        "refreshJwt": f"refresh-{pds.sessions}",
                    },
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.path == "/xrpc/com.atproto.server.createSession":
                    body = json.loads(raw)
                    pds.logins.append(body)
                    if body.get("identifier") in (HANDLE, DID) and body.get("password") == PASSWORD:
                        return self._session()
                    return self._answer(
                        401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
                    )
                if self.path == "/xrpc/com.atproto.server.refreshSession":
                    pds.refreshes.append(self.headers.get("Authorization") or "")
                    return self._answer(400, {"error": "ExpiredToken", "message": "Token has expired"})
                return self._answer(404, {"error": "MethodNotImplemented", "message": self.path})

        self.loopback = LoopbackServer(Handler)
        self.url = self.loopback.url

    def stop(self) -> None:
        self.loopback.stop()


@pytest.fixture(scope="module")
def pds() -> Iterator[Pds]:
    stub = Pds()
    yield stub
    stub.stop()


def raw_account_item(chorus: Chorus, workspace_id: str, account_id: str) -> dict[str, Any]:
    """The account's item exactly as DynamoDB holds it (no model, no decryption)."""
    from chorus.store import keys

    got = chorus.rt.client("dynamodb").get_item(
        TableName=chorus.rt.stack.refs["MainTable"],  # type: ignore[union-attr]
        Key={"pk": {"S": keys.workspace_pk(workspace_id)}, "sk": {"S": keys.account_sk(account_id)}},
        ConsistentRead=True,
    )
    item: dict[str, Any] = got["Item"]
    return item


def connect(chorus: Chorus, key: str, pds: Pds, password: str = PASSWORD) -> Any:
    return chorus.call(
        "POST",
        "/accounts",
        key,
        json={
            "platform": "bluesky",
            "handle": f"@{HANDLE}",
            "app_password": password,
            "base_url": pds.url,
            "extra": {"langs": "en"},
        },
    )


def test_an_app_password_is_stored_only_encrypted_and_never_answered(chorus: Chorus, pds: Pds) -> None:
    ws, key = chorus.workspace()
    # When an admin connects a Bluesky account with its handle and app password
    answer = connect(chorus, key, pds)
    # Then the PDS was asked for a session with them and the account is connected under its DID
    assert answer.status_code == 201, answer.text
    assert pds.logins[-1] == {"identifier": HANDLE, "password": PASSWORD}
    account = answer.json()
    assert (account["platform_account_id"], account["handle"], account["base_url"]) == (
        DID,
        HANDLE,
        pds.url,
    )
    # And no answer of the API carries the password
    assert PASSWORD not in answer.text
    assert PASSWORD not in chorus.call("GET", "/accounts", key).text
    assert PASSWORD not in chorus.call("GET", f"/accounts/{account['id']}", key).text
    # And the raw DynamoDB item holds it nowhere in plain text: extra keeps only the other settings
    item = raw_account_item(chorus, ws, account["id"])
    assert PASSWORD not in json.dumps(item)
    assert json.loads(item["extra"]["S"]) == {"langs": "en"}
    assert "token_blob" in item
    # And the decrypted credentials hand it (and the session) to the adapters
    from chorus.accounts import service as accounts

    creds = accounts.credentials(accounts.get_account(ws, account["id"]))
    assert creds.extra == {"langs": "en", "app_password": PASSWORD}
    assert creds.refresh_token == f"refresh-{pds.sessions}"


def test_a_refused_refresh_jwt_opens_a_new_session_with_the_encrypted_app_password(
    chorus: Chorus, pds: Pds
) -> None:
    from chorus.accounts import service as accounts

    ws, key = chorus.workspace()
    connected = connect(chorus, key, pds)
    assert connected.status_code == 201, connected.text
    account = accounts.get_account(ws, connected.json()["id"])
    creds = accounts.credentials(account)
    logins = len(pds.logins)
    # When the PDS refuses the account's refresh JWT (it always does here)
    fresh = accounts.refreshed_credentials(account, creds)
    # Then the refresher tried the refresh JWT, then opened a new session with the decrypted password
    assert pds.refreshes[-1] == f"Bearer {creds.refresh_token}"
    assert pds.logins[logins:] == [{"identifier": HANDLE, "password": PASSWORD}]
    assert fresh is not None
    assert fresh.access_token != creds.access_token
    assert fresh.refresh_token == f"refresh-{pds.sessions}"
    # And the new session is stored, the password still only inside the encrypted blob
    stored = accounts.credentials(accounts.get_account(ws, account.id))
    assert (stored.access_token, stored.extra["app_password"]) == (fresh.access_token, PASSWORD)
    assert PASSWORD not in json.dumps(raw_account_item(chorus, ws, account.id))


def test_a_refused_app_password_is_a_validation_error_on_app_password(chorus: Chorus, pds: Pds) -> None:
    _, key = chorus.workspace()
    # When the PDS refuses the app password
    answer = connect(chorus, key, pds, password="wrong-pass-word-xxxx")
    # Then nothing is connected, the error names the field and does not echo the password
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "app_password"
    assert "wrong-pass-word-xxxx" not in answer.text
    assert chorus.call("GET", "/accounts", key).json()["accounts"] == []

"""The Bluesky token refresher: refreshSession first, a new session with the stored app password when
the refresh JWT is refused. Found by the end-to-end suite: without it the inbox poller and the metrics
collector met an expired access token and marked the account for re-authorisation.

The app password is stored KMS-encrypted with the tokens (DynamoDB and KMS in moto here): the refresher
gets it from the decrypted credentials, and an account that still holds it in plain ``extra`` keeps
working and has it moved into the encrypted tokens at the next token store."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.accounts import service as accounts
from chorus.accounts.app_password import connect_bluesky
from chorus.accounts.refreshers import refresher_for
from chorus.accounts.tokens import TokenSet
from chorus.platforms.base import AccountCredentials, AuthError
from tests.support import main_table_in_moto

PDS = "https://pds.example"  # a user-given PDS is https (http only on the embedded runtime)
EXP = 1_760_000_000
WS = "ws-bsky-refresh"
TABLE = "chorus-bsky-refresh-test"
PASSWORD = "abcd-efgh-ijkl-mnop"


def jwt(exp: int) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJFUzI1NksifQ.{payload}.c2ln"


def creds(
    refresh_token: str | None = "r1", app_password: str | None = "abcd-efgh-ijkl-mnop"
) -> AccountCredentials:
    return AccountCredentials(
        platform="bluesky",
        account_id="did:plc:brand",
        access_token="expired",
        refresh_token=refresh_token,
        handle="brand.test",
        base_url=PDS,
        extra={"app_password": app_password} if app_password else {},
    )


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def refresh(c: AccountCredentials) -> TokenSet | None:
    fn = refresher_for("bluesky", session=requests.Session())
    assert fn is not None
    return fn(c)


def test_an_expired_session_is_refreshed_on_the_accounts_pds(rsps: responses.RequestsMock) -> None:
    # Given a PDS that accepts the refresh JWT
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.refreshSession",
        json={"did": "did:plc:brand", "handle": "brand.test", "accessJwt": jwt(EXP), "refreshJwt": "r2"},
        match=[matchers.header_matcher({"Authorization": "Bearer r1"})],
    )
    # When the account's tokens are refreshed
    fresh = refresh(creds())
    # Then the new session's tokens and expiry come back
    assert fresh == TokenSet(jwt(EXP), "r2", datetime.fromtimestamp(EXP, UTC))


def test_a_refused_refresh_jwt_opens_a_new_session_with_the_app_password(
    rsps: responses.RequestsMock,
) -> None:
    # Given the PDS refuses the refresh JWT but accepts the app password
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.refreshSession",
        status=400,
        json={"error": "ExpiredToken", "message": "Token has expired"},
    )
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.createSession",
        json={"did": "did:plc:brand", "handle": "brand.test", "accessJwt": jwt(EXP), "refreshJwt": "r3"},
        match=[matchers.json_params_matcher({"identifier": "brand.test", "password": "abcd-efgh-ijkl-mnop"})],
    )
    # When refreshed, then a new session is opened
    fresh = refresh(creds())
    assert fresh is not None
    assert fresh.refresh_token == "r3"


def test_a_revoked_app_password_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    # Given both the refresh JWT and the app password are refused (the app password was revoked)
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.refreshSession",
        status=400,
        json={"error": "ExpiredToken", "message": "Token has been revoked"},
    )
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.createSession",
        status=401,
        json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
    )
    # Then the refresher says the grant is dead
    with pytest.raises(AuthError, match="Invalid identifier or password"):
        refresh(creds())


def test_without_refresh_token_or_app_password_there_is_nothing_to_refresh_with() -> None:
    assert refresh(creds(refresh_token=None, app_password=None)) is None


# ------------------------------------------------------------------ stored accounts (DynamoDB + KMS in moto)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, TABLE):
        yield


def raw_item(account: accounts.Account) -> dict[str, Any]:
    """The account's item as DynamoDB holds it, attribute by attribute."""
    import boto3

    from chorus.store import keys

    got = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=TABLE,
        Key={"pk": {"S": keys.workspace_pk(WS)}, "sk": {"S": keys.account_sk(account.id)}},
        ConsistentRead=True,
    )
    item: dict[str, Any] = got["Item"]
    return item


def session_answer(access: str, refresh: str) -> dict[str, str]:
    return {"did": "did:plc:brand", "handle": "brand.test", "accessJwt": access, "refreshJwt": refresh}


def refused_refresh_then_new_session(rsps: responses.RequestsMock, refresh_jwt: str) -> None:
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.refreshSession",
        status=400,
        json={"error": "ExpiredToken", "message": "Token has expired"},
    )
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.createSession",
        json=session_answer(jwt(EXP + 7200), refresh_jwt),
        match=[matchers.json_params_matcher({"identifier": "brand.test", "password": PASSWORD})],
    )


def test_a_connected_account_keeps_its_app_password_only_encrypted_and_the_refresher_uses_it(
    aws: None, rsps: responses.RequestsMock
) -> None:
    # Given an account connected with its handle and app password
    rsps.post(f"{PDS}/xrpc/com.atproto.server.createSession", json=session_answer(jwt(EXP), "r1"))
    account = connect_bluesky(WS, "brand.test", PASSWORD, base_url=PDS)
    # Then the stored item holds the password in no attribute, in plain text or base64
    item = raw_item(account)
    assert PASSWORD not in repr(item)
    assert base64.b64encode(PASSWORD.encode()).decode() not in repr(item)
    assert "app_password" not in account.extra
    assert "app_password" not in repr(account.public())
    # And the decrypted credentials hand it to the adapters
    creds = accounts.credentials(account)
    assert creds.extra["app_password"] == PASSWORD
    # When the PDS refuses the refresh JWT, then a new session is opened with the decrypted password
    refused_refresh_then_new_session(rsps, "r2")
    fresh = accounts.refreshed_credentials(account, creds)
    assert fresh is not None
    assert (fresh.access_token, fresh.refresh_token) == (jwt(EXP + 7200), "r2")
    # And the new tokens are stored with the password still encrypted beside them, never in plain text
    stored = accounts.credentials(accounts.get_account(WS, account.id))
    assert (stored.refresh_token, stored.extra["app_password"]) == ("r2", PASSWORD)
    assert PASSWORD not in repr(raw_item(account))


def test_a_plain_app_password_left_in_extra_still_works_and_moves_into_the_encrypted_tokens(
    aws: None, rsps: responses.RequestsMock
) -> None:
    from chorus.store import keys
    from chorus.store.models import AccountItem

    # Given an account connected before the password was encrypted: it sits in plain text in extra
    account = accounts.connect_account(
        WS, "bluesky", "did:plc:brand", TokenSet(jwt(EXP), "r1"), handle="brand.test", base_url=PDS
    )
    AccountItem(keys.workspace_pk(WS), keys.account_sk(account.id)).update(
        actions=[AccountItem.extra.set({"langs": "en", "app_password": PASSWORD})]
    )
    legacy = accounts.get_account(WS, account.id)
    assert PASSWORD in repr(raw_item(legacy))
    # When its refresh JWT is refused, then the refresher opens a new session with that password
    refused_refresh_then_new_session(rsps, "r2")
    fresh = accounts.refreshed_credentials(legacy, accounts.credentials(legacy))
    assert fresh is not None
    assert fresh.refresh_token == "r2"
    # And storing the new tokens moved the password into the encrypted set, out of extra
    item = raw_item(legacy)
    assert PASSWORD not in repr(item)
    migrated = accounts.get_account(WS, account.id)
    assert migrated.extra == {"langs": "en"}
    creds = accounts.credentials(migrated)
    assert (creds.extra["app_password"], creds.extra["langs"]) == (PASSWORD, "en")
    # And the next refusal opens a session with the password read back from the encrypted tokens
    refused_refresh_then_new_session(rsps, "r3")
    again = accounts.refreshed_credentials(migrated, creds)
    assert again is not None
    assert again.refresh_token == "r3"


def test_an_app_password_given_in_extra_on_direct_token_entry_is_stored_encrypted(aws: None) -> None:
    # Given a Bluesky account entered with tokens and its app password in extra
    account = accounts.connect_account(
        WS, "bluesky", "did:plc:brand", TokenSet(jwt(EXP), "r1"), extra={"app_password": PASSWORD}
    )
    # Then the password is in the decrypted credentials only
    assert PASSWORD not in repr(raw_item(account))
    assert account.extra == {}
    assert accounts.credentials(account).extra["app_password"] == PASSWORD


def test_a_session_the_publisher_refreshed_is_stored_keeping_the_encrypted_app_password(aws: None) -> None:
    from chorus.accounts.refreshers import session_tokens

    # Given a connected account with its app password encrypted beside the tokens
    account = accounts.connect_account(
        WS, "bluesky", "did:plc:brand", TokenSet(jwt(EXP), "r1", app_password=PASSWORD)
    )
    creds = accounts.credentials(account)

    class Session:
        access_jwt = jwt(EXP + 7200)
        refresh_jwt = "r2"

    class Adapter:
        def session_for(self, _: object) -> Session:
            return Session()

    # When the publisher's adapter opened a new session and the caller stores its tokens
    assert accounts.remember_tokens(account, creds, session_tokens(Adapter(), creds))
    # Then the new tokens are stored and the app password is still in the encrypted set
    stored = accounts.credentials(accounts.get_account(WS, account.id))
    assert (stored.access_token, stored.refresh_token) == (jwt(EXP + 7200), "r2")
    assert stored.extra["app_password"] == PASSWORD


def test_a_mastodon_client_secret_is_stored_encrypted_and_still_reaches_the_refresher(aws: None) -> None:
    # Given a Mastodon account connected with its instance app's id and secret (what OAuth stores)
    secret = "mastodon-app-secret-value"
    account = accounts.connect_account(
        WS, "mastodon", "109", TokenSet("token"), extra={"client_id": "app-1", "client_secret": secret}
    )
    # Then the secret is not in the stored item, but the adapters' credentials carry it
    assert secret not in repr(raw_item(account))
    assert account.extra == {"client_id": "app-1"}
    assert accounts.credentials(account).extra["client_secret"] == secret

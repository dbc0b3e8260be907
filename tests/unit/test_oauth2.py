"""The shared OAuth 2.0 helpers: a platform's consent URL from its settings, a refused refresh, a token
answer read, and a grant that names its account (Douyin, Kuaishou)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from chorus.platforms.base import AuthError, PermanentError, TransientError
from chorus.platforms.granted import Grant, grant_of, scopes_of
from chorus.platforms.oauth2 import (
    RFC6749_ORDER,
    Consent,
    TokenSet,
    code_challenge,
    pkce,
    refreshed,
    token_set,
)


def test_a_consent_url_keeps_the_platforms_names_separator_and_order() -> None:
    consent = Consent("https://open.example/connect/", ("a", "b"), client="client_key", separator=",",
                      order=("client_key", "response_type", "scope", "redirect_uri", "state"))  # fmt: skip
    url = consent.authorize_url("key 1", "https://app.example/cb?x=1", "st&1")
    assert url == (
        "https://open.example/connect/?client_key=key+1&response_type=code&scope=a%2Cb"
        "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&state=st%261"
    )


def test_scopes_dialog_fixed_and_extra_parameters() -> None:
    consent = Consent("https://accounts.example/auth", ("s1",), order=(*RFC6749_ORDER, "prompt"),
                      fixed={"prompt": "consent"})  # fmt: skip
    url = consent.authorize_url("id", "https://app.example/cb", "st", ["s2", "s3"], dialog_url="http://127.0.0.1:9/a",
                                extra=pkce("v" * 43))  # fmt: skip
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("127.0.0.1:9", "/a")
    assert parse_qsl(parts.query) == [
        ("response_type", "code"),
        ("client_id", "id"),
        ("redirect_uri", "https://app.example/cb"),
        ("scope", "s2 s3"),
        ("state", "st"),
        ("prompt", "consent"),
        ("code_challenge", code_challenge("v" * 43)),
        ("code_challenge_method", "S256"),
    ]


def _refused(status: int | None, error: type[PermanentError] = PermanentError) -> PermanentError:
    return error("refused", platform="p", code="bad", status=status)


@pytest.mark.parametrize("status", [400, 403, 404, None])
def test_every_refusal_means_authorise_again_when_refused_is_none(status: int | None) -> None:
    def answer() -> dict[str, str]:
        raise _refused(status)

    with pytest.raises(AuthError) as caught:
        refreshed(answer, "r1", "p", refused=None)
    assert (caught.value.code, caught.value.status) == ("bad", status)


def test_only_the_named_statuses_mean_authorise_again_by_default() -> None:
    def forbidden() -> dict[str, str]:
        raise _refused(403)

    with pytest.raises(PermanentError) as caught:
        refreshed(forbidden, "r1", "p")
    assert not isinstance(caught.value, AuthError)

    def busy() -> dict[str, str]:
        raise TransientError("busy", platform="p")

    with pytest.raises(TransientError):
        refreshed(busy, "r1", "p", refused=None)


def test_a_refresh_without_a_new_refresh_token_keeps_the_stored_one() -> None:
    assert refreshed(lambda: {"access_token": "a2"}, "r1", "p") == TokenSet("a2", "r1")


def test_a_token_answer_reads_its_expiry_as_a_number_or_digits_and_keeps_only_text() -> None:
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    hour = now + timedelta(hours=1)
    for expires_in in (3600, "3600", 3600.0):
        assert token_set({"access_token": "a", "expires_in": expires_in}, now=now).expires_at == hour
    odd = token_set(
        {"access_token": "a", "refresh_token": "", "scope": ["x"], "expires_in": "soon"}, "r0", now
    )
    assert odd == TokenSet("a", "r0", None, None)


def test_a_grant_names_its_account_scopes_and_tokens() -> None:
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    body = {
        "access_token": "a",
        "expires_in": "86400",
        "open_id": "o-1",
        "scopes": ["user_info", " ", "publish"],
    }
    grant = grant_of(body, "kuaishou", "Kuaishou", scopes_key="scopes", previous_refresh="r0", now=now)
    assert grant == Grant("o-1", TokenSet("a", "r0", now + timedelta(days=1), "user_info,publish"),
                          ("user_info", "publish"))  # fmt: skip
    assert scopes_of("user_info, video.create.bind,") == ("user_info", "video.create.bind")
    with pytest.raises(PermanentError, match="Douyin's token answer holds no access_token"):
        grant_of({"open_id": "o-1", "access_token": ""}, "douyin", "Douyin")
    with pytest.raises(PermanentError, match="names no open_id"):
        grant_of({"access_token": "a"}, "douyin", "Douyin")

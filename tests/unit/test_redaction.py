"""No secret leaves its box (issue 14): the redaction rule, and the log filter that applies it."""

from __future__ import annotations

import io
import json
import logging

import pytest
from aws_lambda_powertools import Logger

from chorus.net.redact import redact
from chorus.observability import RedactingFilter, install_redaction
from chorus.platforms.base import PermanentError

TOKEN = "tok-SECRET-c0ffee"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"https://graph.facebook.com/v19.0/me?fields=id&access_token={TOKEN}&limit=5",
            "https://graph.facebook.com/v19.0/me?fields=id&access_token=REDACTED&limit=5",
        ),
        (f"grant_type=authorization_code&code={TOKEN}&client_secret=s3cr3t", None),
        (
            f'{{"access_token": "{TOKEN}", "token_type": "bearer"}}',
            '{"access_token": "REDACTED", "token_type": "bearer"}',
        ),
        (f"Authorization: Bearer {TOKEN}", "Authorization: Bearer REDACTED"),
        (f"?appsecret_proof={TOKEN}", "?appsecret_proof=REDACTED"),
        (f"https://alice:{TOKEN}@pds.example/xrpc", "https://alice:REDACTED@pds.example/xrpc"),
        (f"next=https%3A%2F%2Fg.example%2F%3Faccess_token%3D{TOKEN}", None),
        (f'{{\\"refreshJwt\\":\\"{TOKEN}\\"}}', None),
        (f'oauth_token="{TOKEN}", oauth_signature="abc%3D"', None),
        (f"X-Amz-Signature={TOKEN}&X-Amz-Security-Token={TOKEN}", None),
    ],
)
def test_every_shape_a_token_travels_in_is_redacted(text: str, expected: str | None) -> None:
    # Given a token in a query, a form body, a JSON body, a header, user info or an encoded URL
    # When redacted
    clean = redact(text)
    # Then the token is gone and the names that say what it was stay
    assert TOKEN not in clean
    assert "s3cr3t" not in clean
    assert "REDACTED" in clean
    if expected is not None:
        assert clean == expected


@pytest.mark.parametrize(
    "text",
    [
        "error_code=190 error_subcode=463",
        "Bearer token expired",
        "the code is wrong",
        "https://cdn.example/a.png?width=300&format=jpg",
    ],
)
def test_text_without_a_credential_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_a_platform_error_never_carries_a_token_in_its_message() -> None:
    error = PermanentError(f"GET /me?access_token={TOKEN} refused", platform="facebook")
    assert TOKEN not in error.message
    assert TOKEN not in str(error)


def test_the_log_filter_redacts_message_arguments_extras_and_tracebacks() -> None:
    # Given the Powertools logger writing JSON to a buffer, with the redacting filter on its handler
    stream = io.StringIO()
    log = Logger(service="redaction-test", logger_handler=logging.StreamHandler(stream))
    install_redaction(log.registered_handler)
    # When a message, its %-arguments, an extra key and an exception each carry the token
    log.info("fetched %s", f"https://g.example/me?access_token={TOKEN}", extra={"url": f"/x?code={TOKEN}"})
    try:
        raise ValueError(f"Authorization: Bearer {TOKEN}")
    except ValueError:
        log.exception("failed", extra={"headers": {"Authorization": f"Bearer {TOKEN}"}})
    # Then no written line holds it, and each still says where a secret was
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    assert TOKEN not in stream.getvalue()
    assert lines[0]["message"] == "fetched https://g.example/me?access_token=REDACTED"
    assert lines[0]["url"] == "/x?code=REDACTED"
    assert "Bearer REDACTED" in lines[1]["exception"]
    assert lines[1]["headers"] == {"Authorization": "Bearer REDACTED"}


def test_the_chorus_logger_and_the_root_handlers_carry_the_filter() -> None:
    import chorus.observability  # noqa: F401 - installs the filter at import

    handlers = [*logging.getLogger("chorus").handlers]
    assert handlers
    assert all(any(isinstance(f, RedactingFilter) for f in h.filters) for h in handlers)


def test_odd_log_arguments_are_redacted_by_their_text_and_never_break_the_log_call() -> None:
    from collections import namedtuple

    # Given arguments of types the filter cannot rebuild (a namedtuple, an object whose str holds a token)
    Pair = namedtuple("Pair", "name url")

    class Url:
        def __str__(self) -> str:
            return f"https://g.example/me?access_token={TOKEN}"

    record = logging.LogRecord(
        "chorus", logging.INFO, __file__, 1, "got %s and %s", (Pair("a", "b"), Url()), None
    )
    # When filtered
    assert RedactingFilter().filter(record) is True
    # Then the line is written, without the token
    assert TOKEN not in record.getMessage()
    assert "Pair(name='a', url='b')" in record.getMessage()

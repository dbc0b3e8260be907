"""Secrets out of text: the one redaction rule for URLs, error messages and log lines (issue 14).

A platform token must never reach a log line, an attempt log, an error message, an event, an alert or
an API answer. Tokens travel in three shapes, and each is replaced by ``REDACTED`` wherever it appears
in a string:

* a query or form parameter whose name says it is secret (``access_token=...``, ``client_secret=...``,
  ``code=...``, ``appsecret_proof=...``, ``X-Amz-Signature=...``; see :data:`SECRET_PARAMS`), also
  percent-encoded (``access_token%3D...``) as it appears inside another URL;
* a JSON member with such a name (``"refresh_token": "..."``), as platforms echo request bodies;
* an ``Authorization`` scheme and its credentials (``Bearer ...``, ``Basic ...``, ``OAuth ...``) and
  the password of a URL's user info (``https://user:pass@host``).

The parameter name and the shape stay, so a redacted message still says what was sent. This module
imports nothing from Chorus: the platform errors, the HTTP layer and the logging filter all use it.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "REDACTED"

SECRET_PARAMS: frozenset[str] = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "client_secret",
        "code",
        "code_verifier",
        "appsecret_proof",
        "app_secret",
        "fb_exchange_token",
        "input_token",
        "password",
        "app_password",
        "passwd",
        "secret",
        "key",
        "api_key",
        "apikey",
        "oauth_token",
        "oauth_token_secret",
        "oauth_signature",
        "signature",
        "sig",
        "x-amz-signature",
        "x-amz-security-token",
        "x-amz-credential",
        "accessjwt",
        "refreshjwt",
        "hub.secret",
        "hub.verify_token",
    }
)
"""Parameter and member names whose value is a credential (compared case-insensitively)."""

_NAMES = "|".join(re.escape(name) for name in sorted(SECRET_PARAMS, key=len, reverse=True))
# name=value in a query string or form body; also name%3Dvalue inside an encoded URL. The name must not
# continue a longer word (``error_code=`` is not ``code=``).
_PARAM = re.compile(rf"(?i)(?:(?<![\w.-])|(?<=%3F)|(?<=%26))({_NAMES})(=|%3D)(\"?)([^&\s\"'<>#;,)\]}}]+)")
# "name": "value" (JSON), also with escaped quotes inside a JSON string.
_MEMBER = re.compile(rf"(?i)(\\?[\"'])({_NAMES})(\\?[\"']\s*:\s*\\?[\"'])((?:[^\"'\\]|\\(?![\"']))*)")
_AUTH = re.compile(r"(?i)\b(Bearer|Basic|OAuth|DPoP)(\s+)([A-Za-z0-9._~+/=:,\"-]{8,})")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)([^/\s@]+)(@)")


def _credentials(match: re.Match[str]) -> str:
    """``Bearer <credentials>`` -> ``Bearer REDACTED``; prose (``Bearer token expired``) stays: a
    credential has a digit or is long."""
    value = match[3]
    if any(c.isdigit() for c in value) or len(value) >= 24:
        return f"{match[1]}{match[2]}{REDACTED}"
    return match[0]


def redact(text: str) -> str:
    """``text`` with every credential value replaced by ``REDACTED`` (shape and names kept)."""
    if not text:
        return text
    text = _PARAM.sub(lambda m: f"{m[1]}{m[2]}{m[3]}{REDACTED}", text)
    text = _MEMBER.sub(lambda m: f"{m[1]}{m[2]}{m[3]}{REDACTED}", text)
    text = _AUTH.sub(_credentials, text)
    return _USERINFO.sub(lambda m: f"{m[1]}{REDACTED}{m[3]}", text)


def redact_url(url: str) -> str:
    """A URL fit to store or log: its secret query parameters and user-info password redacted."""
    return redact(url)


def redact_value(value: Any) -> Any:
    """``value`` with its strings redacted, also inside lists, tuples and dicts (log extras)."""
    if isinstance(value, str):
        return redact(value)
    if type(value) is dict:
        return {k: redact_value(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(redact_value(v) for v in value)
    return value

"""Connecting a Bluesky account the way its owner does: a handle (or DID), an app password and, for an
account not on bsky.social, the URL of its PDS.

Chorus opens the session itself (``com.atproto.server.createSession``), stores the DID as the platform
account id and the session's tokens together with the app password, KMS-encrypted (never in plain text,
never in an API answer), so the adapters can open a new session when both tokens have expired: they
find it, decrypted in memory, as ``creds.extra["app_password"]``. Connecting the same DID again in the same
workspace re-authorises that account (new tokens, active again, same id: its inbox cursor, posts and
metrics stay with it).
"""

from __future__ import annotations

import requests

from chorus.accounts import service as accounts
from chorus.accounts.tokens import TokenSet
from chorus.errors import ValidationFailed
from chorus.net.fetch import checked_url
from chorus.platforms.base import AuthError, PlatformError

BLUESKY = "bluesky"
_REFUSED = {400, 401, 403}  # createSession's answers to a wrong handle or password


def connect_bluesky(
    workspace_id: str,
    identifier: str,
    app_password: str,
    *,
    base_url: str | None = None,
    display_name: str | None = None,
    extra: dict[str, str] | None = None,
    session: requests.Session | None = None,
) -> accounts.Account:
    """Log in to the account's PDS and connect (or re-authorise) the account in ``workspace_id``.

    A handle or app password the PDS refuses is a validation error on ``app_password``; a PDS that does
    not answer raises the platform's ``TransientError``."""
    from chorus.platforms.bluesky import oauth as bluesky

    if not identifier.strip():
        raise ValidationFailed.on("handle", "the Bluesky handle or DID is required", "required")
    pds = (checked_url(base_url, "base_url") if base_url else bluesky.DEFAULT_PDS).rstrip("/")
    try:
        login = bluesky.login(identifier.strip().lstrip("@"), app_password, base_url=pds, session=session)
    except AuthError as refused:
        if refused.status in _REFUSED:
            raise ValidationFailed.on(
                "app_password", f"Bluesky refused the handle or app password: {refused.message}", "refused"
            ) from refused
        raise ValidationFailed.on(  # 404, 405, an HTML page: the URL is not a PDS
            "base_url", f"{pds} is not a Bluesky PDS (it answered {refused.status})", "pds"
        ) from refused
    except PlatformError as failed:  # nobody answers, a timeout, a 5xx
        raise ValidationFailed.on(
            "base_url", f"{pds} could not be reached: {failed.message}", "unreachable"
        ) from failed
    except (KeyError, TypeError, ValueError) as odd:  # an answer without a DID or tokens
        raise ValidationFailed.on("base_url", f"{pds} did not answer as a Bluesky PDS", "pds") from odd
    tokens = TokenSet(
        login.tokens.access_token,
        login.tokens.refresh_token,
        login.tokens.expires_at,
        app_password=app_password,
    )
    kept = {k: v for k, v in (extra or {}).items() if k != accounts.APP_PASSWORD}
    return accounts.connect_or_reconnect(
        workspace_id,
        BLUESKY,
        login.did,
        tokens,
        handle=login.handle,
        display_name=display_name,
        base_url=None if base_url is None else pds,
        extra=kept,
    )

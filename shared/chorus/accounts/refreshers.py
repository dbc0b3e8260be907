"""Token refreshers per platform: trade what an account holds for a fresh access token.

A refresher takes the account's decrypted credentials and answers a new ``TokenSet``, or None when the
account holds nothing to refresh with (no refresh token, no app registered for its instance). It raises
the platform's errors: ``AuthError`` when the grant is dead (the account must authorise again),
``TransientError`` when the token endpoint is unavailable.

- X: OAuth 2.0 refresh token (rotated by X; an answer without one keeps the stored one).
- Mastodon: refresh token where the instance issues one, with the app registered for that instance
  (``extra["client_id"]`` / ``extra["client_secret"]``).
- Facebook Pages and Instagram: Meta has no refresh tokens. A connected Page keeps the long-lived *user*
  token it was granted through as its ``refresh_token``; refreshing extends that user token
  (``fb_exchange_token``) and reads the Page's token again from ``/me/accounts``.
- Threads: no refresh tokens; the long-lived token itself is refreshed (``th_refresh_token``, 60 more
  days) with the deployment's Threads app configured. It is stored as its own refresh token (so the
  account is refreshed ahead of expiry), and the new token replaces both.
- Pinterest: ``grant_type=refresh_token`` with the app's client credentials; the continuous refresh
  token may come back renewed (stored), else the stored one is kept.
- LinkedIn: ``grant_type=refresh_token`` where LinkedIn issued a refresh token (approved Marketing
  Developer Platform apps only; self-serve apps get none, and their owners are warned before the
  60-day token expires: ``chorus.accounts.expiry``).
- Douyin: a new access token (``oauth/refresh_token``), then the refresh token renewed
  (``oauth/renew_refresh_token``, a new 30 days; a failed renewal keeps the one that just worked), with
  the app's client_key.
- Kuaishou: ``oauth2/refresh_token`` with the app id and secret; the refresh token rotates (stored).
- YouTube: Google's ``grant_type=refresh_token`` with the deployment's OAuth client (offline access
  gave the refresh token; Google sends no new one, the stored one is kept).
- TikTok: ``grant_type=refresh_token`` with the client key and secret (24-hour access tokens); the
  answer's refresh token may be new, and replaces the stored one.
- Bluesky: ``com.atproto.server.refreshSession`` with the refresh JWT on the account's PDS; when the
  PDS refuses it (expired, revoked), a new session with the account's app password (stored
  KMS-encrypted with the tokens; ``credentials()`` hands it over decrypted as ``extra["app_password"]``). The publisher's adapter also refreshes its own session;
  ``session_tokens`` reads what it holds so the caller can store it. Without this refresher the
  inbox poller and the metrics collector, which use the stored access token as it is, met an
  expired token (two hours after connecting) and marked the account for re-authorisation.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial

import requests

from chorus.accounts.apps import OAuthApps, get_apps
from chorus.accounts.tokens import TokenSet
from chorus.net.fetch import guarded_session
from chorus.platforms.base import AccountCredentials, AuthError

Refresher = Callable[[AccountCredentials], TokenSet | None]

CLIENT_REFRESH: Mapping[str, tuple[str, str]] = {
    # the platforms whose oauth module refreshes as refresh(client_id, client_secret, refresh_token, ...):
    # (the refresh's URL keyword, the OAuthApps field giving that URL)
    "pinterest": ("api_url", "pinterest_api_url"),
    "linkedin": ("oauth_url", "linkedin_oauth_url"),
    "kuaishou": ("api_url", "kuaishou_api_url"),
    "youtube": ("token_url", "youtube_token_url"),
    "tiktok": ("api_url", "tiktok_api_url"),
}


def refresher_for(
    platform: str, apps: OAuthApps | None = None, session: requests.Session | None = None
) -> Refresher | None:
    """The refresher for ``platform``; None where the platform has none or the app is not configured."""
    apps = apps or get_apps()
    http = session or guarded_session()
    if platform == "x" and apps.app("x") is not None:
        return lambda creds: _refresh_x(creds, apps, http)
    if platform == "mastodon":
        return lambda creds: _refresh_mastodon(creds, http)
    if platform in ("facebook", "instagram") and apps.app(platform) is not None:
        return lambda creds: _refresh_meta(creds, apps, http)
    if platform == "bluesky":
        return lambda creds: _refresh_bluesky(creds, http)
    if platform == "threads" and apps.app("threads") is not None:
        return lambda creds: _refresh_threads(creds, apps, http)
    if platform in CLIENT_REFRESH and apps.app(platform) is not None:
        return lambda creds: _refresh_with_client(creds, apps, _client_refresh(platform, apps, http))
    if platform == "douyin" and apps.app("douyin") is not None:
        return lambda creds: _refresh_douyin(creds, apps, http)
    return None


def _refresh_threads(creds: AccountCredentials, apps: OAuthApps, http: requests.Session) -> TokenSet | None:
    from chorus.platforms.threads import oauth

    fresh = oauth.refresh(creds.access_token, session=http, token_host=apps.threads_token_url)
    return replace(fresh, refresh_token=fresh.access_token)  # a long-lived token refreshes itself


def _refresh_douyin(creds: AccountCredentials, apps: OAuthApps, http: requests.Session) -> TokenSet | None:
    from chorus.platforms.douyin import oauth

    app = apps.app("douyin")
    if app is None or not creds.refresh_token:
        return None
    return oauth.refreshed(app.client_id, creds.refresh_token, session=http, api_url=apps.douyin_api_url)


def _client_refresh(
    platform: str, apps: OAuthApps, http: requests.Session
) -> Callable[[str, str, str], TokenSet]:
    """The platform's ``refresh(client_id, client_secret, refresh_token)`` (:data:`CLIENT_REFRESH`), sent to
    the deployment's URL for it through ``http``."""
    keyword, field = CLIENT_REFRESH[platform]
    refresh: Callable[..., TokenSet] = importlib.import_module(f"chorus.platforms.{platform}.oauth").refresh
    return partial(refresh, session=http, **{keyword: getattr(apps, field)})


def _refresh_with_client(
    creds: AccountCredentials, apps: OAuthApps, refresh: Callable[[str, str, str], TokenSet]
) -> TokenSet | None:
    """``refresh(client_id, client_secret, refresh_token)`` with the deployment's app for the platform;
    None without the app or a refresh token."""
    app = apps.app(creds.platform)
    if app is None or app.client_secret is None or not creds.refresh_token:
        return None
    return refresh(app.client_id, app.client_secret, creds.refresh_token)


def _refresh_bluesky(creds: AccountCredentials, http: requests.Session) -> TokenSet | None:
    from chorus.platforms.bluesky import oauth

    base_url = creds.base_url or oauth.DEFAULT_PDS
    app_password = creds.extra.get("app_password")
    if creds.refresh_token:
        try:
            return oauth.refresh(creds.refresh_token, base_url=base_url, session=http)
        except AuthError:
            if not app_password:
                raise
    if not app_password:
        return None
    login = oauth.login(creds.handle or creds.account_id, app_password, base_url=base_url, session=http)
    return login.tokens


def _refresh_x(creds: AccountCredentials, apps: OAuthApps, http: requests.Session) -> TokenSet | None:
    from chorus.platforms.x import oauth

    app = apps.app("x")
    if app is None or not creds.refresh_token:
        return None
    return oauth.refresh(
        app.client_id,
        creds.refresh_token,
        client_secret=app.client_secret,
        session=http,
        token_url=apps.x_token_url,
    )


def _refresh_mastodon(creds: AccountCredentials, http: requests.Session) -> TokenSet | None:
    from chorus.platforms.mastodon import oauth

    client_id, client_secret = creds.extra.get("client_id"), creds.extra.get("client_secret")
    if not (creds.refresh_token and creds.base_url and client_id and client_secret):
        return None
    return oauth.refresh(client_id, client_secret, creds.refresh_token, base_url=creds.base_url, session=http)


def _refresh_meta(creds: AccountCredentials, apps: OAuthApps, http: requests.Session) -> TokenSet | None:
    from chorus.platforms.facebook import oauth

    app = apps.app(creds.platform)
    if app is None or app.client_secret is None or not creds.refresh_token:
        return None
    user = oauth.refresh(
        app.client_id,
        app.client_secret,
        creds.refresh_token,
        session=http,
        base_url=apps.facebook_graph_url,
        platform=creds.platform,
    )
    for page in oauth.page_tokens(
        user.access_token, session=http, base_url=apps.facebook_graph_url, platform=creds.platform
    ):
        own_id = page.instagram_account_id if creds.platform == "instagram" else page.page_id
        if own_id == creds.account_id:
            # Page tokens obtained from a long-lived user token do not expire.
            return TokenSet(page.access_token, user.access_token or creds.refresh_token, None)
    raise AuthError(
        f"{creds.platform} account {creds.account_id} is no longer granted to the app",
        platform=creds.platform,
        code="not_granted",
    )


def session_tokens(adapter: object, creds: AccountCredentials) -> TokenSet | None:
    """The tokens an adapter that manages its own session now holds for ``creds`` (Bluesky), if any.

    Read only after a successful call, when the adapter has the session in memory."""
    session_for = getattr(adapter, "session_for", None)
    if session_for is None:
        return None
    from chorus.platforms.bluesky.oauth import jwt_expiry

    session = session_for(creds)
    access = getattr(session, "access_jwt", None)
    if not isinstance(access, str) or not access:
        return None
    refresh = getattr(session, "refresh_jwt", None)
    return TokenSet(access, refresh if isinstance(refresh, str) and refresh else None, jwt_expiry(access))

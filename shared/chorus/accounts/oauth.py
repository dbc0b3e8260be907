"""Connecting accounts by OAuth: start (authorize URL + one-time state), finish (code -> tokens ->
platform account ids -> encrypted accounts).

The state is random and bound to the API key that started the flow: only that key can finish it, so
a state (or an authorize URL) handed to someone else's browser cannot connect their account into the
starter's workspace. It lives ten minutes (the main table's ``expires_at`` TTL, and a check on read,
since DynamoDB deletes expired items late) and is spent by a conditional delete, so a reused, expired
or unknown state is refused. It holds the workspace, the platform, the redirect URI, the PKCE verifier (X)
and, for Mastodon, the instance and the app registered there for this connection. No secret of the flow
is stored in clear (issue 14): the item is named by the state's hash, and the PKCE verifier and the
Mastodon app secret are sealed (AES-GCM) with a key derived from the state, which only the caller holds.

Who the token belongs to: X ``GET /2/users/me``; Mastodon ``GET /api/v1/accounts/verify_credentials``;
Facebook and Instagram: the Pages (and their linked Instagram professional accounts) the user granted,
each connected as its own account with its Page token; the long-lived user token is kept as that
account's refresh token, so the Page token can be read again later (``chorus.accounts.refreshers``).
Threads: the code's short-lived token is traded at once for a long-lived one (60 days, refreshed by
``chorus.accounts.refreshers``), and ``/me`` names the profile. Pinterest: ``/v5/user_account`` names
the account, and its boards are listed (``GET /v5/boards``) and kept on it, the first one chosen to
pin to (``extra["board_id"]``; ``extra["boards"]`` lists the others). LinkedIn: the member
(``/v2/userinfo``, ``urn:li:person:{sub}``) and every organization page it administers
(``organizationAcls``), each its own account with the member's token (60 days; no refresh token on
self-serve apps: the owner is warned before it expires, ``chorus.accounts.expiry``). Weibo: the ``uid``
``oauth2/access_token`` answers with the token is the account (``get_token_info`` agrees), named by
``users/show``; no refresh token either (warned before it expires).
YouTube: Google's code with offline access (a refresh token), the channel of the token
(``channels?mine=true``). TikTok: Login Kit's code gives the creator's ``open_id`` (confirmed by
``/v2/user/info/``) and its creator info (privacy levels, interactions off) is kept on the account.
Douyin: the ``open_id`` of the code's answer is the account, its granted scopes kept (``extra["scopes"]``:
without ``video.create.bind`` it cannot publish). Kuaishou: the ``open_id`` of the code's answer, named by
``openapi/user_info``, the app id kept (``extra["app_id"]``: every open API call names it).
Connecting an account the workspace already has re-authorises it (new tokens, active again).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import secrets
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist

from chorus.accounts import service as accounts
from chorus.accounts.apps import OAuthApps, get_apps
from chorus.accounts.ownership import platform_errors
from chorus.accounts.tokens import TokenSet
from chorus.auth.keys import Principal
from chorus.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from chorus.net.fetch import checked_url, guarded_session
from chorus.store import keys
from chorus.store.models import MainItem, bind

STATE_TTL = timedelta(minutes=10)
BUSINESS_STEP = "tiktok_business"  # the comments step of a TikTok account (TikTok API for Business)
OAUTH_PLATFORMS = (
    "x",
    "mastodon",
    "facebook",
    "instagram",
    "threads",
    "pinterest",
    "linkedin",
    "weibo",
    "douyin",
    "kuaishou",
    "youtube",
    "tiktok",
)


class OAuthStateItem(MainItem, discriminator="oauth_state"):
    workspace_id = UnicodeAttribute()
    started_by = UnicodeAttribute(null=True)  # the API key (id) that started the flow; None: refused
    platform = UnicodeAttribute()
    redirect_uri = UnicodeAttribute()
    code_verifier = UnicodeAttribute(null=True)
    base_url = UnicodeAttribute(null=True)
    client_id = UnicodeAttribute(null=True)  # Mastodon: the app registered on the instance
    client_secret = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)  # TikTok's comments step: the account it is added to


def oauth_state_sk() -> str:
    return "STATE"


@dataclass(frozen=True)
class ConnectStart:
    authorize_url: str
    state: str


@dataclass(frozen=True)
class PendingConnect:
    workspace_id: str
    platform: str
    redirect_uri: str
    code_verifier: str | None
    base_url: str | None
    client_id: str | None
    client_secret: str | None
    account_id: str | None = None


@dataclass(frozen=True)
class Identity:
    platform_account_id: str
    tokens: TokenSet
    handle: str | None = None
    display_name: str | None = None
    extra: dict[str, str] | None = None


def _refuse_state(message: str) -> BadRequest:
    return BadRequest.on("state", message)


def _check_url(value: str, field_name: str) -> str:
    """HTTPS, or HTTP on loopback only (local runs)."""
    parts = urlsplit(value)
    host = parts.hostname or ""
    loopback = host == "localhost"
    with suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if (parts.scheme == "https" and host) or (parts.scheme == "http" and loopback):
        return value
    raise ValidationFailed.on(field_name, "must be an https:// URL (http:// only on loopback)", "url")


def _business_account(principal: Principal, account_id: str | None) -> accounts.Account:
    """The TikTok account the comments step is for: one of the caller's workspace it may see."""
    if not account_id:
        raise ValidationFailed.on("account_id", "name the TikTok account to enable comments for", "required")
    try:
        account = accounts.visible_account(principal, account_id)
    except NotFound as exc:
        raise ValidationFailed.on("account_id", f"account {account_id} not found", "not_found") from exc
    if account.platform != "tiktok":
        raise ValidationFailed.on(
            "account_id", "comments are enabled this way for TikTok accounts only", "platform"
        )
    return account


def _finish_business(
    principal: Principal, pending: PendingConnect, code: str, apps: OAuthApps, http: requests.Session
) -> accounts.Account:
    """TikTok API for Business's tokens for the account the step was started for, once TikTok proves
    they are that account's: the token answer's ``open_id`` and ``tt_user/token_info/get/``'s
    ``creator_id`` must both be the connected account's ``open_id`` (else refused, nothing stored). The
    grant is sealed beside the Login Kit tokens (``chorus.accounts.grants``)."""
    from chorus.accounts import grants
    from chorus.platforms.tiktok import business_auth

    account = _business_account(principal, pending.account_id)
    app_id, secret = _app_or_refuse(apps, BUSINESS_STEP)
    api = apps.tiktok_business_api_url
    with platform_errors("code"):
        grant = business_auth.exchange_code(app_id, secret or "", pending.redirect_uri, code, api_url=api,
                                            session=http)  # fmt: skip
        creator, scopes = business_auth.token_info(
            app_id, grant.tokens.access_token, api_url=api, session=http
        )
    if grant.open_id != account.platform_account_id or creator != account.platform_account_id:
        raise Forbidden.on(
            "code",
            "TikTok authorised another account than this one: sign in to TikTok as "
            f"{account.handle or account.platform_account_id} and enable comments again",
            "owner",
        )
    granted = scopes or grant.scopes
    grants.store_grant(account.workspace_id, account.id, grant.tokens, ",".join(granted), extra=account.extra,
                       ends=grant.refresh_expires_at)  # fmt: skip
    return accounts.get_account(account.workspace_id, account.id)


def _app_or_refuse(apps: OAuthApps, platform: str) -> tuple[str, str | None]:
    app = apps.app(platform)
    if app is None:
        env = "FACEBOOK" if platform == "instagram" else platform.upper()
        raise ValidationFailed.on(
            "platform",
            f"{platform} app credentials are not configured (CHORUS_{env}_CLIENT_ID / _SECRET)",
            "not_configured",
        )
    return app.client_id, app.client_secret


def start_connect(
    principal: Principal,
    platform: str,
    redirect_uri: str,
    *,
    base_url: str | None = None,
    account_id: str | None = None,
    apps: OAuthApps | None = None,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> ConnectStart:
    """The URL to send the user to, and the one-time state that will come back with the code. The
    state is bound to ``principal``: only the same API key can finish the connection. ``tiktok_business``
    (with ``account_id``, a TikTok account of the workspace) is the optional comments step of a TikTok
    account: TikTok API for Business's authorisation, added to that account."""
    apps = apps or get_apps()
    if platform == BUSINESS_STEP:
        _business_account(principal, account_id)
    elif platform not in OAUTH_PLATFORMS:
        hint = " (Bluesky connects with an app password: POST /accounts)" if platform == "bluesky" else ""
        raise ValidationFailed.on(
            "platform", f"{platform!r} cannot connect by OAuth; OAuth: {', '.join(OAUTH_PLATFORMS)}{hint}"
        )
    _check_url(redirect_uri, "redirect_uri")
    state = secrets.token_urlsafe(32)
    verifier: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    if platform == "x":
        from chorus.platforms.x import oauth as x

        client_id, _ = _app_or_refuse(apps, "x")
        verifier = x.new_code_verifier()
        url = x.authorize_url(client_id, redirect_uri, state, code_verifier=verifier)
        client_id = None  # the deployment's app: read again at the callback
    elif platform == "mastodon":
        from chorus.platforms.mastodon import oauth as mastodon

        if not base_url:
            raise ValidationFailed.on("base_url", "the Mastodon instance URL is required", "required")
        base_url = checked_url(base_url, "base_url").rstrip("/")  # its addresses: checked at connect
        with platform_errors("base_url"):
            registered = mastodon.register_app(
                base_url,
                apps.mastodon_client_name,
                [redirect_uri],
                website=apps.mastodon_website or None,
                session=session,
            )
        client_id, client_secret = registered.client_id, registered.client_secret
        url = mastodon.authorize_url(client_id, redirect_uri, state, base_url=base_url)
    elif platform == BUSINESS_STEP:
        from chorus.platforms.tiktok import business_auth

        app_id, _ = _app_or_refuse(apps, platform)
        url = business_auth.authorize_url(
            app_id, redirect_uri, state, dialog_url=apps.tiktok_business_authorize_url
        )
    elif platform == "threads":
        from chorus.platforms.threads import oauth as threads

        app_id, _ = _app_or_refuse(apps, platform)
        url = threads.authorize_url(app_id, redirect_uri, state, dialog_url=apps.threads_authorize_url)
    elif platform == "pinterest":
        from chorus.platforms.pinterest import oauth as pinterest

        app_id, _ = _app_or_refuse(apps, platform)
        url = pinterest.authorize_url(app_id, redirect_uri, state, dialog_url=apps.pinterest_authorize_url)
    elif platform == "weibo":
        from chorus.platforms.weibo import oauth as weibo

        app_id, _ = _app_or_refuse(apps, platform)
        url = weibo.authorize_url(app_id, redirect_uri, state, api_url=apps.weibo_api_url)
    elif platform == "douyin":
        from chorus.platforms.douyin import oauth as douyin

        app_id, _ = _app_or_refuse(apps, platform)
        url = douyin.authorize_url(app_id, redirect_uri, state, dialog_url=apps.douyin_authorize_url)
    elif platform == "kuaishou":
        from chorus.platforms.kuaishou import oauth as kuaishou

        app_id, _ = _app_or_refuse(apps, platform)
        url = kuaishou.authorize_url(app_id, redirect_uri, state, dialog_url=apps.kuaishou_authorize_url)
    elif platform == "youtube":
        from chorus.platforms.youtube import oauth as youtube

        app_id, _ = _app_or_refuse(apps, platform)
        url = youtube.authorize_url(app_id, redirect_uri, state, dialog_url=apps.youtube_authorize_url)
    elif platform == "tiktok":
        from chorus.platforms.tiktok import oauth as tiktok

        app_id, _ = _app_or_refuse(apps, platform)
        url = tiktok.authorize_url(app_id, redirect_uri, state, dialog_url=apps.tiktok_authorize_url)
    elif platform == "linkedin":
        from chorus.platforms.linkedin import oauth as linkedin

        app_id, _ = _app_or_refuse(apps, platform)
        url = linkedin.authorize_url(app_id, redirect_uri, state, oauth_url=apps.linkedin_oauth_url)
    else:
        from chorus.platforms.facebook import oauth as facebook
        from chorus.platforms.instagram import oauth as instagram

        app_id, _ = _app_or_refuse(apps, platform)
        authorize = facebook.authorize_url if platform == "facebook" else instagram.authorize_url
        url = authorize(app_id, redirect_uri, state, dialog_url=apps.facebook_dialog_url)
    bind()
    OAuthStateItem(
        keys.oauth_state_pk(state),
        oauth_state_sk(),
        workspace_id=principal.workspace_id,
        started_by=principal.actor,
        platform=platform,
        redirect_uri=redirect_uri,
        code_verifier=_seal(state, verifier),
        base_url=base_url if platform == "mastodon" else None,
        client_id=client_id,
        client_secret=_seal(state, client_secret),
        account_id=account_id if platform == BUSINESS_STEP else None,
        expires_at=(now or datetime.now(UTC)) + STATE_TTL,
    ).save()
    return ConnectStart(url, state)


def _sealing(state: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"chorus oauth state seal\0" + state.encode()).digest())


def _seal(state: str, value: str | None) -> str | None:
    """``value`` encrypted under a key only the holder of ``state`` can derive (the item has its hash)."""
    if value is None:
        return None
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _sealing(state).encrypt(nonce, value.encode(), b"oauth-state")).decode()


def _unseal(state: str, blob: str | None) -> str | None:
    if blob is None:
        return None
    raw = base64.b64decode(blob)
    return _sealing(state).decrypt(raw[:12], raw[12:], b"oauth-state").decode()


def take_state(
    state: str, platform: str, principal: Principal, now: datetime | None = None
) -> PendingConnect:
    """Spend a state once: unknown, expired, already used or for another platform -> BadRequest(state).
    A state another API key started -> Forbidden(state), and the state is left for its owner."""
    if not state:
        raise _refuse_state("is required")
    bind()
    try:
        item = OAuthStateItem.get(keys.oauth_state_pk(state), oauth_state_sk(), consistent_read=True)
    except DoesNotExist as exc:
        raise _refuse_state("unknown or already used; start the connection again") from exc
    if (item.workspace_id, item.started_by) != (principal.workspace_id, principal.actor):
        message = "was issued to another API key; finish the connection with the key that started it"
        raise Forbidden.on("state", message, "not_yours")
    try:
        item.delete(condition=OAuthStateItem.pk.exists())
    except DeleteError as exc:  # another callback spent it first
        raise _refuse_state("unknown or already used; start the connection again") from exc
    if item.expires_at is None or item.expires_at <= (now or datetime.now(UTC)):
        raise _refuse_state("expired; start the connection again")
    if item.platform != platform:
        raise _refuse_state(f"was issued for {item.platform}, not {platform}")
    return PendingConnect(
        workspace_id=item.workspace_id,
        platform=item.platform,
        redirect_uri=item.redirect_uri,
        code_verifier=_unseal(state, item.code_verifier),
        base_url=item.base_url,
        client_id=item.client_id,
        client_secret=_unseal(state, item.client_secret),
        account_id=item.account_id,
    )


def finish_connect(
    platform: str,
    code: str,
    state: str,
    principal: Principal,
    *,
    apps: OAuthApps | None = None,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> list[accounts.Account]:
    """Trade the code for tokens, find whose they are, store the account(s) encrypted."""
    pending = take_state(state, platform, principal, now)
    if not code:
        raise ValidationFailed.on("code", "is required", "required")
    http = session or guarded_session()
    if pending.platform == BUSINESS_STEP:
        return [_finish_business(principal, pending, code, apps or get_apps(), http)]
    with platform_errors("code"):
        identities = identify(pending, code, apps or get_apps(), http)
    if not identities:
        raise ValidationFailed.on(
            "code", f"the authorisation granted no {platform} account Chorus can publish to", "empty"
        )
    return [_store(pending, identity) for identity in identities]


def identify(pending: PendingConnect, code: str, apps: OAuthApps, http: requests.Session) -> list[Identity]:
    """The account(s) the authorisation code grants, with their tokens."""
    if pending.platform == "x":
        return [_identify_x(pending, code, apps, http)]
    if pending.platform == "mastodon":
        return [_identify_mastodon(pending, code, http)]
    if pending.platform == "threads":
        return [_identify_threads(pending, code, apps, http)]
    if pending.platform == "pinterest":
        return [_identify_pinterest(pending, code, apps, http)]
    if pending.platform == "linkedin":
        return _identify_linkedin(pending, code, apps, http)
    if pending.platform == "youtube":
        return [_identify_youtube(pending, code, apps, http)]
    if pending.platform == "tiktok":
        return [_identify_tiktok(pending, code, apps, http)]
    if pending.platform == "douyin":
        return [_identify_douyin(pending, code, apps, http)]
    if pending.platform == "kuaishou":
        return [_identify_kuaishou(pending, code, apps, http)]
    if pending.platform == "weibo":
        return [_identify_weibo(pending, code, apps, http)]
    return _identify_meta(pending, code, apps, http)


def _identify_threads(
    pending: PendingConnect, code: str, apps: OAuthApps, http: requests.Session
) -> Identity:
    """The long-lived token of the code, and the profile ``/me`` says it acts for."""
    from chorus.platforms.threads import oauth as threads

    client_id, client_secret = _app_or_refuse(apps, "threads")
    _user_id, granted = threads.exchange_code(
        client_id,
        client_secret or "",
        pending.redirect_uri,
        code,
        session=http,
        token_host=apps.threads_token_url,
    )
    me = threads.whoami(granted.access_token, session=http, api_url=apps.threads_api_url)
    return Identity(
        me.account_id,
        # Threads refreshes a long-lived token with itself: it is its own refresh token (so it is
        # refreshed ahead of expiry like any other; chorus.accounts.refreshers).
        replace(granted, refresh_token=granted.access_token),
        handle=me.handle,
        display_name=me.display_name,
    )


def _identify_weibo(pending: PendingConnect, code: str, apps: OAuthApps, http: requests.Session) -> Identity:
    """The token of the code and the uid Weibo answered with it (the account: Weibo's own answer), its
    screen name from ``users/show``. No refresh token: the owner is warned before it expires."""
    from chorus.platforms.weibo import oauth as weibo

    client_id, client_secret = _app_or_refuse(apps, "weibo")
    granted = weibo.exchange_code(client_id, client_secret or "", pending.redirect_uri, code, session=http,
                                  api_url=apps.weibo_api_url)  # fmt: skip
    me = weibo.whoami(granted.tokens.access_token, session=http, api_url=apps.weibo_api_url)
    if me.account_id != granted.uid:
        raise ValidationFailed.on("code", "Weibo named two different accounts for this token", "owner")
    return Identity(granted.uid, granted.tokens, handle=me.handle, display_name=me.display_name)


def _identify_douyin(pending: PendingConnect, code: str, apps: OAuthApps, http: requests.Session) -> Identity:
    """The tokens of the code; the ``open_id`` Douyin answers with them is the account (the platform's
    own answer, never typed). The scopes granted are kept (``extra["scopes"]``): an app Douyin has not
    granted ``video.create.bind`` connects for item data and comments but cannot publish."""
    from chorus.platforms.douyin import oauth as douyin

    client_key, client_secret = _app_or_refuse(apps, "douyin")
    grant = douyin.exchange_code(
        client_key, client_secret or "", code, session=http, api_url=apps.douyin_api_url
    )
    return Identity(grant.open_id, grant.tokens, extra={douyin.SCOPES: ",".join(grant.scopes)})


def _identify_kuaishou(
    pending: PendingConnect, code: str, apps: OAuthApps, http: requests.Session
) -> Identity:
    """The tokens of the code (traded at once: a code lives 2 minutes); the ``open_id`` Kuaishou answers
    with them is the account, ``user_info`` names it. The app id is kept: every open API call names it."""
    from chorus.platforms.kuaishou import oauth as kuaishou
    from chorus.platforms.kuaishou.api import APP_ID

    app_id, app_secret = _app_or_refuse(apps, "kuaishou")
    grant = kuaishou.exchange_code(
        app_id, app_secret or "", code, session=http, api_url=apps.kuaishou_api_url
    )
    name = kuaishou.whoami(app_id, grant.tokens.access_token, session=http, api_url=apps.kuaishou_api_url)
    return Identity(grant.open_id or "", grant.tokens, display_name=name, extra={APP_ID: app_id})


def _identify_pinterest(
    pending: PendingConnect, code: str, apps: OAuthApps, http: requests.Session
) -> Identity:
    """The tokens of the code, the account ``/v5/user_account`` names, and its boards."""
    from chorus.platforms.pinterest import oauth as pinterest

    client_id, client_secret = _app_or_refuse(apps, "pinterest")
    granted = pinterest.exchange_code(
        client_id,
        client_secret or "",
        pending.redirect_uri,
        code,
        session=http,
        api_url=apps.pinterest_api_url,
    )
    me = pinterest.whoami(granted.access_token, session=http, api_url=apps.pinterest_api_url)
    boards = pinterest.boards(granted.access_token, session=http, api_url=apps.pinterest_api_url)
    return Identity(
        me.account_id,
        granted,
        handle=me.handle,
        display_name=me.display_name,
        extra=pinterest.board_extra(boards),
    )


def _identify_linkedin(
    pending: PendingConnect, code: str, apps: OAuthApps, http: requests.Session
) -> list[Identity]:
    """The member the code's token acts for, and each organization page it administers (proven by
    LinkedIn's ACLs: only approved ADMINISTRATOR roles). A token without the organization scopes
    (a self-serve app with only Sign In and Share) connects the member alone."""
    from chorus.platforms.base import AuthError, PermanentError
    from chorus.platforms.linkedin import oauth as linkedin

    client_id, client_secret = _app_or_refuse(apps, "linkedin")
    granted = linkedin.exchange_code(
        client_id,
        client_secret or "",
        pending.redirect_uri,
        code,
        session=http,
        oauth_url=apps.linkedin_oauth_url,
    )
    me = linkedin.member(granted.access_token, session=http, api_url=apps.linkedin_api_url)
    found = [Identity(me.account_id, granted, display_name=me.display_name)]
    try:
        pages = linkedin.administered(granted.access_token, session=http, api_url=apps.linkedin_api_url)
    except PermanentError as exc:
        if isinstance(exc, AuthError):
            raise
        pages = []  # 403: the organization scopes were not granted
    found += [Identity(urn, granted, extra={"member": me.account_id}) for urn in pages]
    return found


def _identify_youtube(
    pending: PendingConnect, code: str, apps: OAuthApps, http: requests.Session
) -> Identity:
    """The tokens of the code (offline access: with a refresh token), and the channel they manage
    (``channels?mine=true``): the account is the token's channel, proven by Google."""
    from chorus.platforms.youtube import oauth as youtube

    client_id, client_secret = _app_or_refuse(apps, "youtube")
    granted = youtube.exchange_code(
        client_id,
        client_secret or "",
        pending.redirect_uri,
        code,
        session=http,
        token_url=apps.youtube_token_url,
    )
    me = youtube.whoami(granted.access_token, session=http, api_url=apps.youtube_api_url)
    return Identity(
        me.account_id,
        granted,
        handle=me.handle,
        display_name=me.display_name,
    )


def _identify_tiktok(pending: PendingConnect, code: str, apps: OAuthApps, http: requests.Session) -> Identity:
    """The creator of the code (``open_id``, confirmed by ``/v2/user/info/``), its tokens, and what it
    may post with (creator info: privacy levels, interactions turned off), kept on the account with the
    scopes granted (``extra["scopes"]``: comments are polled only with ``comment.list``)."""
    from chorus.platforms.base import PermanentError
    from chorus.platforms.tiktok import oauth as tiktok
    from chorus.platforms.tiktok.comments import SCOPES

    client_id, client_secret = _app_or_refuse(apps, "tiktok")
    open_id, granted = tiktok.exchange_code(
        client_id,
        client_secret or "",
        pending.redirect_uri,
        code,
        session=http,
        api_url=apps.tiktok_api_url,
    )
    me = tiktok.whoami(granted.access_token, session=http, api_url=apps.tiktok_api_url)
    if me.account_id != open_id:
        raise PermanentError("the token's user is not the creator who authorised", platform="tiktok")
    creator = tiktok.creator_info(granted.access_token, session=http, api_url=apps.tiktok_api_url)
    return Identity(
        open_id,
        granted,
        handle=creator.username,
        display_name=me.display_name,
        extra={**creator.extra(), SCOPES: granted.scope or ""},
    )


def _identify_x(pending: PendingConnect, code: str, apps: OAuthApps, http: requests.Session) -> Identity:
    from chorus.platforms.x import oauth as x

    client_id, client_secret = _app_or_refuse(apps, "x")
    granted = x.exchange_code(
        client_id,
        pending.redirect_uri,
        code,
        pending.code_verifier or "",
        client_secret=client_secret,
        session=http,
        token_url=apps.x_token_url,
    )
    me = x.whoami(granted.access_token, session=http, api_url=apps.x_api_url)
    return Identity(
        me.account_id,
        granted,
        handle=me.handle,
        display_name=me.display_name,
    )


def _identify_mastodon(pending: PendingConnect, code: str, http: requests.Session) -> Identity:
    from chorus.platforms.mastodon import oauth as mastodon

    if not (pending.base_url and pending.client_id and pending.client_secret):
        raise _refuse_state("holds no Mastodon app registration; start the connection again")
    granted = mastodon.exchange_code(
        pending.client_id,
        pending.client_secret,
        pending.redirect_uri,
        code,
        base_url=pending.base_url,
        session=http,
    )
    me = mastodon.whoami(granted.access_token, base_url=pending.base_url, session=http)
    return Identity(
        me.account_id,
        granted,
        handle=me.handle,
        display_name=me.display_name,
        extra={"client_id": pending.client_id, "client_secret": pending.client_secret},
    )


def _identify_meta(
    pending: PendingConnect, code: str, apps: OAuthApps, http: requests.Session
) -> list[Identity]:
    from chorus.platforms.facebook import oauth as facebook

    client_id, client_secret = _app_or_refuse(apps, pending.platform)
    user = facebook.exchange_code(
        client_id,
        client_secret or "",
        pending.redirect_uri,
        code,
        session=http,
        base_url=apps.facebook_graph_url,
        platform=pending.platform,
    )
    pages = facebook.page_tokens(
        user.access_token, session=http, base_url=apps.facebook_graph_url, platform=pending.platform
    )
    found: list[Identity] = []
    for page in pages:
        own_id = page.page_id if pending.platform == "facebook" else page.instagram_account_id
        if not own_id:
            continue  # a Page without a linked Instagram professional account
        found.append(
            Identity(
                own_id,
                TokenSet(page.access_token, user.access_token, None),
                display_name=page.name or None,
                extra={"page_id": page.page_id},
            )
        )
    return found


def _store(pending: PendingConnect, identity: Identity) -> accounts.Account:
    return accounts.connect_or_reconnect(
        pending.workspace_id,
        pending.platform,
        identity.platform_account_id,
        identity.tokens,
        handle=identity.handle,
        display_name=identity.display_name,
        base_url=pending.base_url,
        extra=identity.extra,
    )

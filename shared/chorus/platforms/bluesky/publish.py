"""Publish to Bluesky through the account's PDS (AT Protocol XRPC).

Sessions: an app password (``creds.extra["app_password"]``, identifier ``creds.handle`` or the DID)
opens a session with ``com.atproto.server.createSession``; ``creds.access_token`` / ``refresh_token``
(accessJwt / refreshJwt) are used while valid, refreshed with ``com.atproto.server.refreshSession`` when
the PDS answers ``ExpiredToken``, and a new session is created when the refresh token is dead too. The
adapter keeps the current session per account in memory (``session_for`` exposes it so the caller can
store the new tokens). A rejected app password raises ``AuthError``.

Exactly once: every record gets a deterministic record key, a valid TID derived from the target id
(``tid_for``), so a retried ``createRecord`` cannot create a second post. When a create fails for any
other reason than auth or throttling, the adapter looks the record up (``getRecord``) and, if it is
there, treats the create as done — the reference PDS answers a duplicate rkey with a 500, newer ones with
``RecordAlreadyExists``. ``find_published`` is the same ``getRecord``.

Records are ``app.bsky.feed.post`` with facets (``facets.py``), ``langs`` (from ``creds.extra["langs"]``,
comma-separated), ``createdAt``, and an embed: images (``app.bsky.embed.images`` after
``com.atproto.repo.uploadBlob``), a video (``app.bsky.embed.video``), or an external card for ``link``
when there are no images (the link is appended to the text otherwise). Thread parts and the first
comment are replies with root/parent strong refs; ``request.reply_to`` (an at:// uri) makes the post a
reply in that thread.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MediaItem,
    PendingStep,
    PermanentError,
    PlatformError,
    PublishRequest,
    PublishResult,
    RateLimited,
    UnknownOutcome,
)
from chorus.platforms.bluesky import facets as facetlib
from chorus.platforms.http import call, json_body
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "bluesky"
DEFAULT_PDS = "https://bsky.social"
POST_COLLECTION = "app.bsky.feed.post"
UPLOAD_TIMEOUT = (3.05, 120.0)
TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
S32_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID_FALLBACK_EPOCH_US = 1_672_531_200_000_000  # 2023-01-01T00:00:00Z
_TID_FALLBACK_SPAN_US = 2**48  # ~8.9 years


def _s32(value: int, width: int = 13) -> str:
    chars = []
    for _ in range(width):
        chars.append(S32_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def tid_for(key: str, at: datetime | None = None) -> str:
    """A valid TID (13 base32-sortable chars) derived only from ``key`` and ``at``.

    The timestamp part is ``at`` (whole seconds) plus a hash-derived microsecond offset, the 10-bit
    clock id is hash-derived too, so two targets due the same second still get different keys and a
    retry of one target always gets the same key. Without ``at`` the timestamp is hash-derived within
    2023..2031.
    """
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest(), "big")
    if at is not None:
        micros = int(at.timestamp()) * 1_000_000 + digest % 1_000_000
    else:
        micros = _TID_FALLBACK_EPOCH_US + digest % _TID_FALLBACK_SPAN_US
    clock_id = (digest >> 64) % 1024
    return _s32(((micros & ((1 << 53) - 1)) << 10) | clock_id)


def parse_at_uri(uri: str) -> tuple[str, str, str]:
    """``at://did/collection/rkey`` -> (did, collection, rkey)."""
    if not uri.startswith("at://"):
        raise PermanentError(f"not an at:// uri: {uri!r}", platform=PLATFORM)
    parts = uri[len("at://") :].split("/")
    if len(parts) != 3:
        raise PermanentError(f"not a record uri: {uri!r}", platform=PLATFORM)
    return parts[0], parts[1], parts[2]


def post_url(did_or_handle: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{did_or_handle}/post/{rkey}"


def _jwt_expired(token: str, now: float) -> bool:
    """True when the JWT's ``exp`` has passed (no signature check: only to avoid a doomed call)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) <= now + 30
    except (IndexError, ValueError, KeyError, TypeError):
        return False


@dataclass
class BlueskySession:
    did: str
    handle: str | None
    access_jwt: str
    refresh_jwt: str | None


class BlueskyPublisher:
    name = PLATFORM

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session or requests.Session()
        self.base_url = base_url
        self._clock = clock
        self._sessions: dict[str, BlueskySession] = {}

    # -- sessions ------------------------------------------------------------------------------------

    def _pds(self, creds: AccountCredentials) -> str:
        return (creds.base_url or self.base_url or DEFAULT_PDS).rstrip("/")

    def _url(self, creds: AccountCredentials, nsid: str) -> str:
        return f"{self._pds(creds)}/xrpc/{nsid}"

    def create_session(self, creds: AccountCredentials) -> BlueskySession:
        password = creds.extra.get("app_password")
        if not password:
            raise AuthError("Bluesky session expired and no app password is stored", platform=PLATFORM)
        try:
            resp = call(
                self.session,
                "POST",
                self._url(creds, "com.atproto.server.createSession"),
                PLATFORM,
                json={"identifier": creds.handle or creds.account_id, "password": password},
                idempotent=True,  # opening a session twice is harmless
            )
        except PermanentError as exc:
            if isinstance(exc, AuthError):
                raise
            raise AuthError(exc.message, platform=PLATFORM, code=exc.code, status=exc.status) from exc
        return self._remember(creds, json_body(resp, PLATFORM))

    def refresh_session(self, creds: AccountCredentials, current: BlueskySession) -> BlueskySession:
        if current.refresh_jwt and not _jwt_expired(current.refresh_jwt, self._clock()):
            try:
                resp = call(
                    self.session,
                    "POST",
                    self._url(creds, "com.atproto.server.refreshSession"),
                    PLATFORM,
                    headers={"Authorization": f"Bearer {current.refresh_jwt}"},
                    idempotent=True,
                )
                return self._remember(creds, json_body(resp, PLATFORM))
            except PermanentError as exc:
                if not isinstance(exc, AuthError) and exc.code not in TOKEN_ERRORS:
                    raise
        return self.create_session(creds)

    def _remember(self, creds: AccountCredentials, body: dict[str, Any]) -> BlueskySession:
        session = BlueskySession(
            did=str(body.get("did") or creds.account_id),
            handle=body.get("handle") or creds.handle,
            access_jwt=str(body["accessJwt"]),
            refresh_jwt=body.get("refreshJwt"),
        )
        self._sessions[creds.account_id] = session
        return session

    def session_for(self, creds: AccountCredentials) -> BlueskySession:
        """The session in use for this account (tokens the caller may persist)."""
        known = self._sessions.get(creds.account_id)
        if known is not None:
            return known
        if creds.access_token and not _jwt_expired(creds.access_token, self._clock()):
            known = BlueskySession(creds.account_id, creds.handle, creds.access_token, creds.refresh_token)
            self._sessions[creds.account_id] = known
            return known
        stale = BlueskySession(creds.account_id, creds.handle, creds.access_token, creds.refresh_token)
        return self.refresh_session(creds, stale)

    def _xrpc(self, creds: AccountCredentials, method: str, nsid: str, **kw: Any) -> requests.Response:
        """An authenticated XRPC call; an expired access token is refreshed once and the call repeated."""
        current = self.session_for(creds)
        headers = dict(kw.pop("headers", {}) or {})
        try:
            return call(
                self.session,
                method,
                self._url(creds, nsid),
                PLATFORM,
                headers={**headers, "Authorization": f"Bearer {current.access_jwt}"},
                **kw,
            )
        except PermanentError as exc:
            if exc.code not in TOKEN_ERRORS and not (isinstance(exc, AuthError) and current.refresh_jwt):
                raise
        fresh = self.refresh_session(creds, current)
        return call(
            self.session,
            method,
            self._url(creds, nsid),
            PLATFORM,
            headers={**headers, "Authorization": f"Bearer {fresh.access_jwt}"},
            **kw,
        )

    # -- records -------------------------------------------------------------------------------------

    def resolve_handle(self, creds: AccountCredentials, handle: str) -> str | None:
        try:
            resp = call(
                self.session,
                "GET",
                self._url(creds, "com.atproto.identity.resolveHandle"),
                PLATFORM,
                params={"handle": handle},
            )
        except PermanentError:
            return None  # an unknown handle stays plain text
        did = json_body(resp, PLATFORM).get("did")
        return str(did) if did else None

    def get_record(
        self, creds: AccountCredentials, repo: str, rkey: str, collection: str = POST_COLLECTION
    ) -> dict[str, Any] | None:
        try:
            resp = self._xrpc(
                creds,
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": repo, "collection": collection, "rkey": rkey},
            )
        except PermanentError as exc:
            if isinstance(exc, AuthError):
                raise
            if exc.code == "RecordNotFound" or exc.status in (400, 404):
                return None
            raise
        record: dict[str, Any] = json_body(resp, PLATFORM)
        return record

    def upload_blob(self, creds: AccountCredentials, item: MediaItem) -> dict[str, Any]:
        data = call(self.session, "GET", item.url, PLATFORM, timeout=UPLOAD_TIMEOUT).content
        resp = self._xrpc(
            creds,
            "POST",
            "com.atproto.repo.uploadBlob",
            data=data,
            headers={"Content-Type": item.mime_type},
            timeout=UPLOAD_TIMEOUT,
            idempotent=True,  # blobs are content-addressed: a repeat is the same blob
        )
        blob: dict[str, Any] = json_body(resp, PLATFORM)["blob"]
        return blob

    def _embed(self, creds: AccountCredentials, request: PublishRequest) -> dict[str, Any] | None:
        videos = [m for m in request.media if m.mime_type.startswith("video/")]
        if videos:
            item = videos[0]
            embed: dict[str, Any] = {"$type": "app.bsky.embed.video", "video": self.upload_blob(creds, item)}
            if item.alt_text:
                embed["alt"] = item.alt_text
            return embed
        if request.media:
            return {
                "$type": "app.bsky.embed.images",
                "images": [{"alt": m.alt_text, "image": self.upload_blob(creds, m)} for m in request.media],
            }
        if request.link:
            return {
                "$type": "app.bsky.embed.external",
                "external": {"uri": request.link, "title": request.link, "description": ""},
            }
        return None

    def build_record(
        self,
        creds: AccountCredentials,
        text: str,
        reply: dict[str, Any] | None = None,
        embed: dict[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": text,
            "createdAt": _iso(created_at or datetime.fromtimestamp(self._clock(), UTC)),
        }
        found = facetlib.detect_facets(text, lambda handle: self.resolve_handle(creds, handle))
        if found:
            record["facets"] = found
        langs = [lang.strip() for lang in creds.extra.get("langs", "").split(",") if lang.strip()]
        if langs:
            record["langs"] = langs
        if reply:
            record["reply"] = reply
        if embed:
            record["embed"] = embed
        return record

    def _create(
        self, creds: AccountCredentials, did: str, rkey: str, record: dict[str, Any]
    ) -> dict[str, str]:
        """createRecord with a fixed rkey; if it fails but the record exists, that record is the answer."""
        try:
            resp = self._xrpc(
                creds,
                "POST",
                "com.atproto.repo.createRecord",
                json={"repo": did, "collection": POST_COLLECTION, "rkey": rkey, "record": record},
                idempotent=False,
            )
        except (RateLimited, AuthError, UnknownOutcome):
            raise
        except PlatformError:
            existing = self.get_record(creds, did, rkey)
            if existing is None:
                raise
            logger.info("bluesky_record_existed", extra={"rkey": rkey})
            return {"uri": str(existing["uri"]), "cid": str(existing["cid"])}
        body = json_body(resp, PLATFORM)
        return {"uri": str(body["uri"]), "cid": str(body["cid"])}

    def _reply_refs(self, creds: AccountCredentials, uri: str) -> dict[str, Any]:
        repo, collection, rkey = parse_at_uri(uri)
        record = self.get_record(creds, repo, rkey, collection)
        if record is None:
            raise PermanentError(f"the post being replied to does not exist: {uri}", platform=PLATFORM)
        parent = {"uri": str(record["uri"]), "cid": str(record["cid"])}
        root = (record.get("value") or {}).get("reply", {}).get("root") or parent
        return {"root": root, "parent": parent}

    # -- PublishingAdapter ---------------------------------------------------------------------------

    def rkeys(self, request: PublishRequest) -> list[str]:
        """Record keys of the first post, each thread part and the first comment, in that order."""
        keys = [tid_for(request.target_id, request.not_before)]
        keys += [
            tid_for(f"{request.target_id}:part:{n}", request.not_before)
            for n in range(1, len(request.thread) + 1)
        ]
        if request.first_comment:
            keys.append(tid_for(f"{request.target_id}:comment", request.not_before))
        return keys

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        did = self.session_for(creds).did
        keys = self.rkeys(request)
        embed = self._embed(creds, request)
        text = (
            request.text
            if (embed is None or embed["$type"] == "app.bsky.embed.external")
            else (textlib.compose_text(request.text, request.link))
        )
        reply = self._reply_refs(creds, request.reply_to) if request.reply_to else None
        first = self._create(creds, did, keys[0], self.build_record(creds, text, reply, embed))
        root = reply["root"] if reply else first
        parent = first
        part_uris: list[str] = []
        followups = [*request.thread, *([request.first_comment] if request.first_comment else [])]
        for rkey, part in zip(keys[1:], followups, strict=True):
            parent = self._create(
                creds, did, rkey, self.build_record(creds, part, {"root": root, "parent": parent})
            )
            part_uris.append(parent["uri"])
        logger.info("bluesky_published", extra={"target_id": request.target_id, "uri": first["uri"]})
        return PublishResult(
            platform_post_id=first["uri"], url=post_url(did, keys[0]), part_ids=tuple(part_uris)
        )

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        raise PermanentError(f"Bluesky has no pending step {step.step!r}", platform=PLATFORM)

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        did = self.session_for(creds).did
        rkey = self.rkeys(request)[0]
        record = self.get_record(creds, did, rkey)
        if record is None:
            return None
        return PublishResult(platform_post_id=str(record["uri"]), url=post_url(did, rkey))

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        repo, collection, rkey = parse_at_uri(platform_post_id)
        self._xrpc(
            creds,
            "POST",
            "com.atproto.repo.deleteRecord",
            json={"repo": repo, "collection": collection, "rkey": rkey},
            idempotent=True,  # deleteRecord succeeds whether or not the record still exists
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

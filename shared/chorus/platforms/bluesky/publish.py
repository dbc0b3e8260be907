"""Publish to Bluesky through the account's PDS (AT Protocol XRPC).

Sessions: an app password (``creds.extra["app_password"]``, identifier ``creds.handle`` or the DID)
opens a session with ``com.atproto.server.createSession``; ``creds.access_token`` / ``refresh_token``
(accessJwt / refreshJwt) are used while valid, refreshed with ``com.atproto.server.refreshSession`` when
the PDS answers ``ExpiredToken``, and a new session is created when the refresh token is dead too. The
adapter keeps the current session per account in memory (``session_for`` exposes it so the caller can
store the new tokens). A rejected app password raises ``AuthError``.

Exactly once: every record gets a deterministic record key, a valid TID derived only from the target's
persisted idempotency material (``record_key``: ``tid_for(progress.idempotency_key(part),
progress.started_at)``, both written before the first call), so the first attempt, every retry and every
verify name the same record and a retried ``createRecord`` cannot create a second post. When a create
fails for any other reason than auth or throttling, the adapter looks the record up (``getRecord``) and,
if it is there, treats the create as done — the reference PDS answers a duplicate rkey with a 500, newer
ones with ``RecordAlreadyExists``. ``find_published`` and ``find_part`` are the same ``getRecord``.

Parts go through ``request.progress`` (``Progress.step``, idempotent: the rkey is fixed), so a retry
resumes at the first missing part. A part's id is its at:// uri; the strong refs (uri + cid) a reply
needs come from this call's creates, or, for a parent that landed in an earlier call, from a
``getRecord`` of the parent (which also gives the thread's root). Each call spends at most
``request_budget_s`` of request timeouts (``chorus.platforms.budget``); when the next request would not
fit it returns ``PendingStep(RESUME_STEP)``, with the blobs already uploaded in its state.

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
from functools import partial
from typing import Any

import requests

from chorus.net.fetch import fetch, guarded_session
from chorus.platforms import parts as partlib
from chorus.platforms.base import (
    ROOT,
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
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, requests_budget, timeout_seconds
from chorus.platforms.http import DEFAULT_TIMEOUT, call, default_timeout, json_body
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "bluesky"
DEFAULT_PDS = "https://bsky.social"
POST_COLLECTION = "app.bsky.feed.post"
UPLOAD_TIMEOUT = DEFAULT_TIMEOUT
RESUME_STEP = "resume"
TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
SCOPE_REFUSALS = ("bad token method", "bad token scope")
"""The PDS's ``InvalidToken`` messages for a valid session whose app password does not allow the method
(``chat.bsky.*`` without access to direct messages): a new session would be refused the same."""
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


def scope_refused(error: PlatformError) -> bool:
    """Whether the PDS refused a valid session the method (``SCOPE_REFUSALS``), not the session itself."""
    return error.code == "InvalidToken" and (error.message or "").strip().lower() in SCOPE_REFUSALS


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


def record_key(request: PublishRequest, part: str = ROOT) -> str:
    """The record key of ``part``: derived from the target's persisted idempotency material only (its
    key and ``started_at``), so the first attempt, every retry and every verify name the same record."""
    progress = request.progress
    return tid_for(progress.idempotency_key(part), progress.started_at)


class BlueskyPublisher:
    name = PLATFORM
    request_budget_s: float = requests_budget(CALL_REQUESTS)
    """Two requests a call: one blob (download + upload), or a record and the look that may follow it."""

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session or guarded_session()  # the instance / PDS is the account's base_url
        self.base_url = base_url
        self._clock = clock
        self._sessions: dict[str, BlueskySession] = {}
        self._refused: dict[str, BlueskySession] = {}  # sessions the PDS refused, renewed on next use

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
        self._refused.pop(creds.account_id, None)  # a new session supersedes a refused one
        return session

    def session_for(self, creds: AccountCredentials) -> BlueskySession:
        """The session in use for this account (tokens the caller may persist)."""
        refused = self._refused.get(creds.account_id)
        if refused is not None:
            return refused  # renewed by the next publish step, within its budget
        known = self._sessions.get(creds.account_id)
        if known is not None:
            return known
        if creds.access_token and not _jwt_expired(creds.access_token, self._clock()):
            known = BlueskySession(creds.account_id, creds.handle, creds.access_token, creds.refresh_token)
            self._sessions[creds.account_id] = known
            return known
        stale = BlueskySession(creds.account_id, creds.handle, creds.access_token, creds.refresh_token)
        return self.refresh_session(creds, stale)

    def _renewed_session(self, creds: AccountCredentials) -> BlueskySession:
        """The session a publish step works with: a session the PDS refused is renewed first."""
        refused = self._refused.pop(creds.account_id, None)
        if refused is not None:
            return self.refresh_session(creds, refused)
        return self.session_for(creds)

    def _needs_session(self, creds: AccountCredentials) -> bool:
        """True when ``session_for`` must ask the PDS (refresh, or a new session) before anything else."""
        if creds.account_id in self._refused:
            return True
        if creds.account_id in self._sessions:
            return False
        return not creds.access_token or _jwt_expired(creds.access_token, self._clock())

    def _xrpc(
        self,
        creds: AccountCredentials,
        method: str,
        nsid: str,
        budget: CallBudget | None = None,
        **kw: Any,
    ) -> requests.Response:
        """An authenticated XRPC call; an expired access token is refreshed once and the call repeated
        (both taken from ``budget`` first, when the call is part of a budgeted publish)."""
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
            if scope_refused(exc):
                raise
        if budget is not None:  # renewing may take two requests, then the call is repeated
            self._sessions.pop(creds.account_id, None)
            self._refused[creds.account_id] = current
            budget.spend(default_timeout(), default_timeout(), kw.get("timeout") or default_timeout())
            fresh = self._renewed_session(creds)
        else:
            fresh = self.refresh_session(creds, current)
        return call(
            self.session,
            method,
            self._url(creds, nsid),
            PLATFORM,
            headers={**headers, "Authorization": f"Bearer {fresh.access_jwt}"},
            **kw,
        )

    def xrpc(self, creds: AccountCredentials, method: str, nsid: str, **kw: Any) -> requests.Response:
        """An authenticated XRPC call on the account's PDS outside a publish (the chat service's, through
        the PDS's ``atproto-proxy``): an expired session is refreshed once, as for a post."""
        return self._xrpc(creds, method, nsid, **kw)

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
        self,
        creds: AccountCredentials,
        repo: str,
        rkey: str,
        collection: str = POST_COLLECTION,
        budget: CallBudget | None = None,
    ) -> dict[str, Any] | None:
        try:
            resp = self._xrpc(
                creds,
                "GET",
                "com.atproto.repo.getRecord",
                budget,
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

    def upload_blob(
        self, creds: AccountCredentials, item: MediaItem, budget: CallBudget | None = None
    ) -> dict[str, Any]:
        data = fetch(
            item.url, field_name="media", platform=PLATFORM, deadline_s=timeout_seconds(UPLOAD_TIMEOUT)
        ).content
        resp = self._xrpc(
            creds,
            "POST",
            "com.atproto.repo.uploadBlob",
            budget,
            data=data,
            headers={"Content-Type": item.mime_type},
            timeout=UPLOAD_TIMEOUT,
            idempotent=True,  # blobs are content-addressed: a repeat is the same blob
        )
        blob: dict[str, Any] = json_body(resp, PLATFORM)["blob"]
        return blob

    def _blobs(
        self,
        creds: AccountCredentials,
        items: list[MediaItem],
        state: dict[str, str],
        budget: CallBudget,
    ) -> list[dict[str, Any]]:
        """Upload the items not uploaded yet, each blob kept in ``state`` as it lands (a later step of
        the same publish reuses them instead of uploading again)."""
        blobs: list[dict[str, Any]] = json.loads(state.get("blobs") or "[]")
        for item in items[len(blobs) :]:
            budget.spend(UPLOAD_TIMEOUT, UPLOAD_TIMEOUT)  # the download and the upload
            blobs.append(self.upload_blob(creds, item, budget))
            state["blobs"] = json.dumps(blobs, separators=(",", ":"))
        return blobs

    def _embed(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> dict[str, Any] | None:
        videos = [m for m in request.media if m.mime_type.startswith("video/")]
        if videos:
            item = videos[0]
            [video] = self._blobs(creds, [item], state, budget)
            embed: dict[str, Any] = {"$type": "app.bsky.embed.video", "video": video}
            if item.alt_text:
                embed["alt"] = item.alt_text
            return embed
        if request.media:
            blobs = self._blobs(creds, list(request.media), state, budget)
            return {
                "$type": "app.bsky.embed.images",
                "images": [
                    {"alt": m.alt_text, "image": b} for m, b in zip(request.media, blobs, strict=True)
                ],
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
        resolve: Callable[[str], str | None] | None = None,
    ) -> dict[str, Any]:
        """An ``app.bsky.feed.post`` record; mentions are resolved with ``resolve`` (a handle's DID)."""
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": text,
            "createdAt": _iso(created_at or datetime.fromtimestamp(self._clock(), UTC)),
        }
        found = facetlib.detect_facets(text, resolve or (lambda handle: self.resolve_handle(creds, handle)))
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
        self,
        creds: AccountCredentials,
        did: str,
        rkey: str,
        record: dict[str, Any],
        budget: CallBudget | None = None,
    ) -> dict[str, str]:
        """createRecord with a fixed rkey; if it fails but the record exists, that record is the answer.
        The look is taken from ``budget``; without room for it a 5xx refusal (how the reference PDS
        answers a taken rkey) is an unknown outcome: the caller verifies with ``getRecord`` first."""
        try:
            resp = self._xrpc(
                creds,
                "POST",
                "com.atproto.repo.createRecord",
                budget,
                json={"repo": did, "collection": POST_COLLECTION, "rkey": rkey, "record": record},
                idempotent=False,
            )
        except (RateLimited, AuthError, UnknownOutcome):
            raise
        except PlatformError as refused:
            if budget is not None:
                try:
                    budget.spend(default_timeout())
                except OutOfBudget:
                    if refused.status is None or refused.status < 500:
                        raise refused from None  # refused for a reason of its own: nothing was made
                    raise UnknownOutcome(  # a PDS answers a taken rkey with a 500: look in a new call
                        f"{refused.message} (the record may exist: it is looked up next)",
                        platform=PLATFORM,
                        code=refused.code,
                        status=refused.status,
                    ) from refused
            existing = self.get_record(creds, did, rkey, budget=budget)
            if existing is None:
                raise
            logger.info("bluesky_record_existed", extra={"rkey": rkey})
            return {"uri": str(existing["uri"]), "cid": str(existing["cid"])}
        body = json_body(resp, PLATFORM)
        return {"uri": str(body["uri"]), "cid": str(body["cid"])}

    def _reply_refs(
        self, creds: AccountCredentials, uri: str, budget: CallBudget | None = None
    ) -> dict[str, Any]:
        """The reply refs of a post answering ``uri``: its strong ref as parent, its thread's root."""
        repo, collection, rkey = parse_at_uri(uri)
        record = self.get_record(creds, repo, rkey, collection, budget)
        if record is None:
            raise PermanentError(f"the post being replied to does not exist: {uri}", platform=PLATFORM)
        parent = {"uri": str(record["uri"]), "cid": str(record["cid"])}
        root = (record.get("value") or {}).get("reply", {}).get("root") or parent
        return {"root": root, "parent": parent}

    # -- PublishingAdapter ---------------------------------------------------------------------------

    def rkeys(self, request: PublishRequest) -> list[str]:
        """Record keys of every part (first post, thread parts, first comment), in that order."""
        return [record_key(request, part) for part in request.parts]

    def _prepare_root(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> dict[str, Any]:
        """The first post's record: blobs uploaded once (kept in ``state``), facets, the reply refs."""
        embed = self._embed(creds, request, state, budget)
        text = (
            request.text
            if (embed is None or embed["$type"] == "app.bsky.embed.external")
            else (textlib.compose_text(request.text, request.link))
        )
        reply = None
        if request.reply_to:
            budget.spend(default_timeout())
            reply = self._reply_refs(creds, request.reply_to, budget)
        return self.build_record(creds, text, reply, embed, resolve=self._resolver(creds, state, budget))

    def _resolver(
        self, creds: AccountCredentials, state: dict[str, str], budget: CallBudget
    ) -> Callable[[str], str | None]:
        """Mentions resolved once per publish: each DID is kept in ``state`` as it is found, so a later
        step of the same publish goes on from there instead of resolving every handle again."""
        known: dict[str, str] = json.loads(state.get("dids") or "{}")

        def resolve(handle: str) -> str | None:
            if handle not in known:
                budget.spend(default_timeout())
                known[handle] = self.resolve_handle(creds, handle) or ""
                state["dids"] = json.dumps(known, separators=(",", ":"))
            return known[handle] or None

        return resolve

    def _refs_for_reply_to(
        self, creds: AccountCredentials, uri: str, known: dict[str, dict[str, Any]], budget: CallBudget
    ) -> dict[str, Any]:
        """The reply refs (root, parent) of a post answering ``uri``: from this call's creates, else read
        from the PDS (a resumed publish: the part landed in an earlier call)."""
        if uri not in known:
            budget.spend(default_timeout())
            known[uri] = self._reply_refs(creds, uri, budget)
        return known[uri]

    def _create_part(
        self,
        creds: AccountCredentials,
        did: str,
        rkey: str,
        record: dict[str, Any],
        root: dict[str, Any] | None,
        known: dict[str, dict[str, Any]],
        budget: CallBudget,
        url: str | None = None,
    ) -> tuple[str, str | None]:
        made = self._create(creds, did, rkey, record, budget)
        known[made["uri"]] = {"root": root or made, "parent": made}
        return made["uri"], url

    def _advance(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str]
    ) -> PublishResult | PendingStep:
        progress = request.progress
        budget = CallBudget(self.request_budget_s)
        known: dict[str, dict[str, Any]] = {}  # uri -> reply refs of a post answering it
        try:
            if self._needs_session(creds):
                budget.spend(default_timeout(), default_timeout())  # refresh, or a new session
            did = self._renewed_session(creds).did
            for part in request.parts:
                if progress.done(part) is not None:
                    continue
                rkey = record_key(request, part)
                if part == ROOT:
                    record = self._prepare_root(creds, request, state, budget)
                    root = record.get("reply", {}).get("root")
                    create = partial(
                        self._create_part, creds, did, rkey, record, root, known, budget, post_url(did, rkey)
                    )
                else:
                    refs = self._refs_for_reply_to(
                        creds, partlib.parent_id(request, part) or "", known, budget
                    )
                    text = partlib.followup_text(request, part)
                    record = self.build_record(
                        creds, text, refs, resolve=self._resolver(creds, state, budget)
                    )
                    create = partial(self._create_part, creds, did, rkey, record, refs["root"], known, budget)
                budget.spend(default_timeout())
                progress.step(part, create, idempotent=True)  # a fixed rkey: the PDS cannot make it twice
        except OutOfBudget:
            return PendingStep(RESUME_STEP, state, delay_seconds=0)
        root_uri = progress.landed[ROOT]
        logger.info("bluesky_published", extra={"target_id": request.target_id, "uri": root_uri})
        _, _, root_rkey = parse_at_uri(root_uri)
        return PublishResult(
            platform_post_id=root_uri,
            url=progress.root_url or post_url(did, root_rkey),
            part_ids=tuple(progress.landed[p] for p in request.parts if p != ROOT),
        )

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        return self._advance(creds, request, {})

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        return self._advance(creds, request, partlib.resumed_state(step, (RESUME_STEP,), PLATFORM, "Bluesky"))

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        did = self.session_for(creds).did
        rkey = record_key(request, ROOT)
        record = self.get_record(creds, did, rkey)
        if record is None:
            return None
        return PublishResult(platform_post_id=str(record["uri"]), url=post_url(did, rkey))

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        """The record of ``part`` under its persisted record key, if the PDS has it."""
        did = self.session_for(creds).did
        record = self.get_record(creds, did, record_key(request, part))
        return None if record is None else str(record["uri"])

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

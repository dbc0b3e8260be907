"""A Bluesky PDS's repo API on a FakePlatform (XRPC as the atproto lexicons define it): createRecord
with a caller-chosen rkey, getRecord, uploadBlob, sessions. Records: ``post`` and ``blob``; the chat
service behind it (:class:`BlueskyChatFake`): ``chat``.

Like the reference PDS, a ``createRecord`` whose rkey is taken is answered 500 InternalServerError
(bluesky-social/atproto#3718). Stricter than a PDS (which leaves that to the AppView), a reply whose
root or parent strong ref names no record of this repo, or a wrong cid, is refused: a resumed thread
must point at what really landed."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tests.faults.harness import FakePlatform, Reply, Request

CREATE = r"/xrpc/com\.atproto\.repo\.createRecord"
GET = r"/xrpc/com\.atproto\.repo\.getRecord"
UPLOAD = r"/xrpc/com\.atproto\.repo\.uploadBlob"
CREATE_SESSION = r"/xrpc/com\.atproto\.server\.createSession"
FILES = r"/media/(.+)"
DID = "did:plc:brandbrandbrandbrand00"
POSTS = "app.bsky.feed.post"


def cid_of(value: Any) -> str:
    return "bafyrei" + hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:40]


class BlueskyFake:
    def __init__(self, platform: FakePlatform, did: str = DID, token: str = "tok-1") -> None:
        self.platform = platform
        self.did = did
        self.token = token

    def posts(self) -> list[dict[str, Any]]:
        return self.platform.records.get("post", [])

    def thread(self) -> list[tuple[str, str | None, str | None]]:
        """(text, text of the parent, text of the root) of every post, in creation order."""
        by_uri = {p["uri"]: p for p in self.posts()}

        def text_at(ref: dict[str, Any] | None) -> str | None:
            return by_uri[ref["uri"]]["value"]["text"] if ref else None

        return [
            (
                p["value"]["text"],
                text_at(p["value"].get("reply", {}).get("parent")),
                text_at(p["value"].get("reply", {}).get("root")),
            )
            for p in self.posts()
        ]

    def install(self) -> BlueskyFake:
        route = self.platform.route
        route("POST", CREATE, self._create)
        route("GET", GET, self._get)
        route("POST", UPLOAD, self._upload)
        route("POST", CREATE_SESSION, self._session)
        route("GET", FILES, lambda req, m: Reply(200, b"\x89PNG bytes of " + m.group(1).encode()))
        return self

    def _authorized(self, req: Request) -> bool:
        return req.headers.get("Authorization") == f"Bearer {self.token}"

    def _find(self, uri: str) -> dict[str, Any] | None:
        return next((p for p in self.posts() if p["uri"] == uri), None)

    def _create(self, req: Request, match: re.Match[str]) -> Any:
        if not self._authorized(req):
            return Reply(400, {"error": "InvalidToken", "message": "Bad token"})
        body = req.json or {}
        record, rkey = body.get("record") or {}, body.get("rkey")
        if body.get("repo") != self.did or body.get("collection") != POSTS or not rkey:
            return Reply(
                400, {"error": "InvalidRequest", "message": "repo, collection and rkey are required"}
            )
        uri = f"at://{self.did}/{POSTS}/{rkey}"
        for ref in (record.get("reply") or {}).values():
            found = self._find(ref.get("uri", ""))
            if found is None or found["cid"] != ref.get("cid"):
                return Reply(400, {"error": "InvalidRequest", "message": f"reply ref {ref} names no record"})
        with self.platform.lock:
            if self._find(uri) is not None:
                return Reply(500, {"error": "InternalServerError", "message": "Internal Server Error"})
            made = self.platform.create(
                "post", {"id": rkey, "uri": uri, "cid": cid_of(record), "value": record}
            )
        return {"uri": made["uri"], "cid": made["cid"], "validationStatus": "valid"}

    def _get(self, req: Request, match: re.Match[str]) -> Any:
        q = req.query
        found = self._find(f"at://{q.get('repo')}/{q.get('collection')}/{q.get('rkey')}")
        if found is None:
            return Reply(400, {"error": "RecordNotFound", "message": f"Could not locate record: {q}"})
        return {"uri": found["uri"], "cid": found["cid"], "value": found["value"]}

    def _upload(self, req: Request, match: re.Match[str]) -> Any:
        link = "bafkrei" + hashlib.sha256(req.body).hexdigest()[:40]
        blob = {
            "$type": "blob",
            "ref": {"$link": link},
            "mimeType": req.headers.get_content_type(),
            "size": len(req.body),
        }
        self.platform.create("blob", {"id": link, **blob})
        return {"blob": blob}

    def _session(self, req: Request, match: re.Match[str]) -> Any:
        return {"did": self.did, "handle": "brand.test", "accessJwt": self.token, "refreshJwt": "refresh-1"}


SEND_MESSAGE = r"/xrpc/chat\.bsky\.convo\.sendMessage"
GET_LOG = r"/xrpc/chat\.bsky\.convo\.getLog"
GET_MESSAGES = r"/xrpc/chat\.bsky\.convo\.getMessages"
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"


class BlueskyChatFake:
    """The chat service behind a PDS (``chat.bsky.convo.*`` as the lexicons define them, answered only
    with the ``atproto-proxy`` header naming the chat service, as a PDS forwards them). Records
    ``chat``: every message, in the order sent (the log's order); the log's cursor is a message's rev.
    ``refuse`` names a lexicon error every sendMessage is answered with (``MessagesDisabled``, ...).
    ``tokens`` are the sessions it serves; a session in ``unprivileged`` (an app password created without
    access to direct messages) is answered as the PDS answers it: 400 ``InvalidToken`` "Bad token method"."""

    def __init__(self, platform: FakePlatform, now: Callable[[], datetime], did: str = DID,
                 token: str = "tok-1") -> None:  # fmt: skip
        self.platform = platform
        self.now = now
        self.did = did
        self.token = token
        self.tokens = {token}
        self.unprivileged: set[str] = set()
        self.refuse: str | None = None

    def install(self) -> BlueskyChatFake:
        self.platform.route("POST", SEND_MESSAGE, self._send)
        self.platform.route("GET", GET_LOG, self._log)
        self.platform.route("GET", GET_MESSAGES, self._messages)
        return self

    def messages(self) -> list[dict[str, Any]]:
        return self.platform.records.get("chat", [])

    def say(self, convo: str, sender: str, text: str, handle: str = "fan.test") -> dict[str, Any]:
        """A message someone writes in ``convo``."""
        return self._add(convo, sender, text, handle)

    def sent_by_account(self) -> list[tuple[str, str]]:
        """(convo, text) of every message the account sent."""
        return [(m["convoId"], m["text"]) for m in self.messages() if m["sender"] == self.did]

    def _add(self, convo: str, sender: str, text: str, handle: str) -> dict[str, Any]:
        with self.platform.lock:
            rev = f"rev{len(self.messages()) + 1:06d}"
            stamp = self.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            return self.platform.create("chat", {"id": f"msg-{rev}", "rev": rev, "convoId": convo, "text": text,
                                                 "sender": sender, "handle": handle, "sentAt": stamp})  # fmt: skip

    @staticmethod
    def _view(message: dict[str, Any]) -> dict[str, Any]:
        return {"$type": "chat.bsky.convo.defs#messageView", "id": message["id"], "rev": message["rev"],
                "text": message["text"], "sender": {"did": message["sender"]}, "sentAt": message["sentAt"]}  # fmt: skip

    def _refused(self, req: Request) -> Reply | None:
        if req.headers.get("atproto-proxy") != CHAT_PROXY:
            return Reply(
                400, {"error": "InvalidRequest", "message": "chat methods need the atproto-proxy header"}
            )
        if req.headers.get("Authorization") in {f"Bearer {t}" for t in self.unprivileged}:
            return Reply(400, {"error": "InvalidToken", "message": "Bad token method"})
        if req.headers.get("Authorization") not in {f"Bearer {t}" for t in self.tokens}:
            return Reply(400, {"error": "InvalidToken", "message": "Bad token"})
        return None

    def _send(self, req: Request, match: re.Match[str]) -> Any:
        refused = self._refused(req)
        if refused is not None:
            return refused
        body = req.json or {}
        text = (body.get("message") or {}).get("text")
        if not body.get("convoId") or not isinstance(text, str):
            return Reply(400, {"error": "InvalidRequest", "message": "convoId and message.text are required"})
        if self.refuse:
            return Reply(400, {"error": self.refuse, "message": self.refuse})
        return self._view(self._add(str(body["convoId"]), self.did, text, "brand.test"))

    def _log(self, req: Request, match: re.Match[str]) -> Any:
        refused = self._refused(req)
        if refused is not None:
            return refused
        after = req.query.get("cursor") or ""
        fresh = [m for m in self.messages() if m["rev"] > after]
        logs = [{"$type": "chat.bsky.convo.defs#logCreateMessage", "rev": m["rev"], "convoId": m["convoId"],
                 "message": self._view(m), "relatedProfiles": [{"did": m["sender"], "handle": m["handle"]}]}
                for m in fresh]  # fmt: skip
        newest = (
            fresh[-1]["rev"]
            if fresh
            else (after or (self.messages()[-1]["rev"] if self.messages() else "rev0"))
        )
        return {"cursor": newest, "logs": logs}

    def _messages(self, req: Request, match: re.Match[str]) -> Any:
        refused = self._refused(req)
        if refused is not None:
            return refused
        convo = req.query.get("convoId")
        found = [self._view(m) for m in reversed(self.messages()) if m["convoId"] == convo]
        return {"messages": found[: int(req.query.get("limit") or 50)]}

"""A Bluesky PDS's repo API on a FakePlatform (XRPC as the atproto lexicons define it): createRecord
with a caller-chosen rkey, getRecord, uploadBlob, sessions. Records: ``post`` and ``blob``.

Like the reference PDS, a ``createRecord`` whose rkey is taken is answered 500 InternalServerError
(bluesky-social/atproto#3718). Stricter than a PDS (which leaves that to the AppView), a reply whose
root or parent strong ref names no record of this repo, or a wrong cid, is refused: a resumed thread
must point at what really landed."""

from __future__ import annotations

import hashlib
import json
import re
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

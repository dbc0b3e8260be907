"""Plain XRPC over ``requests`` for what the *other* people on the local network do in the scenarios:
create accounts and app passwords, post, reply, mention, like, repost, and read what the PDS and the
AppView hold. Chorus's own calls never go through here."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

_names = itertools.count(1)


@dataclass
class Actor:
    did: str
    handle: str
    password: str
    access_jwt: str

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_jwt}"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Network:
    def __init__(self, pds: str, appview: str) -> None:
        self.pds = pds.rstrip("/")
        self.appview = appview.rstrip("/")
        self.http = requests.Session()

    def _call(self, method: str, base: str, nsid: str, actor: Actor | None = None, **kw: Any) -> Any:
        headers = {**kw.pop("headers", {}), **(actor.auth() if actor else {})}
        answer = self.http.request(method, f"{base}/xrpc/{nsid}", headers=headers, timeout=15, **kw)
        if answer.status_code >= 400:
            raise AssertionError(f"{nsid}: HTTP {answer.status_code} {answer.text}")
        return answer.json() if answer.content else {}

    def procedure(self, nsid: str, actor: Actor | None = None, **body: Any) -> Any:
        return self._call("POST", self.pds, nsid, actor, json=body)

    def query(self, nsid: str, actor: Actor | None = None, **params: Any) -> Any:
        return self._call("GET", self.pds, nsid, actor, params=params)

    def appview_query(self, nsid: str, **params: Any) -> Any:
        return self._call("GET", self.appview, nsid, params=params)

    # ---------------------------------------------------------------- accounts
    def create_account(self, prefix: str) -> Actor:
        handle = f"{prefix}{next(_names)}{secrets.token_hex(2)}.test"
        password = secrets.token_urlsafe(12)
        made = self.procedure(
            "com.atproto.server.createAccount",
            handle=handle,
            email=f"{handle}@example.com",
            password=password,
        )
        return Actor(made["did"], made["handle"], password, made["accessJwt"])

    def create_app_password(self, actor: Actor, name: str) -> str:
        return str(self.procedure("com.atproto.server.createAppPassword", actor, name=name)["password"])

    def revoke_app_password(self, actor: Actor, name: str) -> None:
        self.procedure("com.atproto.server.revokeAppPassword", actor, name=name)

    # ---------------------------------------------------------------- records
    def create_record(self, actor: Actor, collection: str, record: dict[str, Any]) -> dict[str, str]:
        made = self.procedure(
            "com.atproto.repo.createRecord", actor, repo=actor.did, collection=collection, record=record
        )
        return {"uri": made["uri"], "cid": made["cid"]}

    def post(self, actor: Actor, text: str, **fields: Any) -> dict[str, str]:
        record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": _now(), **fields}
        return self.create_record(actor, "app.bsky.feed.post", record)

    def mention_post(self, actor: Actor, text: str, handle: str, did: str) -> dict[str, str]:
        """A post whose ``@handle`` carries a mention facet, as the official clients write it."""
        at = f"@{handle}"
        start = text.encode("utf-8").index(at.encode("utf-8"))
        facet = {
            "index": {"byteStart": start, "byteEnd": start + len(at.encode("utf-8"))},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
        }
        return self.post(actor, text, facets=[facet])

    def reply(self, actor: Actor, text: str, parent_uri: str) -> dict[str, str]:
        parent = self.get_record(parent_uri)
        ref = {"uri": parent["uri"], "cid": parent["cid"]}
        root = (parent["value"].get("reply") or {}).get("root") or ref
        return self.post(actor, text, reply={"root": root, "parent": ref})

    def like(self, actor: Actor, subject: dict[str, str]) -> dict[str, str]:
        record = {"$type": "app.bsky.feed.like", "subject": subject, "createdAt": _now()}
        return self.create_record(actor, "app.bsky.feed.like", record)

    def repost(self, actor: Actor, subject: dict[str, str]) -> dict[str, str]:
        record = {"$type": "app.bsky.feed.repost", "subject": subject, "createdAt": _now()}
        return self.create_record(actor, "app.bsky.feed.repost", record)

    def follow(self, actor: Actor, did: str) -> dict[str, str]:
        record = {"$type": "app.bsky.graph.follow", "subject": did, "createdAt": _now()}
        return self.create_record(actor, "app.bsky.graph.follow", record)

    def get_record(self, uri: str) -> dict[str, Any]:
        repo, collection, rkey = uri[len("at://") :].split("/")
        found: dict[str, Any] = self.query(
            "com.atproto.repo.getRecord", repo=repo, collection=collection, rkey=rkey
        )
        return found

    def posts_of(self, did: str) -> list[dict[str, Any]]:
        """Every app.bsky.feed.post record in the repo, straight from the PDS."""
        listed = self.query(
            "com.atproto.repo.listRecords", repo=did, collection="app.bsky.feed.post", limit=100
        )
        return list(listed["records"])

    def appview_post(self, uri: str) -> dict[str, Any] | None:
        """The post as the AppView serves it (counts included), or None while it is not indexed."""
        posts = self.appview_query("app.bsky.feed.getPosts", uris=[uri])["posts"]
        return dict(posts[0]) if posts else None

    def thread_replies(self, uri: str) -> list[dict[str, Any]]:
        thread = self.appview_query("app.bsky.feed.getPostThread", uri=uri, depth=5)["thread"]
        return [r["post"] for r in thread.get("replies", [])]

"""What changed in a post since it was last approved (``GET /posts/{id}/changes``): the reviewer of a
post that comes back for approval reads only what is new.

The baseline is the version the last approval named (``chorus.store.approvals``, written with the
approval). The diff is given for the post's own content (``base``) and for each account's variant
(an account that has, or had, its own text): the text word by word (runs of ``same``, ``removed`` and
``added`` words, whitespace kept, so the runs joined give the old or the new text back), media added
and removed (a file is the same file when its upload key or URL is), the other fields that changed
(title, link, first comment, thread parts, platform options), accounts added and removed, and the time
moved. A post never approved has no baseline: ``approved`` is null and every part of it is new."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from chorus.auth.keys import Principal
from chorus.posts.model import Content, MediaRef, Post
from chorus.posts.service import get_post
from chorus.store.approvals import Approved, last_approved

WORDS = re.compile(r"\s+|\S+")


@dataclass(frozen=True)
class Run:
    op: str  # same | removed | added
    text: str

    def public(self) -> dict[str, str]:
        return {"op": self.op, "text": self.text}


def word_diff(before: str, after: str) -> list[Run]:
    """``before`` -> ``after`` word by word: runs whose ``same`` and ``removed`` texts joined give
    ``before``, and whose ``same`` and ``added`` texts joined give ``after``."""
    old, new = WORDS.findall(before), WORDS.findall(after)
    runs: list[Run] = []

    def add(op: str, words: list[str]) -> None:
        if not words:
            return
        if runs and runs[-1].op == op:
            runs[-1] = Run(op, runs[-1].text + "".join(words))
        else:
            runs.append(Run(op, "".join(words)))

    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            add("same", old[i1:i2])
        else:
            add("removed", old[i1:i2])
            add("added", new[j1:j2])
    return runs


def _media_id(ref: MediaRef) -> str:
    return ref.key or ref.url or ""


def _media_public(ref: MediaRef) -> dict[str, Any]:
    name = _media_id(ref).rstrip("/").rsplit("/", 1)[-1]
    return {**ref.to_dict(), "name": name}


@dataclass(frozen=True)
class ContentChanges:
    """One content (the post's own, or an account's variant) before and after."""

    account_id: str | None  # None: the post's own content (every account without a variant)
    text: list[Run]
    media_added: list[MediaRef]
    media_removed: list[MediaRef]
    fields: list[dict[str, Any]]  # {"field", "before", "after"} of title, link, first_comment, options
    thread: list[dict[str, Any]]  # {"part": n (1 = the first reply), "text": [runs]} of changed parts

    @property
    def changed(self) -> bool:
        return any(r.op != "same" for r in self.text) or bool(
            self.media_added or self.media_removed or self.fields or self.thread
        )

    def public(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "changed": self.changed,
            "text_changed": any(r.op != "same" for r in self.text),
            "text": [r.public() for r in self.text],
            "media_added": [_media_public(m) for m in self.media_added],
            "media_removed": [_media_public(m) for m in self.media_removed],
            "fields": self.fields,
            "thread": self.thread,
        }


def content_changes(account_id: str | None, before: Content, after: Content) -> ContentChanges:
    old_media = {_media_id(m): m for m in before.media}
    new_media = {_media_id(m): m for m in after.media}
    fields = [
        {"field": name, "before": was, "after": now}
        for name, was, now in (
            ("title", before.title, after.title),
            ("link", before.link, after.link),
            ("first_comment", before.first_comment, after.first_comment),
            ("options", before.options, after.options),
        )
        if (was or None) != (now or None)
    ]
    thread = [
        {"part": n + 1, "text": [r.public() for r in word_diff(was, now)]}
        for n in range(max(len(before.thread), len(after.thread)))
        if (was := before.thread[n] if n < len(before.thread) else "")
        != (now := after.thread[n] if n < len(after.thread) else "")
    ]
    return ContentChanges(
        account_id=account_id,
        text=word_diff(before.text, after.text),
        media_added=[m for k, m in new_media.items() if k not in old_media],
        media_removed=[m for k, m in old_media.items() if k not in new_media],
        fields=fields,
        thread=thread,
    )


@dataclass(frozen=True)
class Changes:
    post: Post
    approved: Approved | None
    contents: list[ContentChanges]
    accounts_added: list[str]
    accounts_removed: list[str]
    scheduled_before: datetime | None
    scheduled_after: datetime | None

    @property
    def time_moved(self) -> bool:
        return self.approved is not None and self.scheduled_before != self.scheduled_after

    @property
    def changed(self) -> bool:
        return self.approved is None or bool(
            self.time_moved
            or self.accounts_added
            or self.accounts_removed
            or any(c.changed for c in self.contents)
        )

    def public(self) -> dict[str, Any]:
        last = self.approved
        return {
            "post_id": self.post.id,
            "version": self.post.version,
            "approved": None if last is None else {"version": last.version, "by": last.by, "at": last.at},
            "changed": self.changed,
            "accounts_added": self.accounts_added,
            "accounts_removed": self.accounts_removed,
            "scheduled_at": {
                "before": self.scheduled_before,
                "after": self.scheduled_after,
                "moved": self.time_moved,
            },
            "contents": [c.public() for c in self.contents],
        }


def diff(approved: Approved | None, post: Post) -> Changes:
    """``post`` against ``approved`` (None: against nothing, all of it new)."""
    base = approved or Approved(post.id, 0, "", post.created_at, Content(), {}, (), None, post.timezone)
    # each account of the post that has, or had, its own variant (a removed account is listed as removed)
    with_variant = [a for a in post.account_ids if a in post.variants or a in base.variants]
    contents = [content_changes(None, base.content, post.content)] + [
        content_changes(a, base.content_for(a), post.content_for(a)) for a in with_variant
    ]
    return Changes(
        post=post,
        approved=approved,
        contents=contents,
        accounts_added=[a for a in post.account_ids if a not in base.account_ids] if approved else [],
        accounts_removed=[a for a in base.account_ids if a not in post.account_ids],
        scheduled_before=base.scheduled_at,
        scheduled_after=post.scheduled_at,
    )


def changes_since_approval(principal: Principal, post_id: str) -> Changes:
    """``GET /posts/{id}/changes``: the post as the caller may see it, against its last approval (the
    accounts the caller may not see are left out of both)."""
    post = get_post(principal, post_id)  # NotFound for a post of none of the caller's accounts
    approved = last_approved(principal.workspace_id, post_id)
    return diff(approved.only(principal.accounts) if approved else None, post)

"""What follows a target that became ``published``, read from the main table's stream in batches.

The publisher (and a person marking a reminder posted) moves the target to ``published`` with its
platform post id; the stream record of that write is all the rest needs, so no event is sent and no
function is invoked per post (docs/scaling.md: the stream's reads are not billed, a batch holds up to
100 records):

* the inbox links the platform post to the Chorus post (:func:`chorus.inbox.store.save_post_link`),
  so a comment on it is linked;
* metric collection follows it (:func:`chorus.metrics.service.follow_published_batch`): noted in the
  metrics store and on the ladder, each account's entry written once a batch.

A target "became published" when its new image is ``published`` and its old one is not: a thread
whose root landed (its ``platform_post_id`` written) before the final transition counts once, at that
transition, and later writes of a published target count never. Account inserts and removals go to
the inbox's poll index (:func:`chorus.inbox.links.on_stream_record`); a removed account's authorisations
are then revoked at its platform from the record's old image, after the batch's other work (a revoke
never raises: :func:`chorus.accounts.revocation.on_account_removed`). Both followers are idempotent (a
link is a put of the same item; a followed post's note and entry are conditional puts), so a batch the
stream delivers again changes nothing. A notification listed or read tells its person's live
connections, once a batch (:func:`chorus.notifications.push_changed`: their unread badge re-reads; a
batch delivered again only makes it re-read again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from chorus.accounts.revocation import on_account_removed
from chorus.inbox.links import on_stream_record
from chorus.inbox.store import save_post_link
from chorus.metrics.service import follow_published_batch, stored_post_text
from chorus.notifications import lists_changed, push_changed

Image = Mapping[str, Any]


def became_published(new: Image, old: Image) -> bool:
    """The write that moved a target to ``published`` (with its platform post id)."""
    return (
        new.get("kind") == "target"
        and new.get("state") == "published"
        and bool(new.get("platform_post_id"))
        and old.get("state") != "published"
    )


def on_table_changes(
    changes: Iterable[tuple[str, Image, Image]],
    *,
    link: Callable[[str, str, str, str], None] = save_post_link,
    follow: Callable[[Sequence[tuple[str, Mapping[str, Any], str]]], object] = follow_published_batch,
    text_of: Callable[[str, str | None, str], str] = stored_post_text,
    tell_live: Callable[[set[tuple[str, str]]], object] = push_changed,
    revoke: Callable[[Image], object] = on_account_removed,
) -> int:
    """Handle a batch of stream records (event name, new image, old image); the count of records acted on."""
    handled = 0
    published: list[tuple[str, Mapping[str, Any], str]] = []
    others: list[tuple[str, Image, Image]] = []
    for event_name, new, old in changes:
        if new.get("kind") != "target" and old.get("kind") != "target":
            handled += on_stream_record(event_name, new, old)
            others.append((event_name, new, old))
            continue
        if not became_published(new, old):
            continue
        workspace_id, account_id = str(new["workspace_id"]), str(new["account_id"])
        post_id = str(new["post_id"])
        link(workspace_id, account_id, str(new["platform_post_id"]), post_id)
        published.append((workspace_id, new, text_of(workspace_id, post_id, account_id)))
        handled += 1
    if published:
        follow(published)
    people = lists_changed(others)
    if people:
        tell_live(people)
    for event_name, _, old in others:
        if event_name == "REMOVE" and old.get("kind") == "account":
            revoke(old)
    return handled + len(people)

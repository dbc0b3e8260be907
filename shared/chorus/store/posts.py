"""Repository of posts and publish targets: every state change is a conditional write."""

from __future__ import annotations

import functools
import operator
import uuid
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chorus.errors import Conflict, NotFound
from chorus.platforms.base import ROOT
from chorus.posts.model import Attempt, Content, Mode, Post, Target, TargetState
from chorus.store import keys, models
from chorus.store.batch import BATCH_GET_MAX, batch_get
from chorus.store.models import (
    MainItem,
    PostItem,
    SchedulerStateItem,
    TargetItem,
    bind,
    conditional_failed,
    connection,
)
from chorus.store.pages import Page, PageRequest, prefix_page

MAX_LOG = 20


class Unset:
    """Marks an argument that was not given (None means: remove the attribute)."""


UNSET = Unset()


def _to_target(item: TargetItem) -> Target:
    return Target(
        workspace_id=item.workspace_id,
        post_id=item.post_id,
        account_id=item.account_id,
        platform=item.platform,
        state=TargetState(item.state),
        due_at=item.due_at,
        queue_token=item.queue_token,
        attempts=int(item.attempts or 0),
        attempt_log=tuple(
            Attempt(keys.parse_iso(a["at"]), a["outcome"], a.get("detail", ""), a.get("status"))
            for a in (item.attempt_log or [])
        ),
        platform_post_id=item.platform_post_id,
        url=item.url,
        error=item.error,
        error_code=item.error_code,
        step=item.step,
        step_state=dict(item.step_state or {}),
        published_at=item.published_at,
        idem_key=item.idem_key,
        started_at=item.started_at,
        parts={str(k): str(v) for k, v in (item.parts.as_dict() if item.parts else {}).items()},  # type: ignore[no-untyped-call]
        sent_parts=frozenset(item.sent_parts or ()),
        verify_looks=int(item.verify_looks or 0),
        reminded_at=item.reminded_at,
        overdue_at=item.overdue_at,
    )


def _to_post(item: PostItem, targets: Iterable[Target] = ()) -> Post:
    content = item.content or {}
    return Post(
        workspace_id=item.workspace_id,
        id=item.post_id,
        content=Content.from_dict(content.get("base", {})),
        variants={k: Content.from_dict(v) for k, v in (content.get("variants") or {}).items()},
        account_ids=tuple(item.account_ids or []),
        mode=Mode(item.mode),
        scheduled_at=item.scheduled_at,
        timezone=item.timezone,
        created_by=item.created_by,
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 1),
        approval=item.approval,
        series_id=item.series_id,
        targets=tuple(targets),
        campaign_id=item.campaign_id,
        utm=dict(item.utm or {}),
        assignee=item.assignee,
        tags=tuple(sorted(item.tags or ())),
    )


def post_item(post: Post) -> PostItem:
    item = PostItem(
        keys.workspace_pk(post.workspace_id),
        keys.post_sk(post.id),
        workspace_id=post.workspace_id,
        post_id=post.id,
        content={
            "base": post.content.to_dict(),
            "variants": {k: v.to_dict() for k, v in post.variants.items()},
        },
        account_ids=list(post.account_ids),
        scheduled_at=post.scheduled_at,
        timezone=post.timezone,
        mode=post.mode.value,
        approval=post.approval,
        created_by=post.created_by,
        created_at=post.created_at,
        updated_at=post.updated_at,
        version=post.version,
        series_id=post.series_id,
        assignee=post.assignee,
        campaign_id=post.campaign_id,
        utm=dict(post.utm) or None,
        tags=set(post.tags) or None,
    )
    if post.scheduled_at:
        item.gsi2pk = keys.calendar_pk(post.workspace_id)
        item.gsi2sk = keys.calendar_sk(post.scheduled_at, post.id)
    return item


#: States whose write leaves a target's gsi3 DUE entry where it is: the claim and the ``published``
#: write cost the KEYS_ONLY index nothing. A message the scheduler sends for such a key again (a run
#: that read a bucket twice) is refused by the claim.
LEAVE_DUE_KEY = frozenset({TargetState.PUBLISHING, TargetState.PUBLISHED})


def index_fields(
    state: TargetState,
    due_at: datetime | None,
    workspace_id: str,
    tid: str,
    overdue_at: datetime | None = None,
) -> dict[str, Any]:
    """The sparse index entries a target in ``state`` carries: name -> value, None to remove it; a name
    absent from the answer is left as it is (the gsi3 DUE key of a target moving to a state of
    :data:`LEAVE_DUE_KEY`). A scheduled target is in the DUE bucket of its due minute (gsi3, KEYS_ONLY),
    one awaiting a person in the MANUAL bucket of the minute it becomes overdue (gsi1, where the
    scheduler's overdue sweep finds it), one the publisher sent a message for in a QUEUED bucket (gsi1);
    a move to any other state (paused, cancelled, failed, ...) removes its DUE key."""
    fields: dict[str, Any] = {"gsi1pk": None, "gsi1sk": None, "gsi2pk": None, "gsi2sk": None}
    if state not in LEAVE_DUE_KEY:
        fields.update(gsi3pk=None, gsi3sk=None)
    if state is TargetState.AWAITING_MANUAL and overdue_at:
        fields.update(gsi1pk=keys.due_bucket(overdue_at, "MANUAL"), gsi1sk=keys.due_sort_key(overdue_at, tid))
    elif state is TargetState.SCHEDULED and due_at:
        fields.update(gsi3pk=keys.due_bucket(due_at), gsi3sk=keys.due_sort_key(due_at, tid))
    elif state in {TargetState.QUEUED, TargetState.VERIFYING, TargetState.PROCESSING}:
        expected = due_at or datetime.now(UTC)
        fields.update(gsi1pk=keys.due_bucket(expected, "QUEUED"), gsi1sk=keys.due_sort_key(expected, tid))
    elif state is TargetState.PAUSED:
        fields.update(gsi2pk=keys.paused_pk(workspace_id), gsi2sk=tid)
    return fields


def target_item(target: Target) -> TargetItem:
    item = TargetItem(
        keys.workspace_pk(target.workspace_id),
        keys.target_sk(target.post_id, target.account_id),
        workspace_id=target.workspace_id,
        post_id=target.post_id,
        account_id=target.account_id,
        platform=target.platform,
        state=target.state.value,
        due_at=target.due_at,
        attempts=target.attempts,
        queue_token=target.queue_token,
        updated_at=datetime.now(UTC),
    )
    for k, v in index_fields(target.state, target.due_at, target.workspace_id, target.id).items():
        setattr(item, k, v)
    return item


def create_posts(posts: list[Post]) -> None:
    """Write posts and their targets, all or nothing per transaction of up to 100 items."""
    bind()
    items: list[MainItem] = []
    for post in posts:
        items.append(post_item(post))
        items.extend(target_item(t) for t in post.targets)
    chunk: list[MainItem] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == 100:
            _put_all(chunk)
            chunk = []
    if chunk:
        _put_all(chunk)


def bulk_load_posts(posts: list[Post]) -> None:
    """BatchWrite without conditions: for loading data sets (benchmarks, migrations), not for requests."""
    bind()
    with MainItem.batch_write() as batch:
        for post in posts:
            batch.save(post_item(post))
            for target in post.targets:
                batch.save(target_item(target))


def transaction() -> TransactWrite:
    """A write transaction with a fresh ClientRequestToken: the SDK's retry of one whose answer was lost
    (a timeout) is answered as the first was, not cancelled by the conditions it met itself (a created
    post would otherwise answer 409 Conflict to its own retry)."""
    return TransactWrite(connection=connection(), client_request_token=uuid.uuid4().hex)


def _put_all(items: list[MainItem]) -> None:
    with transaction() as tx:
        for item in items:
            tx.save(item, condition=MainItem.pk.does_not_exist())


def get_post(workspace_id: str, post_id: str, consistent: bool = False, with_targets: bool = True) -> Post:
    bind()
    try:
        item = PostItem.get(
            keys.workspace_pk(workspace_id), keys.post_sk(post_id), consistent_read=consistent
        )
    except DoesNotExist as exc:
        raise NotFound(f"post {post_id} not found") from exc
    return _to_post(item, targets_of(workspace_id, post_id, consistent) if with_targets else ())


def targets_of(workspace_id: str, post_id: str, consistent: bool = False) -> list[Target]:
    bind()
    return [
        _to_target(i)
        for i in TargetItem.query(
            keys.workspace_pk(workspace_id),
            TargetItem.sk.startswith(keys.target_prefix(post_id)),
            consistent_read=consistent,
        )
    ]


def list_posts(workspace_id: str, limit: int = 100) -> list[Post]:
    bind()
    items = PostItem.query(
        keys.workspace_pk(workspace_id),
        PostItem.sk.startswith(keys.post_sk("")),
        scan_index_forward=False,
        limit=limit,
    )
    return _with_targets(workspace_id, list(items))


def posts_page(workspace_id: str, page: PageRequest, status: str | None = None) -> Page[Post]:
    """One page of the workspace's posts, newest first (of ``status`` only when given: at most
    ``page.limit`` read, so a filtered page may hold fewer)."""
    bind()
    found = prefix_page(PostItem, keys.workspace_pk(workspace_id), keys.post_sk(""), page, newest_first=True)
    posts = _with_targets(workspace_id, list(found.items))
    return Page([p for p in posts if status is None or p.status == status], found.next_cursor)


def calendar(workspace_id: str, start: datetime, end: datetime) -> list[Post]:
    """Posts planned or published between ``start`` and ``end`` (one index range read, and their
    targets in batch reads)."""
    bind()
    found = MainItem.calendar_index.query(
        keys.calendar_pk(workspace_id),
        MainItem.gsi2sk.between(keys.iso(start), keys.iso(end) + "~"),
    )
    return _with_targets(workspace_id, [i for i in found if isinstance(i, PostItem)])


CALENDAR_READERS = 4  # BatchGetItem calls of a calendar in flight at once (100 targets each)


def calendar_view(
    workspace_id: str,
    start: datetime,
    end: datetime,
    *,
    campaign_id: str | None = None,
    tag: str | None = None,
    accounts: frozenset[str] | None = None,
) -> list[Post]:
    """The posts planned or published between ``start`` and ``end`` as the calendar shows them: one
    range read of the calendar index (``campaign_id``, ``tag``: filtered there, to that campaign's posts,
    to the posts with that tag), then the targets of ``accounts`` (None: all) in BatchGetItem calls of
    100 keys, :data:`CALENDAR_READERS` at once, each target decoded from the raw answer with only what
    ``Target.public`` shows but its attempt log (:func:`_calendar_target`; :func:`calendar` reads whole
    posts through the item models)."""
    bind()
    wanted_posts: list[Condition] = [PostItem.campaign_id == campaign_id] if campaign_id is not None else []
    wanted_posts += [PostItem.tags.contains(tag)] if tag is not None else []
    condition = functools.reduce(operator.and_, wanted_posts) if wanted_posts else None
    found = [
        i
        for i in MainItem.calendar_index.query(
            keys.calendar_pk(workspace_id),
            MainItem.gsi2sk.between(keys.iso(start), keys.iso(end) + "~"),
            filter_condition=condition,
        )
        if isinstance(i, PostItem)
    ]
    pk = keys.workspace_pk(workspace_id)
    wanted = [
        (pk, keys.target_sk(i.post_id, a))
        for i in found
        for a in (i.account_ids or ())
        if accounts is None or a in accounts
    ]
    client, table = connection().client, MainItem.Meta.table_name

    def targets(first: int) -> list[Target]:
        chunk = wanted[first : first + BATCH_GET_MAX]
        return [_calendar_target(workspace_id, raw) for raw in batch_get(client, table, chunk)]

    with ThreadPoolExecutor(CALENDAR_READERS) as pool:
        chunks = list(pool.map(targets, range(0, len(wanted), BATCH_GET_MAX)))
    read = {(t.post_id, t.account_id): t for chunk in chunks for t in chunk}
    return [
        _to_post(i, [read[(i.post_id, a)] for a in (i.account_ids or ()) if (i.post_id, a) in read])
        for i in found
    ]


def _calendar_target(workspace_id: str, raw: Mapping[str, Any]) -> Target:
    """A target from its raw item (DynamoDB JSON), with what the calendar shows: no attempt log, step,
    token, idempotency material or sent parts (decoding each item through ``TargetItem`` was a third of
    the month's read)."""

    def text(name: str) -> str | None:
        value = raw.get(name)
        return str(value["S"]) if value else None

    def when(name: str) -> datetime | None:
        value = raw.get(name)
        return TargetItem.due_at.deserialize(value["S"]) if value else None  # type: ignore[no-untyped-call]

    return Target(
        workspace_id=workspace_id,
        post_id=str(text("post_id")),
        account_id=str(text("account_id")),
        platform=str(text("platform")),
        state=TargetState(raw["state"]["S"]),
        due_at=when("due_at"),
        attempts=int(raw["attempts"]["N"]) if "attempts" in raw else 0,
        platform_post_id=text("platform_post_id"),
        url=text("url"),
        error=text("error"),
        error_code=text("error_code"),
        published_at=when("published_at"),
        parts={str(k): str(v["S"]) for k, v in raw.get("parts", {}).get("M", {}).items()},
        reminded_at=when("reminded_at"),
        overdue_at=when("overdue_at"),
    )


def _with_targets(workspace_id: str, items: list[PostItem]) -> list[Post]:
    """``items`` as posts with their targets (those of each post's ``account_ids``, in account order as
    :func:`targets_of` gives them), read in BatchGetItem calls of up to 100 keys, not a query a post."""
    pk = keys.workspace_pk(workspace_id)
    wanted = list(
        dict.fromkeys((pk, keys.target_sk(i.post_id, a)) for i in items for a in (i.account_ids or ()))
    )
    found: dict[str, list[TargetItem]] = {}
    for target in TargetItem.batch_get(wanted):
        if isinstance(target, TargetItem):
            found.setdefault(target.post_id, []).append(target)
    return [
        _to_post(i, [_to_target(t) for t in sorted(found.get(i.post_id, []), key=lambda t: t.sk)])
        for i in items
    ]


@dataclass(frozen=True)
class SlotHold:
    """A queue post's claim on its slot time, read without its content or targets."""

    post_id: str
    scheduled_at: datetime
    account_ids: tuple[str, ...]


def queue_holds(workspace_id: str, start: datetime, end: datetime) -> list[SlotHold]:
    """Queue-mode posts planned between ``start`` and ``end``: one range read of the calendar index
    (filtered to ``mode = queue``), of only the attributes that place a post, never its targets."""
    bind()
    found = MainItem.calendar_index.query(
        keys.calendar_pk(workspace_id),
        MainItem.gsi2sk.between(keys.iso(start), keys.iso(end) + "~"),
        filter_condition=PostItem.mode == Mode.QUEUE.value,
        attributes_to_get=["kind", "post_id", "scheduled_at", "account_ids"],
    )
    return [
        SlotHold(i.post_id, i.scheduled_at, tuple(i.account_ids or ()))
        for i in found
        if isinstance(i, PostItem) and i.scheduled_at
    ]


def target_states(workspace_id: str, holds: Iterable[SlotHold]) -> dict[str, set[TargetState]]:
    """The states of the targets of each post of ``holds`` (keyed by post id; a post with no target
    item is absent), in BatchGetItem calls of up to 100 keys, never one read a post."""
    bind()
    pk = keys.workspace_pk(workspace_id)
    wanted = list(dict.fromkeys((pk, keys.target_sk(h.post_id, a)) for h in holds for a in h.account_ids))
    states: dict[str, set[TargetState]] = {}
    for item in TargetItem.batch_get(wanted, attributes_to_get=["kind", "post_id", "state"]):
        if isinstance(item, TargetItem):
            states.setdefault(item.post_id, set()).add(TargetState(item.state))
    return states


def transition(
    target: Target,
    to: TargetState,
    *,
    expect: Iterable[TargetState],
    token: str | Unset | None = UNSET,
    new_token: str | Unset | None = UNSET,
    due_at: datetime | Unset | None = UNSET,
    attempt: Attempt | None = None,
    count_attempt: bool = False,
    landed: Mapping[str, tuple[str, str | None]] | None = None,
    message_due: datetime | None = None,
    **fields: Any,
) -> bool:
    """Move ``target`` to ``to`` if it is in one of ``expect`` (and holds ``token``). False if it was not.

    ``landed``: parts that exist on the platform (part -> (platform id, url)) not persisted yet
    (:attr:`chorus.platforms.base.Progress.deferred`), written by the same update. ``message_due``: the
    due time of the message that asks for the move; a ``scheduled`` target must still be due then
    (:func:`message_condition`)."""
    actions, condition = _transition_update(
        target, to, expect, token, new_token, due_at, attempt, count_attempt, fields
    )
    if message_due is not None:
        condition &= message_condition(message_due)
    if landed:  # the root's id and URL only if the transition does not set them itself
        actions += _landed_actions(landed, root=not {"platform_post_id", "url"} & set(fields))
    return _update_if(target, actions, condition) is not None


def _landed_actions(landed: Mapping[str, tuple[str, str | None]], root: bool = True) -> list[Action]:
    """What a part's landing writes: its platform id, its sent mark cleared; the root's id and URL
    (``root``)."""
    actions: list[Action] = [TargetItem.sent_parts.delete(set(landed))]
    for part, (platform_id, url) in landed.items():
        actions.append(Path(["parts", part]).set(platform_id))
        if part == ROOT and root:  # the root is visible at once, before the rest of a thread goes out
            actions.append(TargetItem.platform_post_id.set(platform_id))
            if url:
                actions.append(TargetItem.url.set(url))
    return actions


def transition_at_version(
    post: Post,
    version: int,
    moves: list[tuple[Target, datetime | None]],
    to: TargetState,
    expect: TargetState,
    also: Iterable[MainItem] = (),
) -> bool:
    """Move every target of ``moves`` (with its new due time) from ``expect`` to ``to``, in one
    transaction that holds only while the post is still at ``version`` (the one a reviewer saw), and
    that saves the items of ``also`` with them (an approval's record of the version approved). False,
    and nothing moved or saved, when the post or a target changed meanwhile."""
    bind()
    try:
        with transaction() as tx:
            tx.condition_check(
                PostItem,
                keys.workspace_pk(post.workspace_id),
                keys.post_sk(post.id),
                condition=PostItem.version == version,
            )
            for item in also:
                tx.save(item)
            for target, due in moves:
                actions, condition = _transition_update(
                    target, to, [expect], UNSET, UNSET, due, None, False, {}
                )
                pk, sk = (
                    keys.workspace_pk(target.workspace_id),
                    keys.target_sk(target.post_id, target.account_id),
                )
                tx.update(TargetItem(pk, sk), actions=actions, condition=condition)
    except TransactWriteError:
        return False
    return True


def message_condition(due: datetime) -> Condition:
    """What a publish message for ``due`` may act on besides its token: a ``queued`` target, or a
    ``scheduled`` one still due at that millisecond (the message carries the due time as
    :func:`chorus.store.keys.iso` writes it). A rescheduled target's old message is stale."""
    first = keys.to_millis(due)
    still_due = (TargetItem.due_at >= first) & (TargetItem.due_at < first + timedelta(milliseconds=1))
    condition: Condition = (TargetItem.state != TargetState.SCHEDULED.value) | still_due
    return condition


CLAIMABLE = (TargetState.SCHEDULED, TargetState.QUEUED)


def start_publishing(
    target: Target, token: str | None, due: datetime, now: datetime, sent: str | None = None
) -> Target | None:
    """``scheduled|queued -> publishing`` for the message holding ``token`` (None: the target holds
    none) and due at ``due`` (:func:`message_condition`), one attempt more, with the target's
    idempotency material written if it has none yet (a fresh key, ``started_at = now``) and kept if it
    has (a retry of the same content), and ``sent`` (the part the publish sends first) marked sent in
    the same write (:attr:`chorus.platforms.base.Progress.claimed`). Returns the target as stored, so
    the caller uses the persisted material and never recomputes it; None if another worker won or the
    target changed (edited, rescheduled, cancelled)."""
    actions, condition = _transition_update(
        target, TargetState.PUBLISHING, CLAIMABLE, token, UNSET, UNSET, None, True, {}
    )
    condition &= message_condition(due)
    actions += [
        TargetItem.idem_key.set(TargetItem.idem_key | uuid.uuid4().hex),
        TargetItem.started_at.set(TargetItem.started_at | now),
        TargetItem.parts.set(TargetItem.parts | {}),
    ]
    if sent is not None:
        actions.append(TargetItem.sent_parts.add({sent}))
    stored = _update_if(target, actions, condition, return_values="ALL_NEW")
    return None if stored is None else _to_target(TargetItem.from_raw_data(stored))


def _transition_update(
    target: Target,
    to: TargetState,
    expect: Iterable[TargetState],
    token: str | Unset | None,
    new_token: str | Unset | None,
    due_at: datetime | Unset | None,
    attempt: Attempt | None,
    count_attempt: bool,
    fields: dict[str, Any],
) -> tuple[list[Action], Condition]:
    condition: Condition = TargetItem.state.is_in(*[s.value for s in expect])
    if not isinstance(token, Unset):
        condition &= TargetItem.queue_token == token if token else TargetItem.queue_token.does_not_exist()
    new_due = target.due_at if isinstance(due_at, Unset) else due_at
    actions: list[Action] = [TargetItem.state.set(to.value), TargetItem.updated_at.set(datetime.now(UTC))]
    if not isinstance(new_token, Unset):
        actions.append(
            TargetItem.queue_token.set(new_token) if new_token else TargetItem.queue_token.remove()
        )
    if not isinstance(due_at, Unset):
        actions.append(TargetItem.due_at.set(due_at) if due_at else TargetItem.due_at.remove())
    overdue = fields.get("overdue_at", target.overdue_at)
    for name, value in index_fields(to, new_due, target.workspace_id, target.id, overdue).items():
        attr = getattr(TargetItem, name)
        actions.append(attr.set(value) if value is not None else attr.remove())
    if count_attempt:
        actions.append(TargetItem.attempts.add(1))
    if attempt is not None:
        entry: dict[str, Any] = {
            "at": keys.iso(attempt.at),
            "outcome": attempt.outcome,
            "detail": attempt.detail[:500],
        }
        if attempt.status is not None:
            entry["status"] = attempt.status
        log = [
            *(
                {"at": keys.iso(a.at), "outcome": a.outcome, "detail": a.detail}
                | ({"status": a.status} if a.status is not None else {})
                for a in target.attempt_log
            ),
            entry,
        ]
        actions.append(TargetItem.attempt_log.set(log[-MAX_LOG:]))
    for name, value in fields.items():
        attr = getattr(TargetItem, name)
        actions.append(attr.set(value) if value is not None else attr.remove())
    return actions, condition


def _update_if(
    target: Target, actions: list[Action], condition: Condition | None, return_values: str = "NONE"
) -> dict[str, Any] | None:
    """One UpdateItem of ``target``'s item: None when ``condition`` failed, else the returned attributes."""
    pk, sk = keys.workspace_pk(target.workspace_id), keys.target_sk(target.post_id, target.account_id)
    try:
        return models.update(TargetItem, pk, sk, actions, condition, return_values)
    except UpdateError as exc:
        if conditional_failed(exc):
            return None
        raise


class TargetProgress:
    """The store side of :class:`chorus.platforms.base.ProgressStore` for one target: each write is one
    UpdateItem, made before the adapter's next platform call."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def part_sent(self, part: str) -> None:
        _update_if(self.target, [TargetItem.sent_parts.add({part})], None)

    def part_unsent(self, part: str) -> None:
        _update_if(self.target, [TargetItem.sent_parts.delete({part})], None)

    def part_landed(self, part: str, platform_id: str, url: str | None) -> None:
        _update_if(self.target, _landed_actions({part: (platform_id, url)}), None)


def replace_post(old: Post, new: Post, target_plan: list[tuple[Target | None, Target | None]]) -> None:
    """Edit: the post (optimistic version check) and each target (must still be editable) in one transaction.

    ``target_plan`` pairs the old target (or None, for an added account) with the new one (or None,
    for a removed account)."""
    bind()
    editable = [s.value for s in __import__("chorus.posts.model", fromlist=["EDITABLE"]).EDITABLE]
    try:
        with transaction() as tx:
            tx.save(post_item(new), condition=PostItem.version == old.version)
            for before, after in target_plan:
                if after is None and before is not None:
                    tx.delete(target_item(before), condition=TargetItem.state.is_in(*editable))
                elif after is not None and before is None:
                    tx.save(target_item(after), condition=MainItem.pk.does_not_exist())
                elif after is not None and before is not None:
                    tx.save(target_item(after), condition=TargetItem.state.is_in(*editable))
    except TransactWriteError as exc:
        raise Conflict(
            "the post changed meanwhile or has started publishing; reload it and try again"
        ) from exc


def due_targets(
    bucket_prefix: str, minute: datetime, until: datetime, after: datetime | None = None
) -> Iterator[Target]:
    """Targets in one minute bucket of the due index with sort key up to ``until`` (and after
    ``after``: a target due in the same millisecond as ``after`` is not read), a Query, never a scan."""
    bind()
    upper = keys.iso(until) + "~"
    condition = (
        MainItem.gsi1sk <= upper if after is None else MainItem.gsi1sk.between(keys.iso(after) + "~", upper)
    )
    for item in MainItem.due_index.query(keys.due_bucket(minute, bucket_prefix), condition):
        if isinstance(item, TargetItem):
            yield _to_target(item)


@dataclass(frozen=True)
class DueRef:
    """A scheduled target as its DUE bucket names it: what a publish message needs."""

    workspace_id: str
    post_id: str
    account_id: str
    due_at: datetime
    queue_token: str | None = None

    @property
    def id(self) -> str:
        return f"{self.post_id}.{self.account_id}"


def due_refs(minute: datetime, after: datetime, until: datetime, legacy: bool = True) -> list[DueRef]:
    """The targets of one DUE minute bucket due after ``after`` and up to ``until`` (to the
    millisecond, as their sort keys hold them): the keys of gsi3 (a scheduled target, or one claimed
    since: the claim leaves its key), with no token (a scheduled target the scheduler reads holds none:
    :mod:`chorus.posts.scheduler`), and (``legacy``) the scheduled targets written before session 9 in
    gsi1's DUE bucket, with theirs. One Query, two with ``legacy``."""
    bind()
    bucket, low, high = keys.due_bucket(minute), keys.iso(after) + "~", keys.iso(until) + "~"
    client: Any = connection().client
    table = MainItem.Meta.table_name
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": MainItem.due_keys_index.Meta.index_name,
        "KeyConditionExpression": "gsi3pk = :b AND gsi3sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":b": {"S": bucket}, ":low": {"S": low}, ":high": {"S": high}},
    }
    refs: list[DueRef] = []
    while True:
        answer = client.query(**request)
        refs += [_due_ref(raw) for raw in answer.get("Items", [])]
        if "LastEvaluatedKey" not in answer:
            break
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    if not legacy:
        return refs
    return refs + [
        DueRef(t.workspace_id, t.post_id, t.account_id, t.due_at or minute, t.queue_token)
        for t in due_targets("DUE", minute, until, after)
    ]


def _due_ref(raw: Mapping[str, Any]) -> DueRef:
    """A target's keys as gsi3 holds them (``WS#<ws>``, ``TARGET#<post>#<account>``, ``<due>#<id>``)."""
    _, post_id, account_id = raw["sk"]["S"].split("#", 2)
    due = keys.parse_iso(raw["gsi3sk"]["S"].split("#", 1)[0])
    return DueRef(raw["pk"]["S"].removeprefix(keys.workspace_pk("")), post_id, account_id, due)


def current_targets(refs: Iterable[DueRef]) -> list[Target]:
    """The targets ``refs`` name as stored now (BatchGetItem, eventually consistent, 100 keys a call);
    a deleted one is left out."""
    bind()
    wanted = [(keys.workspace_pk(r.workspace_id), keys.target_sk(r.post_id, r.account_id)) for r in refs]
    client, table = connection().client, MainItem.Meta.table_name
    return [
        _to_target(TargetItem.from_raw_data(raw))
        for raw in batch_get(client, table, wanted)
        if raw.get("kind", {}).get("S") == "target"
    ]


def paused_targets(workspace_id: str) -> list[Target]:
    bind()
    return [
        _to_target(i)
        for i in MainItem.calendar_index.query(keys.paused_pk(workspace_id))
        if isinstance(i, TargetItem)
    ]


@dataclass(frozen=True)
class SchedulerState:
    """The scheduler's cursors (:mod:`chorus.posts.scheduler`), in one item read once a run."""

    watermark: datetime | None = None  # every target due up to it was handed out (but the backlog's)
    swept: datetime | None = None  # lost messages looked for up to it
    overdue: datetime | None = None  # MANUAL buckets before this minute were swept for overdue
    backlog: datetime | None = None  # targets due after it and more than MISSED_AFTER late: not walked yet


def scheduler_state() -> SchedulerState:
    """The scheduler's cursors, in one item read once a run."""
    bind()
    try:
        item = SchedulerStateItem.get(keys.system_pk(), "SCHEDULER", consistent_read=True)
    except DoesNotExist:
        return SchedulerState()
    return SchedulerState(item.watermark, item.swept, item.overdue, item.backlog)


def save_scheduler_state(state: SchedulerState) -> None:
    """All the cursors in one write (one a run when nothing is behind)."""
    bind()
    SchedulerStateItem(
        keys.system_pk(), "SCHEDULER", watermark=state.watermark, swept=state.swept,
        overdue=state.overdue, backlog=state.backlog,
    ).save()  # fmt: skip


def note_reminded(target: Target, at: datetime) -> bool:
    """Reminder publishing: the reminder of a target awaiting a person went out (its indexes untouched)."""
    condition = TargetItem.state == TargetState.AWAITING_MANUAL.value
    return _update_if(target, [TargetItem.reminded_at.set(at)], condition) is not None


def set_queued_bucket(target: Target, expected: datetime, token: str | None) -> None:
    """Record where a queued target's message is expected, so a lost message can be found later."""
    bind()
    item = TargetItem(
        keys.workspace_pk(target.workspace_id), keys.target_sk(target.post_id, target.account_id)
    )
    try:
        item.update(
            actions=[
                TargetItem.gsi1pk.set(keys.due_bucket(expected, "QUEUED")),
                TargetItem.gsi1sk.set(keys.due_sort_key(expected, target.id)),
            ],
            condition=(TargetItem.queue_token == token if token else TargetItem.queue_token.does_not_exist())
            & TargetItem.state.is_in("queued", "verifying", "processing"),
        )
    except UpdateError as exc:
        if not conditional_failed(exc):
            raise


def publish_snapshot(workspace_id: str, post_id: str, account_id: str) -> dict[str, Any]:
    """Target, post, account and workspace: the publisher's only read, in two BatchGetItem calls.

    The target and the post are read strongly consistent: a message sent right after an edit carries the
    edit's new token, and must find it and the new text. The account and the workspace are read
    eventually consistent (half the read units): they are read when the message arrives, a second or two
    before the call, so a change made within the replication lag (milliseconds) is no later than one made
    during that wait, which the publish would not see either (a paused workspace, a revoked account: the
    platform's own refusal and the next message see it)."""
    from chorus.store.models import AccountItem, WorkspaceItem

    bind()
    pk = keys.workspace_pk(workspace_id)
    found: dict[str, Any] = {}
    own = [(pk, keys.target_sk(post_id, account_id)), (pk, keys.post_sk(post_id))]
    for item in MainItem.batch_get(own, consistent_read=True):
        if isinstance(item, TargetItem):
            found["target"] = _to_target(item)
        elif isinstance(item, PostItem):
            found["post"] = _to_post(item)
    if "target" not in found:
        return found  # a stale message: nothing to publish, nothing more to read
    around = [(pk, keys.account_sk(account_id)), (pk, keys.workspace_meta_sk())]
    for item in MainItem.batch_get(around, consistent_read=False):
        if isinstance(item, AccountItem):
            found["account"] = item
        elif isinstance(item, WorkspaceItem):
            found["workspace"] = item
    return found

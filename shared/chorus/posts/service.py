"""Composing and managing posts: create (draft, schedule, now, queue, recurring), edit, approve,
reject, cancel, calendar and queue slots (bulk CSV import: :mod:`chorus.posts.imports`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import takewhile
from zoneinfo import ZoneInfo

from chorus.accounts import service as accounts
from chorus.auth import workspaces
from chorus.auth.keys import Principal
from chorus.auth.roles import Role, at_least, can_approve, needs_approval
from chorus.campaigns.service import check_campaign
from chorus.config import get_settings
from chorus.dates import within_years
from chorus.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chorus.library.media import library_specs, track_usage
from chorus.posts.model import (
    EDITABLE,
    MARKABLE,
    Attempt,
    Content,
    Mode,
    Post,
    Target,
    TargetState,
    status_of,
)
from chorus.posts.queue import PublishMessage, PublishQueue
from chorus.posts.scheduler import enqueue, handed_out_by_api
from chorus.posts.timing import Recurrence, Slot, parse_slots, queue_full, slot_times, to_utc
from chorus.posts.validation import ACCOUNT_OPTIONS, MediaSpec, check_account_options, validate
from chorus.store import keys
from chorus.store import posts as repo
from chorus.store.approvals import approved_item
from chorus.store.models import WorkspaceItem
from chorus.store.pages import Page, PageRequest


@dataclass(frozen=True)
class Compose:
    accounts: tuple[str, ...]
    content: Content
    variants: dict[str, Content] = field(default_factory=dict)
    mode: Mode = Mode.SCHEDULE
    scheduled_at: datetime | None = None  # naive = wall-clock in ``timezone``
    timezone: str | None = None
    recurrence: Recurrence | None = None
    assignee: str | None = None  # a member's user id: who posts it by hand (reminder publishing)
    campaign_id: str | None = None
    utm: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] | None = None  # chorus.tags spelling; None on an edit: the post keeps its tags


def _media_lists(compose: Compose) -> list[tuple[str, Content]]:
    """Each content of the post with the field its media list is named by in errors."""
    return [("media", compose.content)] + [(f"variants[{a}].media", c) for a, c in compose.variants.items()]


def _foreign_media(workspace_id: str, compose: Compose) -> list[FieldError]:
    """Media keys outside the workspace's own uploads (another workspace's files are not reachable),
    and media URLs the guarded fetcher would never fetch (decision 14: https, no private address)."""
    from chorus.net.fetch import is_local, url_problem
    from chorus.store.keys import media_prefix

    prefix = media_prefix(workspace_id)
    local = is_local()
    contents = _media_lists(compose)
    return [
        FieldError(f"{where}[{i}].key", "not an upload of this workspace (POST /media)", "media_key")
        for where, content in contents
        for i, ref in enumerate(content.media)
        if ref.key is not None and (not ref.key.startswith(prefix) or ".." in ref.key.split("/"))
    ] + [
        FieldError(f"{where}[{i}].url", problem, "url")
        for where, content in contents
        for i, ref in enumerate(content.media)
        if ref.url is not None and (problem := url_problem(ref.url, local=local))
    ]


def check_content(workspace_id: str, account_platforms: dict[str, str], compose: Compose) -> None:
    errors: list[FieldError] = _foreign_media(workspace_id, compose)
    # uploads are checked with what the media library read of them (size, dimensions, a video's length)
    known = library_specs(workspace_id, [m for _, c in _media_lists(compose) for m in c.media])
    errors += [
        FieldError(f"{where}[{i}].key", problem.message, problem.rule)
        for where, content in _media_lists(compose)
        for i, ref in enumerate(content.media)
        if isinstance(problem := known.get(ref.key or ""), FieldError)
    ]
    for account_id, platform in account_platforms.items():
        content = compose.variants.get(account_id, compose.content)
        specs = [
            spec if isinstance(spec := known.get(m.key or ""), MediaSpec) else MediaSpec(m.mime_type, m.size)
            for m in content.media
        ]
        for v in validate(
            platform,
            content.text,
            specs,
            content.link,
            content.thread,
            content.first_comment,
            content.title,
            content.options,
        ):
            errors.append(FieldError(f"accounts[{account_id}].{v.field}", f"{platform}: {v.message}", v.rule))
        if platform in ACCOUNT_OPTIONS:  # what the account may do, as the platform said at connect
            extra = accounts.get_account(workspace_id, account_id).extra
            for v in check_account_options(platform, content.options, extra):
                errors.append(
                    FieldError(f"accounts[{account_id}].{v.field}", f"{platform}: {v.message}", v.rule)
                )
    for account_id in compose.variants:
        if account_id not in account_platforms:
            errors.append(
                FieldError(
                    f"variants[{account_id}]",
                    "variant for an account the post does not target",
                    "unknown_account",
                )
            )
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)


def contents_of(post: Post) -> list[Content]:
    """The post's content and every variant (what names media library files)."""
    return [post.content, *post.variants.values()]


def seen_by(principal: Principal, post: Post) -> Post:
    """``post`` as ``principal`` may see it (only the targets of their accounts); NotFound when it
    touches none of them (a member limited to some accounts does not learn of the others' posts)."""
    if principal.accounts is None:
        return post
    if not any(principal.sees_account(a) for a in post.account_ids):
        raise NotFound(f"post {post.id} not found")
    return post.only(principal.accounts)


def posts_page(principal: Principal, page: PageRequest, status: str | None = None) -> Page[Post]:
    """``GET /posts``: newest first, only the posts (and targets) of the caller's accounts."""
    found = repo.posts_page(principal.workspace_id, page, status)
    visible = [p for p in found.items if any(principal.sees_account(a) for a in p.account_ids)]
    return Page([seen_by(principal, p) for p in visible], found.next_cursor)


def get_post(principal: Principal, post_id: str) -> Post:
    return seen_by(principal, repo.get_post(principal.workspace_id, post_id, consistent=True))


def post_to_change(principal: Principal, post_id: str) -> Post:
    """The post ``principal`` acts on: every target must be one of their accounts."""
    post = repo.get_post(principal.workspace_id, post_id, consistent=True)
    seen_by(principal, post)
    principal.require_accounts(post.account_ids, "post_id")
    return post


def _accounts(workspace_id: str, ids: tuple[str, ...]) -> dict[str, str]:
    if not ids:
        raise ValidationFailed.on("accounts", "choose at least one account", "required")
    found: dict[str, str] = {}
    for account_id in ids:
        account = accounts.get_account(workspace_id, account_id)  # NotFound names it
        found[account_id] = account.platform
    return found


def _due_times(workspace_id: str, compose: Compose, tz: str, now: datetime) -> list[datetime | None]:
    if compose.mode is Mode.NOW:
        return [now]
    if compose.mode is Mode.QUEUE:
        return [next_queue_slot(workspace_id, tz, now)]
    if compose.scheduled_at is None:
        if compose.mode is Mode.DRAFT:
            return [None]
        raise ValidationFailed.on("scheduled_at", "required to schedule a post", "required")
    within_years(compose.scheduled_at, "scheduled_at")  # a zone's offset or a recurrence cannot overflow
    first = to_utc(compose.scheduled_at, tz)
    if compose.mode is Mode.SCHEDULE and first < now - timedelta(minutes=1):
        raise ValidationFailed.on("scheduled_at", "is in the past", "future")
    if compose.recurrence:
        return list(compose.recurrence.occurrences(compose.scheduled_at, tz))
    return [first]


def create_post(
    principal: Principal, compose: Compose, queue: PublishQueue, now: datetime | None = None
) -> list[Post]:
    """Create one post (or one per occurrence of a recurrence). Returns what was created."""
    if not at_least(principal.role, Role.CONTRIBUTOR):
        raise Forbidden("viewers cannot create posts")
    now = now or datetime.now(UTC)
    workspace = workspaces.get_workspace(principal.workspace_id)
    tz = workspaces.validate_timezone(compose.timezone or workspace.timezone)
    principal.require_accounts(compose.accounts)
    platforms = _accounts(principal.workspace_id, compose.accounts)
    check_content(principal.workspace_id, platforms, compose)
    check_campaign(principal.workspace_id, compose.campaign_id)
    posts = build_posts(principal, compose, platforms, tz, now)
    repo.create_posts(posts)
    for post in posts:
        track_usage(principal.workspace_id, post.id, (), contents_of(post))
        enqueue_imminent(post.targets, queue, now)
    return [repo.get_post(principal.workspace_id, p.id, consistent=True) for p in posts]


def build_posts(
    principal: Principal,
    compose: Compose,
    platforms: dict[str, str],
    tz: str,
    now: datetime,
    post_id_of: Callable[[int], str] | None = None,
) -> list[Post]:
    """The posts (one per occurrence) ``compose`` makes for accounts already checked (``platforms``:
    account id -> platform), not stored yet. ``post_id_of(n)`` names occurrence ``n`` (a CSV import
    derives ids from its job, so a retried import writes the same posts); random ids otherwise."""
    if compose.mode is Mode.DRAFT:
        state = TargetState.DRAFT
    elif needs_approval(principal.role):
        state = TargetState.PENDING_APPROVAL
    else:
        state = TargetState.SCHEDULED
    series = uuid.uuid4().hex[:12] if compose.recurrence else None
    posts = []
    for n, due in enumerate(_due_times(principal.workspace_id, compose, tz, now)):
        post_id = post_id_of(n) if post_id_of else "p" + uuid.uuid4().hex[:15]
        targets = tuple(
            Target(principal.workspace_id, post_id, account_id, platform, state, due)
            for account_id, platform in platforms.items()
        )
        posts.append(
            Post(
                workspace_id=principal.workspace_id,
                id=post_id,
                assignee=_assignee(principal, compose),
                content=compose.content,
                variants=dict(compose.variants),
                account_ids=tuple(platforms),
                mode=compose.mode,
                scheduled_at=due,
                timezone=tz,
                created_by=principal.actor,
                created_at=now,
                updated_at=now,
                approval={"state": "pending"} if state is TargetState.PENDING_APPROVAL else None,
                series_id=series,
                targets=targets,
                campaign_id=compose.campaign_id,
                utm=dict(compose.utm),
                tags=compose.tags or (),
            )
        )
    return posts


def _assignee(principal: Principal, compose: Compose) -> str | None:
    """Who is reminded to post by hand: the member ``compose`` names (a 422 naming ``assignee`` if they
    are not one), else the author when they are a person (their own key included)."""
    if compose.assignee:
        from chorus.auth.members import get_member

        try:
            get_member(principal.workspace_id, compose.assignee)
        except NotFound as exc:
            raise ValidationFailed.on(
                "assignee", f"{compose.assignee} is not a member of this workspace", "unknown_member"
            ) from exc
        return f"user:{compose.assignee}"
    return f"user:{principal.user_id}" if principal.user_id else None


def enqueue_imminent(targets: tuple[Target, ...] | list[Target], queue: PublishQueue, now: datetime) -> None:
    """Hand out, with its token, each scheduled target written at ``now`` that the scheduler may
    already have read past: one due within :func:`chorus.posts.scheduler.api_window` (the lookahead
    plus a margin: the scheduler reads a due time once, at or after ``due - lookahead``). Nothing is
    written: the claim checks the message's token and due time."""
    lookahead_s = get_settings().schedule_lookahead_s
    for target in targets:
        if target.state is TargetState.SCHEDULED and handed_out_by_api(target.due_at, now, lookahead_s):
            enqueue(target, lambda: now, queue)


def in_flight_token(state: TargetState, due: datetime | None, now: datetime) -> str | None:
    """The queue token a target written at ``now`` holds: a fresh one when it is ``scheduled`` due
    within the API's window (the API sends its message with it, so any older message for the same
    due time is stale), none otherwise (an older message names another due time or token)."""
    if state is TargetState.SCHEDULED and handed_out_by_api(due, now, get_settings().schedule_lookahead_s):
        return uuid.uuid4().hex
    return None


def edit_post(
    principal: Principal, post_id: str, compose: Compose, expected_version: int | None, queue: PublishQueue
) -> Post:
    """Replace content, accounts or time. Targets already publishing or published make it a conflict.
    A target that may have a message in flight (due within the API's window, or queued) is written
    with a new due time or a new token (:func:`in_flight_token`), so its old message can never publish
    the old text; the API sends the new one when it is due within the window."""
    if not at_least(principal.role, Role.CONTRIBUTOR):
        raise Forbidden("viewers cannot edit posts")
    now = datetime.now(UTC)
    old = post_to_change(principal, post_id)
    principal.require_accounts(compose.accounts)
    if expected_version is not None and expected_version != old.version:
        raise Conflict(f"post {post_id} is at version {old.version}, not {expected_version}")
    locked = [t for t in old.targets if t.state not in EDITABLE]
    if locked:
        raise Conflict("cannot edit: " + ", ".join(f"{t.account_id} is {t.state.value}" for t in locked))
    tz = workspaces.validate_timezone(compose.timezone or old.timezone)
    platforms = _accounts(principal.workspace_id, compose.accounts)
    check_content(principal.workspace_id, platforms, compose)
    check_campaign(principal.workspace_id, compose.campaign_id)
    if compose.recurrence:
        raise ValidationFailed.on(
            "recurrence", "cannot be added by an edit; create a recurring post", "immutable"
        )
    due = _due_times(principal.workspace_id, compose, tz, now)[0]
    if compose.mode is Mode.DRAFT:
        state = TargetState.DRAFT
    elif needs_approval(principal.role):
        state = TargetState.PENDING_APPROVAL
    else:
        state = (
            TargetState.SCHEDULED
            if old.approval is None or old.approval.get("state") == "approved"
            else TargetState.PENDING_APPROVAL
        )
    new = replace(
        old,
        assignee=_assignee(principal, compose) if compose.assignee else old.assignee,
        content=compose.content,
        variants=dict(compose.variants),
        account_ids=tuple(platforms),
        mode=compose.mode,
        scheduled_at=due,
        timezone=tz,
        updated_at=now,
        version=old.version + 1,
        approval={"state": "pending"} if state is TargetState.PENDING_APPROVAL else old.approval,
        targets=(),
        campaign_id=compose.campaign_id,
        utm=dict(compose.utm),
        tags=old.tags if compose.tags is None else compose.tags,
    )
    before = {t.account_id: t for t in old.targets}
    plan: list[tuple[Target | None, Target | None]] = []
    new_targets: list[Target] = []
    for account_id, platform in platforms.items():
        fresh = Target(principal.workspace_id, post_id, account_id, platform, state, due,
                       queue_token=in_flight_token(state, due, now))  # fmt: skip
        plan.append((before.pop(account_id, None), fresh))
        new_targets.append(fresh)
    plan.extend((gone, None) for gone in before.values())
    repo.replace_post(old, new, plan)
    track_usage(principal.workspace_id, post_id, contents_of(old), contents_of(new))
    enqueue_imminent(new_targets, queue, now)
    return repo.get_post(principal.workspace_id, post_id, consistent=True)


def cancel_post(principal: Principal, post_id: str) -> Post:
    if not at_least(principal.role, Role.CONTRIBUTOR):
        raise Forbidden("viewers cannot cancel posts")
    post = post_to_change(principal, post_id)
    cancelled = []
    cancellable = EDITABLE | MARKABLE  # a post waiting for a person to post it by hand too
    for target in post.targets:
        if target.state in cancellable and not repo.transition(
            target, TargetState.CANCELLED, expect=cancellable, new_token=None
        ):
            raise Conflict(f"{target.account_id} started publishing meanwhile")
        cancelled.append(target.account_id)
    if not cancelled and post.targets:
        raise Conflict(
            "nothing left to cancel: " + ", ".join(f"{t.account_id} is {t.state.value}" for t in post.targets)
        )
    after = repo.get_post(principal.workspace_id, post_id, consistent=True)
    if after.status == TargetState.CANCELLED.value:  # deleted: its media library files are free again
        track_usage(principal.workspace_id, post_id, contents_of(post), ())
    return after


RETRYABLE = frozenset({TargetState.FAILED, TargetState.PARTIALLY_PUBLISHED})


def retry_post(
    principal: Principal,
    post_id: str,
    account_ids: list[str] | None,
    queue: PublishQueue,
    now: datetime | None = None,
) -> Post:
    """Publish failed and partially published targets again (those of ``account_ids``, default all),
    now, with a fresh queue token and a fresh attempt budget. Their idempotency material and the parts
    already out are kept: the publish resumes at the first missing part, and a part the platform may
    have is verified before it is sent again."""
    if not at_least(principal.role, Role.EDITOR):
        raise Forbidden(f"a {principal.role} key cannot retry posts")
    now = now or datetime.now(UTC)
    post = post_to_change(principal, post_id)
    targets = {t.account_id: t for t in post.targets}
    unknown = [a for a in account_ids or [] if a not in targets]
    if unknown:
        raise ValidationFailed.on(
            "accounts", f"not accounts of post {post_id}: {', '.join(unknown)}", "unknown_account"
        )
    chosen = [targets[a] for a in account_ids] if account_ids else list(post.targets)
    retried = [t for t in chosen if t.state in RETRYABLE]
    if not retried:
        raise Conflict("nothing to retry: " + ", ".join(f"{t.account_id} is {t.state.value}" for t in chosen))
    for target in retried:
        token = uuid.uuid4().hex
        if not repo.transition(
            target, TargetState.QUEUED, expect=[target.state], new_token=token, due_at=now, attempts=0,
            error=None, error_code=None, verify_looks=None,
            attempt=Attempt(now, "retry", f"retry asked by {principal.actor}"),
        ):  # fmt: skip
            raise Conflict(f"{target.account_id} changed meanwhile; reload the post")
        queue.send(
            PublishMessage(
                "publish", target.workspace_id, target.post_id, target.account_id, token, keys.iso(now)
            ),
            0,
        )
    return repo.get_post(principal.workspace_id, post_id, consistent=True)


def decide(
    principal: Principal,
    post_id: str,
    approve: bool,
    comment: str | None,
    queue: PublishQueue,
    version: int | None = None,
) -> Post:
    """An editor, admin or owner approves (targets become scheduled) or rejects (with a comment) the
    post at ``version``, the one the reviewer saw: an approval names it (an edit in between would
    otherwise be approved unseen); a rejection may. Another version -> Conflict, nothing moves."""
    if not can_approve(principal.role):
        raise Forbidden(f"a {principal.role} key cannot approve or reject posts")
    if approve and version is None:
        raise ValidationFailed.on("version", "name the version of the post you approve", "required")
    if not approve and not (comment or "").strip():
        raise ValidationFailed.on("comment", "say why the post is rejected", "required")
    now = datetime.now(UTC)
    post = post_to_change(principal, post_id)
    seen = post.version if version is None else version
    if seen != post.version:
        raise Conflict(f"post {post_id} is at version {post.version}, not {seen}: review it again")
    pending = [t for t in post.targets if t.state is TargetState.PENDING_APPROVAL]
    if not pending:
        raise Conflict(f"post {post_id} is not waiting for approval ({post.status})")
    to = TargetState.SCHEDULED if approve else TargetState.REJECTED
    moves = [
        (
            target,
            target.due_at
            if approve and target.due_at and target.due_at > now
            else (now if approve else target.due_at),
        )
        for target in pending
    ]
    approved = [approved_item(post, principal.actor, now)] if approve else []  # the diff's next baseline
    if not repo.transition_at_version(post, seen, moves, to, TargetState.PENDING_APPROVAL, approved):
        raise Conflict(f"post {post_id} changed meanwhile: review it again")
    moved = [replace(target, state=to, due_at=due) for target, due in moves]
    _set_approval(post, {"state": "approved" if approve else "rejected", "by": principal.actor,
                         "at": now.isoformat(), "comment": comment, "version": seen})  # fmt: skip
    if approve:
        enqueue_imminent(moved, queue, now)
    return repo.get_post(principal.workspace_id, post_id, consistent=True)


def _set_approval(post: Post, approval: dict[str, object]) -> None:
    from chorus.store import keys
    from chorus.store.models import PostItem, bind

    bind()
    PostItem(keys.workspace_pk(post.workspace_id), keys.post_sk(post.id)).update(
        actions=[PostItem.approval.set(approval)]
    )


# ---------------------------------------------------------------------------------------------- queue
def queue_slots(workspace_id: str) -> list[Slot]:
    return slots_of(workspaces.workspace_item(workspace_id))


def slots_of(item: WorkspaceItem) -> list[Slot]:
    """The queue's weekly slots of a workspace (its item's settings)."""
    return parse_slots((item.settings or {}).get("queue_slots", []))


def set_queue_slots(principal: Principal, raw: list[dict[str, object]]) -> list[Slot]:
    if not at_least(principal.role, Role.EDITOR):
        raise Forbidden("only editors and above change the queue")
    slots = parse_slots(raw)
    item = workspaces.workspace_item(principal.workspace_id)
    settings = dict(item.settings or {})
    settings["queue_slots"] = [s.to_dict() for s in slots]
    item.update(actions=[WorkspaceItem.settings.set(settings)])
    return slots


QUEUE_WINDOW = timedelta(days=7)  # slot times judged per read of the calendar index


def next_queue_slot(workspace_id: str, tz: str, now: datetime) -> datetime:
    """The first slot time after ``now`` that no live queue post holds (a cancelled post frees its
    slot; posts of other modes hold none). Slot times are walked in order and judged a week at a
    time, each week with one range read of the calendar index, stopping at the first week with a
    free slot; a queue full for :data:`chorus.posts.timing.QUEUE_DAYS` days is a 422 on ``mode``."""
    window: list[datetime] = []
    for at in slot_times(queue_slots(workspace_id), tz, now):
        if window and at >= window[0] + QUEUE_WINDOW:
            if (free := _first_free(workspace_id, window)) is not None:
                return free
            window = []
        window.append(at)
    if window and (free := _first_free(workspace_id, window)) is not None:
        return free
    raise queue_full()


def _first_free(workspace_id: str, times: list[datetime]) -> datetime | None:
    """The first of ``times`` (slot times, in order) that no live queue post holds, or None."""
    held: dict[datetime, list[repo.SlotHold]] = {}
    for hold in repo.queue_holds(workspace_id, min(times), max(times)):
        held.setdefault(hold.scheduled_at, []).append(hold)
    # Only a slot before the first unheld one can be the answer by being freed by a cancelled post:
    # the targets of those holders alone are read (one batch, not one query a post).
    unheld = next((i for i, at in enumerate(times) if at not in held), len(times))
    suspects = [h for at in times[:unheld] for h in held[at]]
    states = repo.target_states(workspace_id, suspects) if suspects else {}
    cancelled = {pid for pid, s in states.items() if status_of(s) == TargetState.CANCELLED.value}
    for at in times:
        if all(h.post_id in cancelled for h in held.get(at, ())):
            return at
    return None


# ---------------------------------------------------------------------------------------------- calendar
def calendar(
    principal: Principal,
    start: datetime,
    end: datetime,
    campaign_id: str | None = None,
    tag: str | None = None,
    now: datetime | None = None,
) -> dict[str, object]:
    """The posts of ``start``..``end`` by local day and account (``campaign_id``: that campaign's only;
    ``tag``: the posts with that tag only), and the queue's free slots of the range (:func:`free_slots`)."""
    if end <= start:
        raise ValidationFailed.on("to", "must be after from", "range")
    if end - start > timedelta(days=93):
        raise ValidationFailed.on("to", "a calendar covers at most 93 days", "range")
    workspace = workspaces.workspace_item(principal.workspace_id)  # one read: the zone and the queue's slots
    zone = ZoneInfo(workspace.timezone)
    if campaign_id is not None:
        check_campaign(principal.workspace_id, campaign_id, "campaign")
    days: dict[str, dict[str, list[dict[str, object]]]] = {}
    planned = repo.calendar_view(
        principal.workspace_id, start, end, campaign_id=campaign_id, tag=tag, accounts=principal.accounts
    )
    # A post's targets share their times: each time is rendered once (as the API renders times), not
    # once an entry (strftime was a third of the answer's CPU for a month of 20 accounts).
    rendered: dict[datetime, tuple[str, str]] = {}

    def render(at: datetime) -> tuple[str, str]:
        if at not in rendered:
            rendered[at] = (keys.iso(at), at.astimezone(zone).strftime("%H:%M"))
        return rendered[at]

    for post in planned:
        if post.scheduled_at is None or not post.targets:
            continue
        day = post.scheduled_at.astimezone(zone).date().isoformat()
        for target in post.targets:
            shown = target.public(post.planned_parts(target.account_id))
            del shown["attempt_log"]
            for name in ("due_at", "published_at", "reminded_at", "overdue_at"):
                if shown[name] is not None:
                    shown[name] = render(shown[name])[0]
            entry = {
                "post_id": post.id,
                "text": post.content_for(target.account_id).text[:280],
                "at": render(target.published_at or target.due_at or post.scheduled_at)[0],
                "local_time": render(target.due_at or post.scheduled_at)[1],
                "campaign_id": post.campaign_id,
                "tags": list(post.tags),
                **shown,
            }
            days.setdefault(day, {}).setdefault(target.account_id, []).append(entry)
    free = free_slots(
        principal.workspace_id, slots_of(workspace), workspace.timezone, start, end, now or datetime.now(UTC)
    )
    return {
        "timezone": workspace.timezone,
        "from": start,
        "to": end,
        "days": days,
        "free_slots": [
            {
                "at": at,
                "day": at.astimezone(zone).date().isoformat(),
                "local_time": at.astimezone(zone).strftime("%H:%M"),
            }
            for at in free
        ],
    }


def free_slots(
    workspace_id: str, slots: list[Slot], tz: str, start: datetime, end: datetime, now: datetime
) -> list[datetime]:
    """The times of ``slots`` between ``start`` and ``end`` (and after ``now``) that no live queue post
    holds, in time order: where the next queued posts can go (a cancelled post frees its slot, as
    :func:`next_queue_slot` judges it). One range read of the calendar index, and one batch read of the
    targets of the slots' holders; none without queue slots."""
    if not slots or end <= now:
        return []
    times = list(
        takewhile(lambda at: at < end, slot_times(slots, tz, max(start - timedelta(microseconds=1), now)))
    )
    if not times:
        return []
    return [at for at in times if at not in _held(workspace_id, times)]


def _held(workspace_id: str, times: list[datetime]) -> set[datetime]:
    """Which of ``times`` a live queue post holds (one whose post is not cancelled)."""
    holds = [
        h for h in repo.queue_holds(workspace_id, min(times), max(times)) if h.scheduled_at in set(times)
    ]
    states = repo.target_states(workspace_id, holds) if holds else {}
    cancelled = TargetState.CANCELLED.value
    return {h.scheduled_at for h in holds if status_of(states.get(h.post_id, set())) != cancelled}


def parse_recurrence(raw: dict[str, object] | None) -> Recurrence | None:
    if not raw:
        return None
    until = raw.get("until")
    try:
        last = until if isinstance(until, date) else date.fromisoformat(str(until)) if until else None
    except ValueError as exc:
        raise ValidationFailed.on("recurrence.until", f"not a date (YYYY-MM-DD): {until!r}", "date") from exc
    try:
        every = int(str(raw.get("every", 1)))
        count = int(str(raw["count"])) if raw.get("count") is not None else None
    except ValueError as exc:
        raise ValidationFailed.on("recurrence", "every and count are whole numbers", "integer") from exc
    return Recurrence(every=every, unit=str(raw.get("unit", "day")), until=last, count=count)

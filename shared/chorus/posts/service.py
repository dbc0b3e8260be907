"""Composing and managing posts: create (draft, schedule, now, queue, recurring), edit, approve,
reject, cancel, calendar, queue slots and bulk CSV import."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from chorus.accounts import service as accounts
from chorus.auth import workspaces
from chorus.auth.keys import Principal
from chorus.auth.roles import Role, at_least, can_approve, needs_approval
from chorus.config import get_settings
from chorus.errors import Conflict, FieldError, Forbidden, ValidationFailed
from chorus.posts.model import EDITABLE, Attempt, Content, MediaRef, Mode, Post, Target, TargetState
from chorus.posts.queue import PublishMessage, PublishQueue
from chorus.posts.scheduler import enqueue
from chorus.posts.timing import Recurrence, Slot, next_free_slot, parse_slots, to_utc
from chorus.posts.validation import MediaSpec, validate
from chorus.store import keys
from chorus.store import posts as repo
from chorus.store.models import WorkspaceItem


@dataclass(frozen=True)
class Compose:
    accounts: tuple[str, ...]
    content: Content
    variants: dict[str, Content] = field(default_factory=dict)
    mode: Mode = Mode.SCHEDULE
    scheduled_at: datetime | None = None  # naive = wall-clock in ``timezone``
    timezone: str | None = None
    recurrence: Recurrence | None = None


def _check_content(account_platforms: dict[str, str], compose: Compose) -> None:
    errors: list[FieldError] = []
    for account_id, platform in account_platforms.items():
        content = compose.variants.get(account_id, compose.content)
        specs = [MediaSpec(m.mime_type, m.size) for m in content.media]
        for v in validate(platform, content.text, specs, content.link, content.thread, content.first_comment):
            errors.append(FieldError(f"accounts[{account_id}].{v.field}", f"{platform}: {v.message}", v.rule))
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
        return [next_free_slot(queue_slots(workspace_id), tz, now, _taken_slots(workspace_id, now))]
    if compose.scheduled_at is None:
        if compose.mode is Mode.DRAFT:
            return [None]
        raise ValidationFailed.on("scheduled_at", "required to schedule a post", "required")
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
    platforms = _accounts(principal.workspace_id, compose.accounts)
    _check_content(platforms, compose)
    if compose.mode is Mode.DRAFT:
        state = TargetState.DRAFT
    elif needs_approval(principal.role):
        state = TargetState.PENDING_APPROVAL
    else:
        state = TargetState.SCHEDULED
    series = uuid.uuid4().hex[:12] if compose.recurrence else None
    posts = []
    for due in _due_times(principal.workspace_id, compose, tz, now):
        post_id = "p" + uuid.uuid4().hex[:15]
        targets = tuple(
            Target(principal.workspace_id, post_id, account_id, platform, state, due)
            for account_id, platform in platforms.items()
        )
        posts.append(
            Post(
                workspace_id=principal.workspace_id,
                id=post_id,
                content=compose.content,
                variants=dict(compose.variants),
                account_ids=tuple(platforms),
                mode=compose.mode,
                scheduled_at=due,
                timezone=tz,
                created_by=principal.key_id,
                created_at=now,
                updated_at=now,
                approval={"state": "pending"} if state is TargetState.PENDING_APPROVAL else None,
                series_id=series,
                targets=targets,
            )
        )
    repo.create_posts(posts)
    for post in posts:
        _enqueue_imminent(post.targets, queue, now)
    return [repo.get_post(principal.workspace_id, p.id, consistent=True) for p in posts]


def _enqueue_imminent(targets: tuple[Target, ...] | list[Target], queue: PublishQueue, now: datetime) -> None:
    """The scheduler runs once a minute: a target due before its next run is queued right away."""
    for target in targets:
        lookahead = timedelta(seconds=get_settings().schedule_lookahead_s)
        if target.state is TargetState.SCHEDULED and target.due_at and target.due_at <= now + lookahead:
            enqueue(target, lambda: now, queue)


def edit_post(
    principal: Principal, post_id: str, compose: Compose, expected_version: int | None, queue: PublishQueue
) -> Post:
    """Replace content, accounts or time. Targets already publishing or published make it a conflict;
    a queued target gets a new state and token, so its old message can never publish the old text."""
    if not at_least(principal.role, Role.CONTRIBUTOR):
        raise Forbidden("viewers cannot edit posts")
    now = datetime.now(UTC)
    old = repo.get_post(principal.workspace_id, post_id, consistent=True)
    if expected_version is not None and expected_version != old.version:
        raise Conflict(f"post {post_id} is at version {old.version}, not {expected_version}")
    locked = [t for t in old.targets if t.state not in EDITABLE]
    if locked:
        raise Conflict("cannot edit: " + ", ".join(f"{t.account_id} is {t.state.value}" for t in locked))
    tz = workspaces.validate_timezone(compose.timezone or old.timezone)
    platforms = _accounts(principal.workspace_id, compose.accounts)
    _check_content(platforms, compose)
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
    )
    before = {t.account_id: t for t in old.targets}
    plan: list[tuple[Target | None, Target | None]] = []
    new_targets: list[Target] = []
    for account_id, platform in platforms.items():
        fresh = Target(principal.workspace_id, post_id, account_id, platform, state, due)
        plan.append((before.pop(account_id, None), fresh))
        new_targets.append(fresh)
    plan.extend((gone, None) for gone in before.values())
    repo.replace_post(old, new, plan)
    _enqueue_imminent(new_targets, queue, now)
    return repo.get_post(principal.workspace_id, post_id, consistent=True)


def cancel_post(principal: Principal, post_id: str) -> Post:
    if not at_least(principal.role, Role.CONTRIBUTOR):
        raise Forbidden("viewers cannot cancel posts")
    post = repo.get_post(principal.workspace_id, post_id, consistent=True)
    cancelled = []
    for target in post.targets:
        if target.state in EDITABLE and not repo.transition(
            target, TargetState.CANCELLED, expect=EDITABLE, new_token=None
        ):
            raise Conflict(f"{target.account_id} started publishing meanwhile")
        cancelled.append(target.account_id)
    if not cancelled and post.targets:
        raise Conflict(
            "nothing left to cancel: " + ", ".join(f"{t.account_id} is {t.state.value}" for t in post.targets)
        )
    return repo.get_post(principal.workspace_id, post_id, consistent=True)


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
    post = repo.get_post(principal.workspace_id, post_id, consistent=True)
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
            attempt=Attempt(now, "retry", f"retry asked by {principal.key_id}"),
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
    principal: Principal, post_id: str, approve: bool, comment: str | None, queue: PublishQueue
) -> Post:
    """An editor, admin or owner approves (targets become scheduled) or rejects (with a comment)."""
    if not can_approve(principal.role):
        raise Forbidden(f"a {principal.role} key cannot approve or reject posts")
    if not approve and not (comment or "").strip():
        raise ValidationFailed.on("comment", "say why the post is rejected", "required")
    now = datetime.now(UTC)
    post = repo.get_post(principal.workspace_id, post_id, consistent=True)
    pending = [t for t in post.targets if t.state is TargetState.PENDING_APPROVAL]
    if not pending:
        raise Conflict(f"post {post_id} is not waiting for approval ({post.status})")
    to = TargetState.SCHEDULED if approve else TargetState.REJECTED
    moved = []
    for target in pending:
        due = (
            target.due_at
            if approve and target.due_at and target.due_at > now
            else (now if approve else target.due_at)
        )
        if repo.transition(target, to, expect=[TargetState.PENDING_APPROVAL], due_at=due):
            moved.append(replace(target, state=to, due_at=due))
    _set_approval(post, {"state": "approved" if approve else "rejected", "by": principal.key_id,
                         "at": now.isoformat(), "comment": comment})  # fmt: skip
    if approve:
        _enqueue_imminent(moved, queue, now)
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
    from chorus.store import keys
    from chorus.store.models import bind

    bind()
    item = WorkspaceItem.get(keys.workspace_pk(workspace_id), keys.workspace_meta_sk())
    return parse_slots((item.settings or {}).get("queue_slots", []))


def set_queue_slots(principal: Principal, raw: list[dict[str, object]]) -> list[Slot]:
    from chorus.store import keys
    from chorus.store.models import bind

    if not at_least(principal.role, Role.EDITOR):
        raise Forbidden("only editors and above change the queue")
    slots = parse_slots(raw)
    bind()
    item = WorkspaceItem.get(keys.workspace_pk(principal.workspace_id), keys.workspace_meta_sk())
    settings = dict(item.settings or {})
    settings["queue_slots"] = [s.to_dict() for s in slots]
    item.update(actions=[WorkspaceItem.settings.set(settings)])
    return slots


def _taken_slots(workspace_id: str, now: datetime) -> set[datetime]:
    planned = repo.calendar(workspace_id, now, now + timedelta(days=366))
    return {
        p.scheduled_at for p in planned if p.mode is Mode.QUEUE and p.scheduled_at and p.status != "cancelled"
    }


# ---------------------------------------------------------------------------------------------- calendar
def calendar(principal: Principal, start: datetime, end: datetime) -> dict[str, object]:
    if end <= start:
        raise ValidationFailed.on("to", "must be after from", "range")
    if end - start > timedelta(days=93):
        raise ValidationFailed.on("to", "a calendar covers at most 93 days", "range")
    tz = workspaces.get_workspace(principal.workspace_id).timezone
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    days: dict[str, dict[str, list[dict[str, object]]]] = {}
    for post in repo.calendar(principal.workspace_id, start, end):
        if post.scheduled_at is None:
            continue
        day = post.scheduled_at.astimezone(zone).date().isoformat()
        for target in post.targets:
            entry = {
                "post_id": post.id,
                "text": post.content_for(target.account_id).text[:280],
                "at": (target.published_at or target.due_at or post.scheduled_at),
                "local_time": (target.due_at or post.scheduled_at).astimezone(zone).strftime("%H:%M"),
                **target.public(post.planned_parts(target.account_id)),
            }
            entry.pop("attempt_log", None)
            days.setdefault(day, {}).setdefault(target.account_id, []).append(entry)
    return {"timezone": tz, "from": start, "to": end, "days": days}


# ---------------------------------------------------------------------------------------------- CSV import
def import_csv(principal: Principal, text: str, queue: PublishQueue) -> dict[str, object]:
    """Columns: time (ISO; naive = workspace zone), accounts (ids separated by ; or |), text, media_url.
    All rows are checked first; if any fails, nothing is created and the report says why per row."""
    now = datetime.now(UTC)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        columns, rows = reader.fieldnames, list(reader)
    except csv.Error as exc:  # a field over the csv module's limit, a NUL character
        raise ValidationFailed.on("csv", f"not a CSV file this import reads: {exc}", "csv") from exc
    missing = {"time", "accounts", "text"} - set(columns or [])
    if missing:
        raise ValidationFailed.on("csv", f"missing column(s): {', '.join(sorted(missing))}", "columns")
    plans: list[Compose] = []
    report: list[dict[str, object]] = []
    for number, row in enumerate(rows, start=2):
        try:
            compose = _row_to_compose(row)
            tz = compose.timezone or workspaces.get_workspace(principal.workspace_id).timezone
            _check_content(_accounts(principal.workspace_id, compose.accounts), compose)
            _due_times(principal.workspace_id, compose, tz, now)
            plans.append(compose)
            report.append({"row": number, "status": "ok"})
        except ValidationFailed as error:
            report.append({"row": number, "status": "error", "errors": [e.__dict__ for e in error.errors]})
        except Exception as error:  # NotFound for an unknown account, and the like
            report.append(
                {"row": number, "status": "error", "errors": [{"field": "accounts", "message": str(error)}]}
            )
    if not report:
        raise ValidationFailed.on("csv", "no rows", "empty")
    if any(r["status"] == "error" for r in report):
        return {"created": 0, "rows": report}
    for entry, compose in zip(report, plans, strict=True):
        created = create_post(principal, compose, queue, now)
        entry["post_id"] = created[0].id
    return {"created": len(plans), "rows": report}


def _row_to_compose(row: dict[str, str]) -> Compose:
    from chorus.posts.timing import parse_time

    ids = tuple(a.strip() for a in (row.get("accounts") or "").replace("|", ";").split(";") if a.strip())
    media: tuple[MediaRef, ...] = ()
    url = (row.get("media_url") or "").strip()
    if url:
        if not url.startswith(("https://", "http://")):
            raise ValidationFailed.on("media_url", "must be an http(s) URL", "url")
        media = (MediaRef(mime_type=_guess_mime(url), url=url),)
    return Compose(
        accounts=ids,
        content=Content(text=row.get("text") or "", media=media),
        mode=Mode.SCHEDULE,
        scheduled_at=parse_time((row.get("time") or "").strip(), "time"),
    )


def _guess_mime(url: str) -> str:
    import mimetypes

    return mimetypes.guess_type(url.split("?", maxsplit=1)[0])[0] or "image/jpeg"


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

"""The publisher: one message, one target, published exactly once.

* The message names the target, the queue token it was sent with (None for a target never handed
  out, which holds none) and its due time; a target that was edited, cancelled or re-queued since
  holds another token (or state), a rescheduled one another due time, and the message is ignored.
* Work that can happen before the due second does (load target, account, post, credentials); the
  platform call waits for the due second.
* The claim, ``scheduled|queued -> publishing``, is a conditional write on the state, the token and
  (for a ``scheduled`` target) the due time: of two workers, or two messages (the scheduler's and the
  API's, two scheduler runs', a resent one), one wins and the others are ``stale``.
* Transient errors retry with exponential backoff and jitter (or the platform's Retry-After);
  rate limits park the target (and the account) without failing it; permanent errors fail it with
  the platform's message; a timeout with unknown outcome goes to ``verifying``, where the platform is
  searched for the post before any retry. A redelivered message that finds its target still
  ``publishing`` (the worker died mid-call) is verified the same way.
* A message that keeps crashing the worker marks its target failed on its last receive, then goes
  to the DLQ.
* Exactly once, part by part (decision 11): ``queued -> publishing`` writes the target's idempotency
  material (key, started_at) once and reads it back; every retry and verify uses it, never a clock.
  Adapters create each part (root, thread parts, first comment) through ``Progress.step``, which
  persists it as sent before the call and as landed (part -> platform id) before the next one (the first
  part's mark rides on the claim, the last part's landing on the final transition: docs/exactly_once.md). A
  retry resumes at the first missing part; a verify looks for the part sent without a known answer
  (the root with ``find_published``, a later part with ``find_part``), up to ``VERIFY_LOOKS`` times
  with backoff (listings are eventually consistent) before it concludes "not published". A target
  whose root is out but a later part failed for good is ``partially_published`` (an alert, the parts
  listed); ``POST /posts/{id}/retry`` re-queues it and the publish completes the missing parts.
* Reminder publishing (a platform or content kind apps cannot publish: :mod:`chorus.posts.reminders`):
  at the due second the target goes ``scheduled|queued -> awaiting_manual`` (conditional on the
  message's token and due time)
  and its assignee is told once; a redelivery of the message finds the reminder already listed and
  its e-mail claimed.
* An inbox draft (an adapter recorded the part ``INBOX``: TikTok's "upload to inbox") ends
  ``sent_to_inbox``, not ``published`` (not linked or followed): the person finishes it in the
  platform's app, then marks it posted with its URL as a reminder's.
* What follows a publish (the inbox's link, metric collection) reads the table's stream of targets that
  became ``published`` (:mod:`chorus.posts.published`): no event, no invocation per post.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from chorus.accounts import service as accounts
from chorus.events.envelope import DomainEvent, EventPublisher
from chorus.links.service import published_content
from chorus.platforms import registry
from chorus.platforms.base import (
    INBOX,
    ROOT,
    AccountCredentials,
    AuthError,
    MediaItem,
    PendingStep,
    PermanentError,
    PlatformError,
    Progress,
    PublishingAdapter,
    PublishRequest,
    PublishResult,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from chorus.posts import reminders
from chorus.posts.model import Attempt, Content, Post, Target, TargetState
from chorus.posts.queue import MAX_DELAY_S, PublishMessage, PublishQueue
from chorus.store import keys
from chorus.store import posts as repo
from chorus.store.posts import CLAIMABLE

log = logging.getLogger(__name__)

WAIT_FOR_DUE_MAX_S = 5.0  # wait in-process up to this long for the due second; longer: re-delay
VERIFY_DELAY_S = 3
VERIFY_LOOKS = (
    3  # looks at an eventually consistent listing before "not published": 3 s, then 6 s and 12 s later
)
BASE_BACKOFF_S = 2.0
MAX_BACKOFF_S = 600.0


@dataclass
class PublisherDeps:
    queue: PublishQueue
    events: EventPublisher
    media_url: Callable[[str], str]  # media bucket key -> a URL the platform can fetch
    max_attempts: int = 6
    max_receives: int = 5
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sleep: Callable[[float], None] = time.sleep
    reminders: reminders.ReminderDeps | None = None  # reminder publishing (None: notifications only)


@dataclass(frozen=True)
class Outcome:
    target_id: str
    result: str  # published | sent_to_inbox | partially_published | retry | parked | verifying | processing | failed | stale | paused | waiting


def backoff(attempt: int, retry_after: float | None = None) -> int:
    """Full-jitter exponential backoff, never sooner than the platform asked."""
    ceiling = min(MAX_BACKOFF_S, BASE_BACKOFF_S * (2 ** max(0, attempt - 1)))
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(MAX_DELAY_S, max(1, round(delay)))


def handle(message: PublishMessage, receive_count: int, deps: PublisherDeps) -> Outcome:
    snapshot = repo.publish_snapshot(message.workspace_id, message.post_id, message.account_id)
    target: Target | None = snapshot.get("target")
    if target is None or target.queue_token != message.token:
        log.info("stale publish message ignored", extra={"target": f"{message.post_id}.{message.account_id}"})
        return Outcome(f"{message.post_id}.{message.account_id}", "stale")
    try:
        post = snapshot.get("post")
        if message.kind == "publish" and post is not None and reminders.by_hand(post, target):
            return _remind(message, target, snapshot, deps)
        return _handle(message, target, snapshot, receive_count, deps)
    except Exception as exc:
        if receive_count >= deps.max_receives:
            post = snapshot.get("post")
            _fail(target, deps, f"publisher crashed {receive_count} times: {exc!r}"[:500], "crashed",
                  expect=[*CLAIMABLE, TargetState.PUBLISHING, TargetState.VERIFYING, TargetState.PROCESSING],
                  planned=post.planned_parts(target.account_id) if post else ())  # fmt: skip
        raise


def _handle(
    message: PublishMessage, target: Target, snapshot: dict[str, Any], receive_count: int, deps: PublisherDeps
) -> Outcome:
    kind = message.kind
    if kind == "publish" and target.state is TargetState.PUBLISHING and receive_count > 1:
        kind = "verify"  # a worker died mid-call: look before publishing again
    expected = {
        "publish": CLAIMABLE,
        "verify": (TargetState.VERIFYING,),
        "step": (TargetState.PROCESSING,),
    }
    if kind == "verify" and target.state is TargetState.PUBLISHING:
        pass
    elif target.state not in expected.get(kind, ()) or _rescheduled(target, message):
        return Outcome(target.id, "stale")

    if "post" not in snapshot or "account" not in snapshot:
        reason = "the post was deleted" if "post" not in snapshot else "the account was removed"
        return _fail(target, deps, reason, "gone", expect=[target.state])
    post: Post = snapshot["post"]
    account = accounts.from_item(snapshot["account"])
    now = deps.now()
    due = keys.parse_iso(message.due_at)

    if kind == "publish":
        early = (due - now).total_seconds()
        if early > WAIT_FOR_DUE_MAX_S:
            deps.queue.send(message, int(early))
            return Outcome(target.id, "waiting")
        if snapshot.get("workspace") is not None and snapshot["workspace"].publishing_paused:
            repo.transition(
                target, TargetState.PAUSED, expect=CLAIMABLE, token=message.token, new_token=None,
                message_due=due,
            )  # fmt: skip
            return Outcome(target.id, "paused")
        if account.status != "active":
            reason = f"account {account.handle or account.id} needs re-authorisation: {account.status_reason or account.status}"
            return _fail(target, deps, reason, "account_needs_reauth", expect=list(CLAIMABLE))
        if account.retry_after and account.retry_after > now:
            return _park(
                target, message, deps, (account.retry_after - now).total_seconds(), "account rate limit"
            )

    creds = accounts.credentials(account)
    adapter = registry.publisher(target.platform)

    if kind == "verify":
        return _verify(target, message, _request(post, target, deps), creds, adapter, deps)

    if kind == "publish":
        exhausted = _quota_exhausted(adapter, creds, target)
        if exhausted is not None:
            return _park(target, message, deps, exhausted, "publishing quota exhausted")
        wait = (due - deps.now()).total_seconds()
        if wait > 0:
            deps.sleep(wait)  # everything is ready: the call goes out at the due second
        # the short links are stored before the claim (and so before the first call): a failure here leaves
        # the target queued, not claimed; every later attempt reads the same ones back
        content = published_content(post, target).content
        first = _first_to_send(post, target)
        started = repo.start_publishing(target, message.token, due, deps.now(), sent=first)
        if started is None:
            return Outcome(target.id, "stale")  # another worker won, or the post was edited
        target = started  # with the persisted idempotency material and the parts already out
        request = _request(post, target, deps, claimed=first, deferred=True, content=content)
        try:
            result = _with_fresh_token(account, creds, adapter, lambda c: adapter.publish(c, request))
        except PlatformError as error:
            return _on_error(target, message, error, deps, request=request)
    else:  # step
        request = _request(post, target, deps, deferred=True)
        step = PendingStep(target.step or "", target.step_state, 0)
        try:
            result = _with_fresh_token(
                account, creds, adapter, lambda c: adapter.continue_publish(c, request, step)
            )
        except PlatformError as error:
            return _on_error(target, message, error, deps, current=TargetState.PROCESSING, request=request)
    return _on_result(target, message, result, deps, request)


def _remind(
    message: PublishMessage, target: Target, snapshot: dict[str, Any], deps: PublisherDeps
) -> Outcome:
    """Reminder publishing at the due second: ``queued -> awaiting_manual`` with its overdue time, then
    the assignee told once (again on a redelivery that finds the target moved by this message)."""
    from chorus.auth.workspaces import DEFAULT_OVERDUE_HOURS, overdue_hours

    post: Post = snapshot["post"]
    workspace = snapshot.get("workspace")
    if target.state in CLAIMABLE:
        if _rescheduled(target, message):
            return Outcome(target.id, "stale")
        due = keys.parse_iso(message.due_at)
        early = (due - deps.now()).total_seconds()
        if early > WAIT_FOR_DUE_MAX_S:
            deps.queue.send(message, int(early))
            return Outcome(target.id, "waiting")
        if workspace is not None and workspace.publishing_paused:
            repo.transition(
                target, TargetState.PAUSED, expect=CLAIMABLE, token=message.token, new_token=None,
                message_due=due,
            )  # fmt: skip
            return Outcome(target.id, "paused")
        if early > 0:
            deps.sleep(early)  # the reminder goes out at the due second, like any publish
        now = deps.now()
        hours = overdue_hours(workspace.settings) if workspace is not None else DEFAULT_OVERDUE_HOURS
        deadline = reminders.overdue_deadline(now, hours)
        if not repo.transition(
            target, TargetState.AWAITING_MANUAL, expect=CLAIMABLE, token=message.token, message_due=due,
            overdue_at=deadline, attempt=Attempt(now, "awaiting_manual", f"reminder to {post.responsible}"),
        ):  # fmt: skip
            return Outcome(target.id, "stale")
        target = replace(target, state=TargetState.AWAITING_MANUAL, overdue_at=deadline)
    elif target.state is not TargetState.AWAITING_MANUAL or target.reminded_at is not None:
        return Outcome(target.id, "stale")
    account = snapshot.get("account")
    name = (
        (account.display_name or account.handle or account.account_id)
        if account is not None
        else target.account_id
    )
    timezone = workspace.timezone if workspace is not None else post.timezone
    deps_r = deps.reminders or reminders.ReminderDeps(None, deps.media_url, lambda _w, _r: None)
    note = reminders.reminder(post, target, name, timezone, deps_r)
    reminders.remind(note, deps_r, deps.now())
    repo.note_reminded(target, deps.now())
    return Outcome(target.id, "awaiting_manual")


def _rescheduled(target: Target, message: PublishMessage) -> bool:
    """A ``scheduled`` target no longer due when ``message`` says (rescheduled since it was sent)."""
    return target.state is TargetState.SCHEDULED and (
        target.due_at is None or keys.iso(target.due_at) != message.due_at
    )


def _first_to_send(post: Post, target: Target) -> str | None:
    """The part a publish sends first (the first planned one not out yet), to be marked sent by the
    claim itself; None when it is marked already (sent without an answer: the adapter's step verifies)."""
    first = next((p for p in post.planned_parts(target.account_id) if p not in target.parts), None)
    return None if first is None or first in target.sent_parts else first


QUOTA_PARK_S = 900.0  # an exhausted quota (a rolling 24 h window on Instagram) is looked at again later


def _quota_exhausted(adapter: PublishingAdapter, creds: AccountCredentials, target: Target) -> float | None:
    """Seconds to wait when the adapter reports an exhausted publishing quota; None to go ahead (also
    when the quota cannot be read: the publish call itself then says whether it may post)."""
    read_quota = getattr(adapter, "quota", None)
    if read_quota is None:
        return None
    try:
        quota = read_quota(creds)
    except PlatformError as error:
        log.warning("publishing quota unreadable", extra={"target": target.id, "error": error.message})
        return None
    if not getattr(quota, "exhausted", False):
        return None
    return QUOTA_PARK_S


def _with_fresh_token(
    account: accounts.Account,
    creds: AccountCredentials,
    adapter: PublishingAdapter,
    publish: Callable[[AccountCredentials], PublishResult | PendingStep],
) -> PublishResult | PendingStep:
    """A refused token (AuthError) is refreshed once and the call repeated once (the platform did not
    act on a request it refused); tokens an adapter refreshed on its own (Bluesky) are stored."""
    try:
        result = publish(creds)
    except AuthError as error:
        try:
            fresh = accounts.refreshed_credentials(account, creds)
        except AuthError as refused:
            raise AuthError(
                f"{error.message} (token refresh refused: {refused.message})",
                platform=error.platform,
                code=refused.code or error.code,
                status=error.status,
            ) from refused
        if fresh is None:
            raise
        log.info("token refreshed after the platform refused it", extra={"account_id": account.id})
        creds = fresh
        result = publish(creds)
    from chorus.accounts.refreshers import session_tokens

    try:
        accounts.remember_tokens(account, creds, session_tokens(adapter, creds))
    except Exception:  # the post is out: failing to keep a session must not fail it
        log.exception("adapter session tokens not stored", extra={"account_id": account.id})
    return result


def _progress(target: Target, deps: PublisherDeps, claimed: str | None = None) -> Progress:
    """The target's persisted idempotency material and parts, written back as parts land.

    A target that went in flight before the material was persisted (a deploy mid-publish) has none:
    its verify uses the target id and its first attempt, what the adapters used then."""
    started = target.started_at
    if started is None:
        started = next((a.at for a in target.attempt_log), None) or target.due_at or deps.now()
    return Progress(
        key=target.idem_key or target.id,
        started_at=started,
        landed=dict(target.parts),
        sent=set(target.sent_parts) - {claimed},  # the claimed part counts as sent once its step runs
        root_url=target.url,
        store=repo.TargetProgress(target),
        claimed=claimed,
    )


def _request(
    post: Post,
    target: Target,
    deps: PublisherDeps,
    *,
    claimed: str | None = None,
    deferred: bool = False,
    content: Content | None = None,
) -> PublishRequest:
    """The adapter's request. ``claimed``: the part the claim marked sent; ``deferred``: the last
    part's landing is left to the final transition (publish and step; a verify persists as it finds);
    ``content``: what :func:`published_content` gave (links tagged and shortened, the same every time)."""
    content = content or published_content(post, target).content
    media = tuple(
        MediaItem(
            url=m.url or deps.media_url(m.key or ""), mime_type=m.mime_type, alt_text=m.alt_text, size=m.size
        )
        for m in content.media
    )
    progress = _progress(target, deps, claimed)
    request = PublishRequest(
        target_id=target.id,
        text=content.text,
        media=media,
        link=content.link,
        thread=content.thread,
        first_comment=content.first_comment,
        options=content.options.get(target.platform, {}),
        not_before=progress.started_at - timedelta(minutes=5),
        title=content.title,
        link_original=post.content_for(target.account_id).link,
        progress=progress,
    )
    if deferred:
        progress.deferred = request.parts[-1]
    return request


def _on_result(
    target: Target,
    message: PublishMessage,
    result: PublishResult | PendingStep,
    deps: PublisherDeps,
    request: PublishRequest,
) -> Outcome:
    now = deps.now()
    current = [TargetState.PUBLISHING, TargetState.PROCESSING, TargetState.VERIFYING]
    progress = request.progress
    progress.release()  # claimed and never sent (an adapter that had nothing to send for it)
    landed = progress.take_unsaved()  # the last part's landing: written by this transition
    if isinstance(result, PendingStep):
        token = uuid.uuid4().hex
        at = now + timedelta(seconds=result.delay_seconds)
        repo.transition(
            target, TargetState.PROCESSING, expect=current, new_token=token, due_at=at,
            step=result.step, step_state=dict(result.state),
            attempt=Attempt(now, "processing", result.step), landed=landed,
        )  # fmt: skip
        deps.queue.send(
            PublishMessage(
                "step", target.workspace_id, target.post_id, target.account_id, token, keys.iso(at)
            ),
            result.delay_seconds,
        )
        return Outcome(target.id, "processing")
    if INBOX in progress.landed:  # a draft the platform holds for a person to finish in its app
        repo.transition(
            target, TargetState.SENT_TO_INBOX, expect=current, new_token=None,
            platform_post_id=result.platform_post_id, error=None, error_code=None, verify_looks=None,
            attempt=Attempt(now, "sent_to_inbox", result.platform_post_id), landed=landed,
        )  # fmt: skip
        return Outcome(target.id, "sent_to_inbox")
    repo.transition(
        target, TargetState.PUBLISHED, expect=current, new_token=None,
        platform_post_id=result.platform_post_id, url=result.url, published_at=now, error=None, error_code=None,
        verify_looks=None, attempt=Attempt(now, "published", result.platform_post_id), landed=landed,
    )  # fmt: skip
    # no event: the table's stream links and follows what became published (chorus.posts.published), in
    # batches, and it cannot miss one (the stream record is written with the transition itself)
    return Outcome(target.id, "published")


def _on_error(
    target: Target,
    message: PublishMessage,
    error: PlatformError,
    deps: PublisherDeps,
    current: TargetState = TargetState.PUBLISHING,
    *,
    request: PublishRequest,
) -> Outcome:
    now = deps.now()
    request.progress.release()  # claimed, and its request never went out
    request.progress.flush()  # a landing kept for a transition that is not the final one
    landed, planned = request.progress.landed, request.parts
    if isinstance(error, UnknownOutcome):
        token = uuid.uuid4().hex
        at = now + timedelta(seconds=VERIFY_DELAY_S)
        repo.transition(
            target, TargetState.VERIFYING, expect=[current], new_token=token, due_at=at, verify_looks=None,
            attempt=Attempt(now, "unknown", error.message, error.status),
        )  # fmt: skip
        deps.queue.send(
            PublishMessage(
                "verify", target.workspace_id, target.post_id, target.account_id, token, keys.iso(at)
            ),
            VERIFY_DELAY_S,
        )
        return Outcome(target.id, "verifying")
    if isinstance(error, AuthError):
        accounts.mark_needs_reauth(target.workspace_id, target.account_id, error.message)
        deps.events.publish(
            [DomainEvent("AccountNeedsReauth", target.workspace_id,
                         {"account_id": target.account_id, "platform": target.platform, "reason": error.message})]
        )  # fmt: skip
        return _fail(target, deps, error.message, error.code or "auth", expect=[current], status=error.status,
                     landed=landed, planned=planned)  # fmt: skip
    if isinstance(error, RateLimited):
        retry_after = error.retry_after or 60.0
        accounts.set_retry_after(target.workspace_id, target.account_id, now + timedelta(seconds=retry_after))
        return _requeue(
            target,
            deps,
            current,
            backoff(1, retry_after),
            Attempt(now, "rate_limited", error.message, error.status),
        )
    if isinstance(error, TransientError):
        if target.attempts >= deps.max_attempts:
            return _fail(target, deps, f"gave up after {target.attempts} attempts: {error.message}",
                         error.code or "transient", expect=[current], status=error.status,
                         landed=landed, planned=planned)  # fmt: skip
        delay = backoff(target.attempts, error.retry_after)
        return _requeue(target, deps, current, delay, Attempt(now, "retry", error.message, error.status))
    if isinstance(error, PermanentError):
        return _fail(target, deps, error.message, error.code or "rejected", expect=[current], status=error.status,
                     landed=landed, planned=planned)  # fmt: skip
    return _fail(target, deps, error.message, "error", expect=[current], status=error.status,
                 landed=landed, planned=planned)  # fmt: skip


def _requeue(
    target: Target, deps: PublisherDeps, current: TargetState, delay: int, attempt: Attempt
) -> Outcome:
    """Back to ``queued`` with a fresh token and a "publish" message: it resumes at the first missing part."""
    token = uuid.uuid4().hex
    at = deps.now() + timedelta(seconds=delay)
    if not repo.transition(
        target, TargetState.QUEUED, expect=[current], new_token=token, due_at=at, attempt=attempt,
        verify_looks=None,
    ):  # fmt: skip
        return Outcome(target.id, "stale")
    deps.queue.send(
        PublishMessage(
            "publish", target.workspace_id, target.post_id, target.account_id, token, keys.iso(at)
        ),
        delay,
    )
    return Outcome(target.id, "parked" if attempt.outcome == "rate_limited" else "retry")


def _park(target: Target, message: PublishMessage, deps: PublisherDeps, seconds: float, why: str) -> Outcome:
    """Wait without failing (rate limit or quota): the same token, a later delivery. A ``scheduled``
    target becomes ``queued`` (its message is the publisher's own now: the lost-message sweep finds it
    in the QUEUED bucket of its next delivery)."""
    delay = min(MAX_DELAY_S, max(1, round(seconds)))
    if target.state is TargetState.SCHEDULED and not repo.transition(
        target, TargetState.QUEUED, expect=[TargetState.SCHEDULED], token=message.token,
        message_due=keys.parse_iso(message.due_at),
    ):  # fmt: skip
        return Outcome(target.id, "stale")
    deps.queue.send(message, delay)
    repo.set_queued_bucket(target, deps.now() + timedelta(seconds=delay), message.token)
    log.info("target parked", extra={"target": target.id, "why": why, "delay_s": delay})
    return Outcome(target.id, "parked")


def _verify(
    target: Target,
    message: PublishMessage,
    request: PublishRequest,
    creds: AccountCredentials,
    adapter: PublishingAdapter,
    deps: PublisherDeps,
) -> Outcome:
    """Look for the part sent without a known answer (the root after a crash mid-call, when nothing
    is marked); found: record it and go on; not found after ``VERIFY_LOOKS`` looks: publish it again."""
    now = deps.now()
    current = target.state
    progress = request.progress
    part = progress.pending(request.parts)
    if part is None and ROOT in progress.landed:
        return _resume(target, message, request, deps, current, "nothing sent without an answer")
    part = part or ROOT
    looks = target.verify_looks + 1
    try:
        found_id, url = _look(adapter, creds, request, part)
    except PlatformError as error:  # a lookup that failed counts as a look, with a budget of its own
        if isinstance(error, TransientError | UnknownOutcome) and looks < 2 * VERIFY_LOOKS:
            return _look_again(target, message, deps, backoff(looks),
                               Attempt(now, "verify_retry", error.message, error.status), looks)  # fmt: skip
        return _fail(target, deps, f"could not verify the post: {error.message}", "verify_failed", expect=[current],
                     landed=progress.landed, planned=request.parts)  # fmt: skip
    if found_id is not None:
        progress.record(part, found_id, url)
        return _resume(target, message, request, deps, current, f"part {part} found as {found_id}")
    if looks < VERIFY_LOOKS:  # listings are eventually consistent: look again before concluding
        return _look_again(target, message, deps, VERIFY_DELAY_S * 2**looks,
                           Attempt(now, "not_found_yet", f"part {part} not found (look {looks} of {VERIFY_LOOKS})"),
                           looks)  # fmt: skip
    if progress.store is not None:
        progress.store.part_unsent(part)
    progress.sent.discard(part)
    if target.attempts >= deps.max_attempts:
        return _fail(target, deps, f"part {part} was not found on the platform after the last attempt", "not_found",
                     expect=[current], landed=progress.landed, planned=request.parts)  # fmt: skip
    return _requeue(
        target,
        deps,
        current,
        1,
        Attempt(now, "not_found", f"part {part} not on the platform: publishing it again"),
    )


def _look(
    adapter: PublishingAdapter, creds: AccountCredentials, request: PublishRequest, part: str
) -> tuple[str | None, str | None]:
    """(platform id, url) of ``part`` if the platform has it."""
    if part == ROOT:
        found = adapter.find_published(creds, request)
        return (found.platform_post_id, found.url) if found else (None, None)
    find_part = getattr(adapter, "find_part", None)
    if find_part is None:
        raise PermanentError(f"{adapter.name} cannot look up part {part}", platform=adapter.name)
    return find_part(creds, request, part), None


def _look_again(
    target: Target, message: PublishMessage, deps: PublisherDeps, delay: int, attempt: Attempt, looks: int
) -> Outcome:
    """Stay in ``verifying`` and look again after ``delay`` (``looks``: how many looks found nothing yet)."""
    token = uuid.uuid4().hex
    at = deps.now() + timedelta(seconds=delay)
    if not repo.transition(
        target, TargetState.VERIFYING, expect=[target.state], token=message.token, new_token=token, due_at=at,
        attempt=attempt, verify_looks=looks,
    ):  # fmt: skip
        return Outcome(target.id, "stale")
    deps.queue.send(
        PublishMessage("verify", target.workspace_id, target.post_id, target.account_id, token, keys.iso(at)),
        delay,
    )
    return Outcome(target.id, "verifying")


def _resume(
    target: Target,
    message: PublishMessage,
    request: PublishRequest,
    deps: PublisherDeps,
    current: TargetState,
    why: str,
) -> Outcome:
    """Every part out: published. Else back to the queue: the publish resumes at the first missing part."""
    landed = request.progress.landed
    missing = [p for p in request.parts if p not in landed]
    if not missing:
        result = PublishResult(
            landed[ROOT], request.progress.root_url, tuple(landed[p] for p in request.parts if p != ROOT)
        )
        return _on_result(target, message, result, deps, request)
    return _requeue(
        target, deps, current, 1, Attempt(deps.now(), "verified", f"{why}: resuming at part {missing[0]}")
    )


def _fail(
    target: Target,
    deps: PublisherDeps,
    reason: str,
    code: str,
    *,
    expect: list[TargetState],
    status: int | None = None,
    landed: dict[str, str] | None = None,
    planned: list[str] | tuple[str, ...] = (),
) -> Outcome:
    """Failed for good. With its root out (``landed``, else what the target holds) the target is
    ``partially_published``: the parts out and those missing are listed, and a retry completes it."""
    now = deps.now()
    parts = dict(target.parts if landed is None else landed)
    partial = ROOT in parts
    to = TargetState.PARTIALLY_PUBLISHED if partial else TargetState.FAILED
    if not repo.transition(
        target, to, expect=expect, new_token=None, error=reason, error_code=code, verify_looks=None,
        attempt=Attempt(now, "partially_published" if partial else "failed", reason, status),
    ):  # fmt: skip
        return Outcome(target.id, "stale")
    detail = {
        "post_id": target.post_id,
        "account_id": target.account_id,
        "platform": target.platform,
        "error": reason,
        "error_code": code,
        "attempts": target.attempts,
    }
    if partial:
        detail |= {
            "platform_post_id": parts[ROOT],
            "parts": parts,
            "missing_parts": [p for p in planned if p not in parts],
        }
    name = "PublishPartiallyFailed" if partial else "PublishFailed"
    deps.events.publish([DomainEvent(name, target.workspace_id, detail, correlation_id=target.id)])
    return Outcome(target.id, to.value if partial else "failed")

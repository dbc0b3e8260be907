"""Routes: posts (compose, edit, approve, reject, cancel), calendar, queue slots, media uploads, CSV import."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, principal, query, route, within_bytes
from chorus.auth.roles import Role
from chorus.errors import ValidationFailed
from chorus.library.media import register_upload
from chorus.links.utm import check_values
from chorus.posts import approvals, changes, imports, service
from chorus.posts.model import Content, MediaRef, Mode
from chorus.posts.queue import default_queue
from chorus.posts.timing import parse_time
from chorus.store.pages import PageRequest
from chorus.tags import clean_tag, clean_tags

bp = Blueprint(__name__)

MAX_UPLOAD = 1024 * 1024 * 1024  # 1 GiB: the largest video any supported platform takes
MAX_POST_BYTES = 256 * 1024  # a post is one DynamoDB item (400 KB at most, with its other attributes)


class MediaIn(BaseModel):
    mime_type: str = Field(max_length=100)
    key: str | None = Field(default=None, max_length=1024)  # S3's longest key
    url: str | None = Field(default=None, pattern=r"^https?://", max_length=2048)
    size: int | None = Field(default=None, ge=0)
    alt_text: str = Field(default="", max_length=2000)


class ContentIn(BaseModel):
    text: str = ""
    media: list[MediaIn] = Field(default_factory=list, max_length=10)
    link: str | None = Field(default=None, pattern=r"^https?://", max_length=2048)
    thread: list[str] = Field(default_factory=list, max_length=25)
    first_comment: str | None = None
    # each platform's own settings, by platform ({"youtube": {"privacy": "unlisted"}}): checked per target
    options: dict[str, dict[str, str]] = Field(default_factory=dict, max_length=20)
    title: str | None = Field(default=None, max_length=1000)  # Xiaohongshu, Zhihu (checked per platform)

    def domain(self) -> Content:
        return Content(
            title=self.title or None,
            text=self.text,
            media=tuple(MediaRef(m.mime_type, m.key, m.url, m.size, m.alt_text) for m in self.media),
            link=self.link,
            thread=tuple(self.thread),
            first_comment=self.first_comment,
            options={p: dict(o) for p, o in self.options.items()},
        )


class RecurrenceIn(BaseModel):
    every: int = Field(ge=1, le=365)
    unit: Literal["day", "week"]
    until: date | None = None
    count: int | None = Field(default=None, ge=1, le=100)


class PostIn(ContentIn):
    accounts: list[str] = Field(min_length=1, max_length=50)
    variants: dict[str, ContentIn] = Field(default_factory=dict)
    mode: Mode = Mode.SCHEDULE
    scheduled_at: datetime | None = None
    timezone: str | None = None
    recurrence: RecurrenceIn | None = None
    version: int | None = None  # for edits: the version the client last saw
    campaign_id: str | None = Field(default=None, max_length=64)
    utm: dict[str, Any] = Field(default_factory=dict)  # source, medium, campaign, content, term, enabled
    assignee: str | None = Field(default=None, min_length=1, max_length=200)  # who posts it by hand
    tags: list[str] | None = None  # the post's tags (chorus.tags); left out of an edit: kept as they are

    def compose(self) -> service.Compose:
        within_bytes(self, MAX_POST_BYTES)  # with its variants; each platform's limits come later
        for media in self.media:
            if media.key is None and media.url is None:
                raise ValidationFailed.on(
                    "media", "each item needs the key of an upload or a url", "required"
                )
        return service.Compose(
            accounts=tuple(self.accounts),
            content=self.domain(),
            variants={k: v.domain() for k, v in self.variants.items()},
            mode=self.mode,
            scheduled_at=self.scheduled_at,
            timezone=self.timezone,
            recurrence=service.parse_recurrence(self.recurrence.model_dump() if self.recurrence else None),
            campaign_id=self.campaign_id,
            utm=check_values(self.utm),
            assignee=self.assignee,
            tags=None if self.tags is None else tuple(clean_tags(self.tags)),
        )


class Decision(BaseModel):
    comment: str | None = Field(default=None, max_length=2000)
    version: int | None = Field(default=None, ge=1)  # the version reviewed: required to approve


class Approval(BaseModel):
    comment: str | None = Field(default=None, max_length=2000)
    version: int = Field(ge=1)  # the version the approver saw: 409 when the post is at another one


class SlotsIn(BaseModel):
    slots: list[dict[str, Any]] = Field(max_length=200)


class UploadIn(BaseModel):
    filename: str = Field(min_length=1, max_length=200)
    mime_type: str = Field(max_length=100)
    size: int = Field(gt=0, le=MAX_UPLOAD)
    tags: list[str] = Field(default_factory=list, max_length=20)  # the media library's tags


@route(bp, "/posts", methods=["POST"])
def create_post() -> Response:
    who = principal(Role.CONTRIBUTOR)
    req = body(bp.current_request, PostIn)
    created = approvals.propose(who, req.compose(), default_queue())
    if len(created) == 1:
        return ok(created[0].public(), status=201)
    return ok({"series_id": created[0].series_id, "posts": [p.public() for p in created]}, status=201)


@route(bp, "/posts", methods=["GET"])
def list_posts() -> Response:
    params = query(bp.current_request)
    found = service.posts_page(principal(), PageRequest.from_query(params), params.get("status"))
    return ok({"posts": [p.public() for p in found.items], "next_cursor": found.next_cursor})


@route(bp, "/posts/{post_id}", methods=["GET"])
def get_post(post_id: str) -> Response:
    return ok(service.get_post(principal(), post_id).public())


@route(bp, "/posts/{post_id}/changes", methods=["GET"])
def post_changes(post_id: str) -> Response:
    """What changed since the post was last approved: text word by word per variant, media, time."""
    return ok(changes.changes_since_approval(principal(), post_id).public())


@route(bp, "/posts/{post_id}", methods=["PUT"])
def edit_post(post_id: str) -> Response:
    who = principal(Role.CONTRIBUTOR)
    req = body(bp.current_request, PostIn)
    return ok(approvals.revise(who, post_id, req.compose(), req.version, default_queue()).public())


@route(bp, "/posts/{post_id}", methods=["DELETE"])
def cancel_post(post_id: str) -> Response:
    return ok(service.cancel_post(principal(Role.CONTRIBUTOR), post_id).public())


@route(bp, "/posts/{post_id}/approve", methods=["POST"])
def approve_post(post_id: str) -> Response:
    who = principal(Role.EDITOR)
    req = body(bp.current_request, Approval)
    decided = approvals.decide_and_tell(who, post_id, True, req.comment, default_queue(), req.version)
    return ok(decided.public())


@route(bp, "/posts/{post_id}/reject", methods=["POST"])
def reject_post(post_id: str) -> Response:
    who = principal(Role.EDITOR)
    req = body(bp.current_request, Decision)
    decided = approvals.decide_and_tell(who, post_id, False, req.comment, default_queue(), req.version)
    return ok(decided.public())


class RetryIn(BaseModel):
    accounts: list[str] | None = Field(default=None, min_length=1, max_length=50)


@route(bp, "/posts/{post_id}/retry", methods=["POST"])
def retry_post(post_id: str) -> Response:
    """Publish a post's failed and partially published targets again (``accounts``: only those)."""
    who = principal(Role.EDITOR)
    req = body(bp.current_request, RetryIn)
    return ok(service.retry_post(who, post_id, req.accounts, default_queue()).public())


@route(
    bp,
    "/posts/import",
    methods=["POST"],
    content_types=["text/csv", "application/octet-stream", "text/plain"],
)
def import_posts() -> Response:
    """CSV import, all or nothing, as a job: 201 with the job once its posts are created, 200 with the
    job an earlier upload under the same ``Idempotency-Key`` (or the same body) made, 422 with a
    report per row when a row is wrong (nothing created), 413 over 1,000 rows."""
    who = principal(Role.CONTRIBUTOR)
    request = bp.current_request
    answer = imports.import_csv(
        who, request.raw_body or b"", default_queue(), request.headers.get("idempotency-key")
    )
    return ok(answer.body, status=answer.status)


@route(bp, "/posts/import/{job_id}", methods=["GET"])
def get_import(job_id: str) -> Response:
    return ok(imports.job_status(principal(), job_id))


@route(bp, "/calendar", methods=["GET"])
def calendar() -> Response:
    """Planned and published posts by local day and account, with the queue's free slots.

    ``from``..``to`` (ISO-8601, at most 93 days); ``campaign``, ``tag``: only the posts of that campaign,
    with that tag (a 422 naming the parameter when it is not one)."""
    params = query(bp.current_request)
    if "from" not in params or "to" not in params:
        raise ValidationFailed.on("from" if "from" not in params else "to", "required (ISO-8601)", "required")
    start, end = parse_time(params["from"], "from"), parse_time(params["to"], "to")
    if start.tzinfo is None or end.tzinfo is None:
        from datetime import UTC

        start, end = start.replace(tzinfo=start.tzinfo or UTC), end.replace(tzinfo=end.tzinfo or UTC)
    tag = clean_tag(params["tag"]) if "tag" in params else None
    return ok(service.calendar(principal(), start, end, params.get("campaign"), tag))


@route(bp, "/queue/slots", methods=["GET"])
def get_slots() -> Response:
    return ok({"slots": [s.to_dict() for s in service.queue_slots(principal().workspace_id)]})


@route(bp, "/queue/slots", methods=["PUT"])
def put_slots() -> Response:
    who = principal(Role.EDITOR)
    req = body(bp.current_request, SlotsIn)
    return ok({"slots": [s.to_dict() for s in service.set_queue_slots(who, req.slots)]})


@route(bp, "/media", methods=["POST"])
def create_upload() -> Response:
    """A presigned PUT URL for one media file; the returned key goes into a post's media list. The file
    is a media library item from now on (``GET /media/{media_id}``), read once it is stored."""
    who = principal(Role.CONTRIBUTOR)
    req = body(bp.current_request, UploadIn)
    upload = register_upload(who, req.filename, req.mime_type, req.size, req.tags)
    return ok(
        {
            "id": upload.media_id,
            "key": upload.key,
            "upload_url": upload.upload_url,
            "mime_type": req.mime_type,
            "size": req.size,
        },
        status=201,
    )


class PauseIn(BaseModel):
    reason: str = Field(default="paused by a person", max_length=500)


class ResumeIn(BaseModel):
    release: Literal["now", "hold"] = "now"


@route(bp, "/publishing", methods=["GET"])
def publishing_status() -> Response:
    from dataclasses import asdict

    from chorus.posts import pausing

    return ok(asdict(pausing.status(principal().workspace_id)))


@route(bp, "/publishing/pause", methods=["POST"])
def pause_publishing() -> Response:
    from dataclasses import asdict

    from chorus.posts import pausing

    req = body(bp.current_request, PauseIn)
    return ok(asdict(pausing.pause(principal(Role.EDITOR).workspace_id, req.reason)))


@route(bp, "/publishing/resume", methods=["POST"])
def resume_publishing() -> Response:
    from dataclasses import asdict

    from chorus.posts import pausing

    req = body(bp.current_request, ResumeIn)
    return ok(asdict(pausing.resume(principal(Role.EDITOR).workspace_id, default_queue(), req.release)))

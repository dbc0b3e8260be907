"""Bulk CSV import, all or nothing, as a job under an idempotency key.

Columns: ``time`` (ISO; naive = the workspace's zone), ``accounts`` (ids separated by ``;`` or ``|``),
``text``, optional ``media_url``. One post per row.

1. The body is read strictly (:func:`chorus.posts.validation.csv_text`: UTF-8, a BOM dropped, no NUL
   byte), at most :data:`MAX_BYTES` and :data:`MAX_ROWS` rows -- each refusal a 4xx naming the problem.
2. Every row is checked before anything is written; if one fails, nothing is created and the answer
   (422) reports every row.
3. The job id is derived from the workspace and the ``Idempotency-Key`` (or, without one, the body's
   SHA-256), and the job is stored with a condition: a retried upload finds the job, and is answered
   with it instead of creating posts again. The same key with another body is a conflict.
4. Post ids derive from the job id and the row, and posts are written in chunks of one transaction
   each (conditioned on not existing): an attempt that died midway is resumed by the retry, chunks
   already there are recognised, not duplicated. The job's ``rows_done`` moves after every chunk
   (``GET /posts/import/{job_id}``). A chunk that cannot be written rolls back every post of the job
   (the job is ``failed``: nothing was created; the same upload may be retried).
5. Targets due within the API's window (:func:`chorus.posts.scheduler.api_window`) are handed out once
   every chunk is written, so a rolled-back import never published anything.

A 1,000-row import runs inside the request (about 20 transactions); the answer is 201 with the job.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chorus.accounts import service as accounts
from chorus.auth import workspaces
from chorus.auth.keys import Principal
from chorus.auth.roles import Role, at_least
from chorus.errors import ChorusError, Conflict, Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from chorus.net.fetch import checked_url
from chorus.posts import service
from chorus.posts.model import Content, MediaRef, Mode, Post
from chorus.posts.queue import PublishQueue
from chorus.posts.timing import parse_time
from chorus.posts.validation import csv_text
from chorus.store import imports as store

log = logging.getLogger(__name__)

MAX_ROWS = 1_000
MAX_BYTES = 5 * 1024 * 1024  # under Lambda's 6 MB request payload; 1,000 rows of long posts fit
CHUNK_ITEMS = 100  # one DynamoDB transaction
REQUIRED = ("time", "accounts", "text")
_JOB_ID = re.compile(r"imp[0-9a-f]{24}")


@dataclass(frozen=True)
class Answer:
    status: int  # 201 created now | 200 an earlier upload's job | 202 still running | 422 | 503
    body: dict[str, Any]


# ------------------------------------------------------------------------------------- reading
def decode(raw: bytes) -> str:
    """The CSV text, or a 4xx naming what is wrong with the bytes (size, encoding, a NUL byte)."""
    if len(raw) > MAX_BYTES:
        raise PayloadTooLarge.on(
            "csv", f"{len(raw)} bytes; an import is at most {MAX_BYTES} bytes", "max_bytes"
        )
    return csv_text(raw)


def read_rows(text: str) -> list[dict[str, str]]:
    """The data rows (at most :data:`MAX_ROWS`), or a 4xx naming the limit, the column or the line."""
    reader = csv.DictReader(
        io.StringIO(text), strict=True
    )  # an unterminated quote is an error, not one huge field
    rows: list[dict[str, str]] = []
    try:
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationFailed.on("csv", f"missing column(s): {', '.join(missing)}", "columns")
        for row in reader:
            if len(rows) == MAX_ROWS:
                raise PayloadTooLarge.on("csv", f"more than {MAX_ROWS} rows; split the file", "max_rows")
            rows.append({k: v for k, v in row.items() if isinstance(k, str) and isinstance(v, str)})
    except csv.Error as exc:  # a field over the csv module's limit, an unterminated quote
        raise ValidationFailed.on("csv", f"line {reader.line_num}: {exc}", "syntax") from exc
    if not rows:
        raise ValidationFailed.on("csv", "no rows", "empty")
    return rows


def row_to_compose(row: dict[str, str]) -> service.Compose:
    ids = tuple(a.strip() for a in (row.get("accounts") or "").replace("|", ";").split(";") if a.strip())
    media: tuple[MediaRef, ...] = ()
    url = (row.get("media_url") or "").strip()
    if url:
        url = checked_url(url, "media_url")  # https, no private address: fetched through the guarded door
        mime = mimetypes.guess_type(url.split("?", maxsplit=1)[0])[0] or "image/jpeg"
        media = (MediaRef(mime_type=mime, url=url),)
    return service.Compose(
        accounts=ids,
        content=Content(text=row.get("text") or "", media=media),
        mode=Mode.SCHEDULE,
        scheduled_at=parse_time((row.get("time") or "").strip(), "time"),
    )


# ------------------------------------------------------------------------------------- identity
def job_identity(workspace_id: str, raw: bytes, idempotency_key: str | None) -> tuple[str, str]:
    """``(job_id, body_hash)``: the job id names the workspace and the key (the body's hash when the
    client sent no ``Idempotency-Key``)."""
    body_hash = hashlib.sha256(raw).hexdigest()
    key = (idempotency_key or "").strip()
    if key and (len(key) > 255 or not key.isprintable()):
        raise ValidationFailed.on("Idempotency-Key", "at most 255 printable characters", "idempotency_key")
    seed = f"{workspace_id}\x00{key or 'sha256:' + body_hash}"
    return "imp" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:24], body_hash


def post_id_for(job_id: str, row: int, occurrence: int = 0) -> str:
    """The id of the post line ``row`` of job ``job_id`` makes: the same on every attempt of the job."""
    return "p" + hashlib.sha256(f"{job_id}#{row}#{occurrence}".encode()).hexdigest()[:15]


# ------------------------------------------------------------------------------------- the job
def public(job: store.ImportJob) -> dict[str, Any]:
    body: dict[str, Any] = {
        "job_id": job.job_id,
        "state": job.state,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "created": job.created,
        "rows": job.rows,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "status_url": f"/posts/import/{job.job_id}",
    }
    if job.error:
        body["error"] = job.error
    return body


def job_status(principal: Principal, job_id: str) -> dict[str, Any]:
    if not _JOB_ID.fullmatch(job_id):  # not one of ours (and never a key DynamoDB would refuse)
        raise NotFound(f"import job {job_id[:40]} not found")
    return public(store.require_job(principal.workspace_id, job_id))


def _plan(principal: Principal, rows: list[dict[str, str]], job_id: str, now: datetime) -> tuple[
    list[list[Post]], list[dict[str, Any]]
]:  # fmt: skip
    """Each row's posts (empty for a row in error) and the per-row report; nothing is written."""
    tz = workspaces.get_workspace(principal.workspace_id).timezone
    platform_of: dict[str, str] = {}
    planned: list[list[Post]] = []
    report: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        try:
            compose = row_to_compose(row)
            for account_id in compose.accounts:
                if account_id not in platform_of:  # NotFound names an unknown account
                    platform_of[account_id] = accounts.get_account(
                        principal.workspace_id, account_id
                    ).platform
            if not compose.accounts:
                raise ValidationFailed.on("accounts", "choose at least one account", "required")
            platforms = {a: platform_of[a] for a in compose.accounts}
            service.check_content(principal.workspace_id, platforms, compose)
            posts = service.build_posts(principal, compose, platforms, tz, now, _ids(job_id, number))
            planned.append(posts)
            report.append({"row": number, "status": "ok", "post_id": posts[0].id})
        except ValidationFailed as error:
            planned.append([])
            report.append({"row": number, "status": "error", "errors": [e.__dict__ for e in error.errors]})
        except ChorusError as error:  # NotFound for an unknown account
            planned.append([])
            report.append({"row": number, "status": "error",
                           "errors": [{"field": "accounts", "message": error.detail, "rule": "unknown_account"}]})  # fmt: skip
    return planned, report


def _ids(job_id: str, row: int) -> Callable[[int], str]:
    return lambda occurrence: post_id_for(job_id, row, occurrence)


def _chunks(planned: list[list[Post]]) -> list[tuple[int, list[Post]]]:
    """``(rows in the chunk, posts)``, a row's posts never split, at most :data:`CHUNK_ITEMS` items."""
    chunks: list[tuple[int, list[Post]]] = []
    rows, items = 0, 0
    posts: list[Post] = []
    for row_posts in planned:
        size = sum(1 + len(p.targets) for p in row_posts)
        if posts and items + size > CHUNK_ITEMS:
            chunks.append((rows, posts))
            rows, posts, items = 0, [], 0
        rows, posts, items = rows + 1, posts + row_posts, items + size
    if rows:
        chunks.append((rows, posts))
    return chunks


def import_csv(
    principal: Principal,
    raw: bytes,
    queue: PublishQueue,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Answer:
    """Check every row, then create every post of the file or none (see the module docstring)."""
    if not at_least(principal.role, Role.CONTRIBUTOR):
        raise Forbidden("viewers cannot create posts")
    now = now or datetime.now(UTC)
    job_id, body_hash = job_identity(principal.workspace_id, raw, idempotency_key)
    earlier = store.get_job(principal.workspace_id, job_id)
    if earlier is not None:
        if earlier.body_hash != body_hash:
            raise Conflict(f"Idempotency-Key already used for another file (job {job_id}); use a new key")
        if earlier.state == "done":
            return Answer(200, {**public(earlier), "replayed": True})
    rows = read_rows(decode(raw))
    planned, report = _plan(principal, rows, job_id, now)
    if any(r["status"] == "error" for r in report):
        if earlier is not None:  # a resumed job whose rows no longer check: undo what it wrote
            written = [str(r["post_id"]) for r in earlier.rows if r.get("post_id")]
            _roll_back(earlier, written, "rows no longer valid: " + _first_error(report))
        return Answer(422, {"created": 0, "rows": report})
    job = earlier or store.ImportJob(
        workspace_id=principal.workspace_id, job_id=job_id, state="running", body_hash=body_hash,
        rows_total=len(rows), created_by=principal.actor, created_at=now, updated_at=now, rows=report,
    )  # fmt: skip
    if earlier is None and not store.create_job(job):  # a concurrent upload under the same key won
        current = store.require_job(principal.workspace_id, job_id)
        return Answer(200 if current.state == "done" else 202, {**public(current), "replayed": True})
    return _run(job, planned, queue, now)


def _run(job: store.ImportJob, planned: list[list[Post]], queue: PublishQueue, now: datetime) -> Answer:
    job.state, job.error, job.rows_done = "running", None, 0
    try:
        for rows_in_chunk, posts in _chunks(planned):
            store.write_chunk(posts)
            job.rows_done += rows_in_chunk
            job.updated_at = datetime.now(UTC)
            store.save_progress(job)
    except Exception as exc:
        log.exception("import chunk not written; rolling back", extra={"job_id": job.job_id})
        reason = f"storage refused a chunk ({type(exc).__name__}); nothing was created"
        _roll_back(job, [p.id for row_posts in planned for p in row_posts], reason)
        return Answer(503, public(job))
    for row_posts in planned:
        for post in row_posts:
            service.enqueue_imminent(post.targets, queue, now)
    job.state, job.created, job.updated_at = "done", sum(len(p) for p in planned), datetime.now(UTC)
    store.save_progress(job)
    log.info("import done", extra={"job_id": job.job_id, "rows": job.rows_total, "posts": job.created})
    return Answer(201, public(job))


def _roll_back(job: store.ImportJob, post_ids: list[str], reason: str) -> None:
    """Delete every post the job may have written and mark it failed (a retry starts it over)."""
    try:
        store.delete_posts(job.workspace_id, post_ids)
        job.rows_done = 0
    except Exception:  # left "running": the retry resumes and completes it, or rolls back again
        log.exception("import rollback failed", extra={"job_id": job.job_id})
        return
    job.state, job.error, job.created, job.updated_at = "failed", reason, 0, datetime.now(UTC)
    store.save_progress(job)


def _first_error(report: list[dict[str, Any]]) -> str:
    row = next(r for r in report if r["status"] == "error")
    errors = row.get("errors") or [{}]
    return f"row {row['row']}: {errors[0].get('message', '')}"

"""Persistence of CSV import jobs (``WS#<ws> / IMPORT#<job_id>``) and of the posts a job writes.

A job's id is derived from its idempotency key, so the item is created with a condition: the second
upload under one key finds the first job instead of starting another. Posts are written a chunk at a
time, each chunk one transaction conditioned on its items not existing: a chunk is all there or not
at all, and a chunk written by an earlier attempt is recognised (its transaction is cancelled by its
own conditions) instead of written twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.expressions.update import Action

from chorus.errors import NotFound
from chorus.posts.model import Post
from chorus.store import keys
from chorus.store.models import MainItem, PostItem, TargetItem, bind
from chorus.store.posts import create_posts

JOB_TTL = timedelta(days=30)


def import_sk(job_id: str) -> str:
    return f"IMPORT#{job_id}"


class ImportJobItem(MainItem, discriminator="post_import"):
    job_id = UnicodeAttribute()
    state = UnicodeAttribute()  # running | done | failed
    body_hash = UnicodeAttribute()
    rows_total = NumberAttribute()
    rows_done = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    rows = JSONAttribute(null=True)  # the per-row report: [{"row", "status", "post_id"}]
    error = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


@dataclass
class ImportJob:
    workspace_id: str
    job_id: str
    state: str
    body_hash: str
    rows_total: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    rows_done: int = 0
    created: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def _job(item: ImportJobItem) -> ImportJob:
    return ImportJob(
        workspace_id=item.pk.removeprefix(keys.workspace_pk("")),
        job_id=item.job_id,
        state=item.state,
        body_hash=item.body_hash,
        rows_total=int(item.rows_total),
        rows_done=int(item.rows_done or 0),
        created=int(item.created or 0),
        rows=list(item.rows or []),
        error=item.error,
        created_by=item.created_by,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def get_job(workspace_id: str, job_id: str) -> ImportJob | None:
    bind()
    try:
        item = ImportJobItem.get(keys.workspace_pk(workspace_id), import_sk(job_id), consistent_read=True)
    except DoesNotExist:
        return None
    return _job(item)


def require_job(workspace_id: str, job_id: str) -> ImportJob:
    found = get_job(workspace_id, job_id)
    if found is None:
        raise NotFound(f"import job {job_id} not found")
    return found


def create_job(job: ImportJob) -> bool:
    """Store a new job; ``False`` when a job with its id exists already (another upload, same key)."""
    bind()
    item = ImportJobItem(
        keys.workspace_pk(job.workspace_id),
        import_sk(job.job_id),
        job_id=job.job_id,
        state=job.state,
        body_hash=job.body_hash,
        rows_total=job.rows_total,
        rows_done=job.rows_done,
        created=job.created,
        rows=job.rows,
        error=job.error,
        created_by=job.created_by,
        created_at=job.created_at,
        updated_at=job.updated_at,
        expires_at=job.created_at + JOB_TTL,
    )
    try:
        item.save(condition=ImportJobItem.pk.does_not_exist())
    except PutError as exc:
        if "ConditionalCheckFailed" in str(getattr(exc, "cause_response_code", "")):
            return False
        raise
    return True


def save_progress(job: ImportJob) -> None:
    """Write the job's state, counts and report as they are now."""
    bind()
    item = ImportJobItem(keys.workspace_pk(job.workspace_id), import_sk(job.job_id))
    actions: list[Action] = [
        ImportJobItem.state.set(job.state),
        ImportJobItem.rows_done.set(job.rows_done),
        ImportJobItem.created.set(job.created),
        ImportJobItem.rows.set(job.rows),
        ImportJobItem.updated_at.set(job.updated_at),
    ]
    actions.append(ImportJobItem.error.set(job.error) if job.error else ImportJobItem.error.remove())
    item.update(actions=actions)


def write_chunk(posts: Sequence[Post]) -> bool:
    """Write ``posts`` and their targets in one transaction (at most 100 items). ``True`` when written
    now, ``False`` when an earlier attempt wrote them (the first post is there)."""
    try:
        create_posts(list(posts))
    except TransactWriteError:
        first = posts[0]
        bind()
        try:
            PostItem.get(keys.workspace_pk(first.workspace_id), keys.post_sk(first.id), consistent_read=True)
        except DoesNotExist:
            written = False  # cancelled for another reason (throttled, a conflicting write)
        else:
            written = True
        if not written:
            raise  # the transaction's own error: the caller rolls back
        return False
    return True


def delete_posts(workspace_id: str, post_ids: Sequence[str]) -> None:
    """Remove the posts ``post_ids`` and their targets (a rolled-back import; absent ones are skipped)."""
    bind()
    pk = keys.workspace_pk(workspace_id)
    with MainItem.batch_write() as batch:
        for post_id in post_ids:
            for target in TargetItem.query(
                pk, TargetItem.sk.startswith(keys.target_prefix(post_id)), consistent_read=True
            ):
                batch.delete(target)
            batch.delete(PostItem(pk, keys.post_sk(post_id)))

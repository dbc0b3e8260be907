"""CSV import as a job (moto): all or nothing, capped, idempotent under a key, resumable, rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chorus.auth.keys import Principal
from chorus.auth.roles import Role
from chorus.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from chorus.posts import imports
from chorus.posts.queue import PublishMessage
from chorus.store import imports as job_store
from tests.support import main_table_in_moto


class NoQueue:
    def __init__(self) -> None:
        self.sent: list[PublishMessage] = []

    def send(self, message: PublishMessage, delay_s: int = 0) -> None:
        self.sent.append(message)


@pytest.fixture
def owner(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Principal, str]]:
    with main_table_in_moto(monkeypatch, "test-imports"):
        from chorus.accounts.service import connect_account
        from chorus.accounts.tokens import TokenSet
        from chorus.auth.workspaces import create_workspace

        ws, _key = create_workspace("Acme")
        account = connect_account(ws.id, "sandbox", "brand", TokenSet("tok-brand"), handle="brand")
        yield Principal(ws.id, "k1", Role.OWNER), account.id


def csv_of(account: str, rows: int, start: int = 0) -> bytes:
    lines = ["time,accounts,text,media_url"]
    lines += [f"2031-01-{1 + (i % 28):02d}T09:{i % 60:02d}:00Z,{account},Post {i},"
              for i in range(start, start + rows)]  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def posts_in(workspace_id: str) -> list[Any]:
    from chorus.store import posts as repo

    return repo.list_posts(workspace_id, limit=5000)


def test_a_valid_file_creates_every_post_and_the_job_reports_each_row(owner: tuple[Principal, str]) -> None:
    who, account = owner
    # Given a three-row file, When imported
    answer = imports.import_csv(who, csv_of(account, 3), NoQueue())
    # Then 201, three posts, and the job (GET) shows 3/3 rows with each row's post
    assert answer.status == 201
    assert (answer.body["state"], answer.body["created"], answer.body["rows_done"]) == ("done", 3, 3)
    status = imports.job_status(who, answer.body["job_id"])
    assert [r["row"] for r in status["rows"]] == [2, 3, 4]
    assert {p.id for p in posts_in(who.workspace_id)} == {r["post_id"] for r in status["rows"]}


def test_a_retried_upload_creates_nothing_twice_with_or_without_a_key(owner: tuple[Principal, str]) -> None:
    who, account = owner
    body = csv_of(account, 4)
    first = imports.import_csv(who, body, NoQueue())
    # When the same body is uploaded again (no key: the body's hash is the key)
    again = imports.import_csv(who, body, NoQueue())
    # Then the first job is answered, with the same posts, and no post is created
    assert (again.status, again.body["job_id"], again.body["replayed"]) == (200, first.body["job_id"], True)
    assert again.body["rows"] == first.body["rows"]
    assert len(posts_in(who.workspace_id)) == 4
    # and under an Idempotency-Key the same: a second upload is the first job
    keyed = imports.import_csv(who, csv_of(account, 2, start=10), NoQueue(), "upload-7")
    keyed_again = imports.import_csv(who, csv_of(account, 2, start=10), NoQueue(), "upload-7")
    assert keyed_again.body["job_id"] == keyed.body["job_id"]
    assert len(posts_in(who.workspace_id)) == 6
    # while the same key with another file is a conflict, not a silent replay
    with pytest.raises(Conflict, match="Idempotency-Key"):
        imports.import_csv(who, csv_of(account, 3, start=20), NoQueue(), "upload-7")


def test_one_bad_row_creates_nothing_and_reports_every_row(owner: tuple[Principal, str]) -> None:
    who, account = owner
    body = csv_of(account, 2) + b"2031-02-01T09:00:00Z,nobody,Unknown account,\n"
    answer = imports.import_csv(who, body, NoQueue())
    assert answer.status == 422
    assert [r["status"] for r in answer.body["rows"]] == ["ok", "ok", "error"]
    assert answer.body["rows"][2]["errors"][0]["field"] == "accounts"
    assert posts_in(who.workspace_id) == []


def test_more_than_1000_rows_is_413_naming_the_limit(owner: tuple[Principal, str]) -> None:
    who, account = owner
    with pytest.raises(PayloadTooLarge, match="more than 1000 rows") as refused:
        imports.import_csv(who, csv_of(account, 1001), NoQueue())
    assert refused.value.status == 413
    assert refused.value.errors[0].field == "csv"
    assert posts_in(who.workspace_id) == []


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ("time,accounts,text\n2031-01-01T09:00:00Z,a,Caf\u00e9\n".encode("latin-1"), "encoding"),
        (b"time,accounts,text\n2031-01-01T09:00:00Z,a,nul\x00byte\n", "nul"),
        (b"time,text\n2031-01-01T09:00:00Z,no accounts column\n", "columns"),
        (b'time,accounts,text\n2031-01-01T09:00:00Z,a,"unterminated\n', "syntax"),
        (b"time,accounts,text\n2031-01-01T09:00:00Z,a," + b"x" * 200_000 + b"\n", "syntax"),
    ],
)
def test_a_body_that_is_not_a_utf8_text_csv_is_422_naming_the_problem(
    owner: tuple[Principal, str], body: bytes, rule: str
) -> None:
    who, _account = owner
    with pytest.raises(ValidationFailed) as refused:
        imports.import_csv(who, body, NoQueue())
    assert refused.value.status == 422
    assert refused.value.errors[0].rule == rule


def test_a_chunk_the_store_refuses_rolls_back_every_post_and_the_retry_completes(
    owner: tuple[Principal, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    who, account = owner
    monkeypatch.setattr(imports, "CHUNK_ITEMS", 10)  # 2 items a row: three chunks of 5, 5 and 2 rows
    body = csv_of(account, 12)
    real = job_store.write_chunk
    calls: list[int] = []

    def second_fails(posts: Any) -> bool:
        calls.append(len(posts))
        if len(calls) == 2:
            raise RuntimeError("ProvisionedThroughputExceeded")
        return real(posts)

    monkeypatch.setattr(job_store, "write_chunk", second_fails)
    # When the second chunk cannot be written
    answer = imports.import_csv(who, body, NoQueue(), "big-1")
    # Then 503, the job failed saying nothing was created, and the first chunk's posts are gone
    assert answer.status == 503
    assert (answer.body["state"], answer.body["created"]) == ("failed", 0)
    assert "nothing was created" in answer.body["error"]
    assert posts_in(who.workspace_id) == []
    # and the same upload, retried once the store is back, creates every post once
    monkeypatch.setattr(job_store, "write_chunk", real)
    retried = imports.import_csv(who, body, NoQueue(), "big-1")
    assert (retried.status, retried.body["created"]) == (201, 12)
    assert len(posts_in(who.workspace_id)) == 12


def test_an_attempt_that_died_midway_is_resumed_without_duplicates(
    owner: tuple[Principal, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    who, account = owner
    monkeypatch.setattr(imports, "CHUNK_ITEMS", 10)  # chunks of 5 rows
    body = csv_of(account, 12)
    real = job_store.save_progress
    progress: list[int] = []

    class Killed(BaseException):  # the Lambda timed out: no except clause of ours runs
        pass

    def dies_after_first_chunk(job: job_store.ImportJob) -> None:
        real(job)
        progress.append(job.rows_done)
        if job.rows_done and job.state == "running":
            raise Killed

    monkeypatch.setattr(job_store, "save_progress", dies_after_first_chunk)
    with pytest.raises(Killed):
        imports.import_csv(who, body, NoQueue())
    # Given the job shows its progress (rows done < total) and the first chunk's posts
    job_id, _hash = imports.job_identity(who.workspace_id, body, None)
    stalled = imports.job_status(who, job_id)
    assert (stalled["state"], stalled["rows_done"], stalled["rows_total"]) == ("running", 5, 12)
    assert len(posts_in(who.workspace_id)) == 5
    # When the upload is retried
    monkeypatch.setattr(job_store, "save_progress", real)
    resumed = imports.import_csv(who, body, NoQueue())
    # Then the job completes with every post exactly once
    assert (resumed.status, resumed.body["created"], resumed.body["rows_done"]) == (201, 12, 12)
    assert len(posts_in(who.workspace_id)) == 12
    assert progress[0] == 5  # the job's progress moved after the first chunk


def test_a_job_id_that_is_not_one_of_ours_is_404_not_a_store_error(owner: tuple[Principal, str]) -> None:
    who, _account = owner
    for job_id in ("nope", "imp" + "0" * 24, "x" * 5000):
        with pytest.raises(NotFound):
            imports.job_status(who, job_id)


def test_a_chunk_transaction_cancelled_for_another_reason_is_not_taken_for_written(
    owner: tuple[Principal, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pynamodb.exceptions import TransactWriteError

    who, account = owner

    def cancelled(_posts: Any) -> None:
        raise TransactWriteError("TransactionCanceledException: TransactionConflict")

    # Given the store cancels the chunk's transaction while none of its posts exists
    monkeypatch.setattr(job_store, "create_posts", cancelled)
    answer = imports.import_csv(who, csv_of(account, 2), NoQueue())
    # Then the import failed (nothing created), naming the store's error, rather than "done" with no posts
    assert (answer.status, answer.body["state"], answer.body["created"]) == (503, "failed", 0)
    assert "TransactWriteError" in answer.body["error"]
    assert posts_in(who.workspace_id) == []

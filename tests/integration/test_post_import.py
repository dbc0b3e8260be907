"""CSV import on the embedded runtime: a job with progress under an idempotency key, 4xx for bodies
that are not a UTF-8 text CSV or exceed 1,000 rows, the job readable by its workspace only."""

from __future__ import annotations

import time

import pytest

from tests.integration.harness import Chorus


def csv_of(account: str, rows: int, start: int = 0) -> bytes:
    lines = ["time,accounts,text,media_url"]
    lines += [f"2031-03-{1 + (i % 28):02d}T10:{i % 60:02d}:00Z,{account},Imported {i},"
              for i in range(start, start + rows)]  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def upload(chorus: Chorus, key: str, body: bytes, idempotency_key: str | None = None) -> dict[str, object]:
    headers = {"Content-Type": "text/csv"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    answer = chorus.call("POST", "/posts/import", key, data=body, headers=headers)
    return {"status": answer.status_code, **answer.json()}


def test_an_import_is_a_job_with_progress_and_a_retried_upload_creates_nothing_twice(chorus: Chorus) -> None:
    ws, key = chorus.workspace()
    account = chorus.sandbox_account(key, handle=f"brand-{ws}")
    body = csv_of(account, 3)
    # When a file is uploaded under an Idempotency-Key
    first = upload(chorus, key, body, "batch-2031-03")
    # Then 201 with the job, done, every row with its post
    assert first["status"] == 201, first
    assert (first["state"], first["rows_total"], first["rows_done"], first["created"]) == ("done", 3, 3, 3)
    job = chorus.call("GET", str(first["status_url"]), key).json()
    assert [r["status"] for r in job["rows"]] == ["ok", "ok", "ok"]
    # When the upload is retried (a lost answer), Then the same job answers and no post is created twice
    again = upload(chorus, key, body, "batch-2031-03")
    assert (again["status"], again["job_id"], again["replayed"]) == (200, first["job_id"], True)
    listed = chorus.call("GET", "/posts", key).json()
    items = listed.get("posts", listed.get("items"))  # the list route may gain pages
    assert sorted(p["id"] for p in items) == sorted(r["post_id"] for r in job["rows"])
    # and the same key with another file is a 409, not a silent replay
    assert upload(chorus, key, csv_of(account, 1, start=9), "batch-2031-03")["status"] == 409
    # and another workspace cannot read the job
    _other_ws, other = chorus.workspace("Other")
    assert chorus.call("GET", str(first["status_url"]), other).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            "time,accounts,text\n2031-01-01T09:00:00Z,a,Caf\u00e9 cr\u00e8me\n".encode("latin-1"),
            "body",
            "UTF-8",
        ),
        (b"time,accounts,text\n2031-01-01T09:00:00Z,a,nul\x00\n", "body", "NUL"),
    ],
)
def test_a_latin1_or_nul_csv_is_422_naming_the_problem(
    chorus: Chorus, body: bytes, field: str, words: str
) -> None:
    _ws, key = chorus.workspace()
    answer = chorus.call("POST", "/posts/import", key, data=body, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["errors"][0]["field"] == field
    assert words in problem["detail"]


def test_more_than_1000_rows_is_413_naming_the_limit_and_1000_rows_are_imported(chorus: Chorus) -> None:
    ws, key = chorus.workspace()
    account = chorus.sandbox_account(key, handle=f"bulk-{ws}")
    refused = chorus.call(
        "POST", "/posts/import", key, data=csv_of(account, 1001), headers={"Content-Type": "text/csv"}
    )
    assert refused.status_code == 413, refused.text
    assert "1000 rows" in refused.json()["detail"]
    # while exactly 1,000 rows are imported in one request
    started = time.monotonic()
    done = upload(chorus, key, csv_of(account, 1000))
    elapsed = time.monotonic() - started
    assert (done["status"], done["created"], done["rows_done"]) == (201, 1000, 1000), done
    print(f"1000-row import on the embedded runtime: {elapsed:.1f} s")

"""Nothing is lost: a message that keeps crashing ends in the DLQ with its target failed, and failures
reach the workspace's alert topic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.harness import Chorus, eventually


@pytest.fixture(scope="module")
def chorus() -> Iterator[Chorus]:
    # The deployed defaults are 180 s and 5 receives; the same template with shorter values keeps this quick.
    c = Chorus(parameters={"PublishVisibilityTimeout": "1", "PublishMaxReceives": "3"})
    yield c
    c.close()


def alerts_inbox(chorus: Chorus) -> str:
    sqs, sns = chorus.rt.client("sqs"), chorus.rt.client("sns")
    url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=chorus.rt.stack.refs["AlertsTopic"], Protocol="sqs", Endpoint=arn)  # type: ignore[union-attr]
    return str(url)


def test_a_message_that_keeps_crashing_ends_in_the_dlq_and_its_target_shows_failed(
    chorus: Chorus, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chorus.accounts import service as accounts

    inbox = alerts_inbox(chorus)
    ws, key = chorus.workspace()
    account = chorus.sandbox_account(key, "crashy")

    def kms_down(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("KMS is unreachable")

    # Given a worker that crashes on every receive of the message
    monkeypatch.setattr(accounts, "credentials", kms_down)
    created = chorus.call(
        "POST", "/posts", key, json={"text": "doomed", "accounts": [account], "mode": "now"}
    ).json()

    # When SQS has delivered it maxReceiveCount times
    def target() -> dict[str, Any]:
        return dict(chorus.call("GET", f"/posts/{created['id']}", key).json()["targets"][0])

    failed = eventually(lambda: target()["state"] == "failed" and target(), timeout=30)
    # Then the target shows failed with the reason, and the message sits in the DLQ
    assert "KMS is unreachable" in failed["error"]
    assert failed["error_code"] == "crashed"
    sqs = chorus.rt.client("sqs")
    dlq = chorus.rt.queue_url("PublishDLQ")

    def dead() -> list[dict[str, Any]]:
        sqs.receive_message(
            QueueUrl=chorus.rt.queue_url("PublishQueue"), WaitTimeSeconds=0
        )  # moto redrives on receive
        return list(sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", []))

    messages = eventually(dead, timeout=15)
    assert json.loads(messages[0]["Body"])["post_id"] == created["id"]

    # And the workspace was told (PublishFailed -> EventBridge rule -> notifier -> SNS)
    def alert() -> list[dict[str, Any]]:
        return list(sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", []))

    notes = eventually(alert, timeout=15)
    text = json.loads(notes[0]["Body"])
    assert "failed to publish" in text["Subject"]
    assert "KMS is unreachable" in text["Message"]


def test_a_revoked_token_marks_the_account_for_reauthorisation(chorus: Chorus) -> None:
    import requests

    ws, key = chorus.workspace()
    account = chorus.sandbox_account(key, "revoked")
    requests.post(chorus.sandbox.url + "/_control/revoke", json={"token": "tok-revoked"}, timeout=5)
    created = chorus.call(
        "POST", "/posts", key, json={"text": "after revoke", "accounts": [account], "mode": "now"}
    )
    post_id = created.json()["id"]
    failed = eventually(
        lambda: (
            (t := chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0])["state"] == "failed"
            and t
        )
    )
    assert "revoked" in failed["error"]
    status = chorus.call("GET", f"/accounts/{account}", key).json()
    assert status["status"] == "needs_reauth"
    # A later post for that account fails at once, naming the reason, instead of being silently skipped
    later = chorus.call(
        "POST", "/posts", key, json={"text": "still revoked", "accounts": [account], "mode": "now"}
    )
    again = eventually(
        lambda: (
            (t := chorus.call("GET", f"/posts/{later.json()['id']}", key).json()["targets"][0])["state"]
            == "failed"
            and t
        )
    )
    assert again["error_code"] == "account_needs_reauth"


def test_a_partially_published_post_reaches_the_alert_topic_with_its_parts(chorus: Chorus) -> None:
    inbox = alerts_inbox(chorus)
    ws, key = chorus.workspace()
    account = chorus.sandbox_account(key, "halfway")
    # Given a platform that takes a thread's root and refuses its first comment for good
    chorus.fault(kind="status", account="halfway", status=400, message="comments are off", times=1, after=1)
    created = chorus.call(
        "POST", "/posts", key,
        json={"text": "root", "first_comment": "link in bio", "accounts": [account], "mode": "now"},
    ).json()  # fmt: skip
    # When it is published, the alert rule carries PublishPartiallyFailed to the notifier
    sqs = chorus.rt.client("sqs")

    def alert() -> list[dict[str, Any]]:
        notes = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", [])
        return [n for n in (json.loads(m["Body"]) for m in notes) if created["id"] in n["Message"]]

    notes = eventually(alert, timeout=30)
    # Then the workspace is told which parts are out and which are missing
    target = chorus.call("GET", f"/posts/{created['id']}", key).json()["targets"][0]
    assert target["state"] == "partially_published"
    assert "only partly published" in notes[0]["Subject"]
    assert "comments are off" in notes[0]["Message"]
    assert f"0: {target['platform_post_id']}" in notes[0]["Message"]
    assert "part(s) comment" in notes[0]["Message"]

"""Reminder publishing's state machine on the real publisher and store (moto): queued ->
awaiting_manual at the due second with the assignee told once (a redelivered message, an e-mail SES
refused, a crash after the move), marked posted -> published, overdue once, still markable."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from chorus.errors import Conflict, ValidationFailed
from chorus.mail import Email, InMemoryMailer
from chorus.posts import reminders
from chorus.posts.model import MediaRef, TargetState
from chorus.posts.reminders import ReminderDeps
from chorus.store import notifications as inbox
from tests.faults.harness import FakePlatform, PublisherBed, WorkerKilled

ASSIGNEE = "user:u-1"


class RefusingMailer(InMemoryMailer):
    """SES refuses the first ``refusals`` e-mails, then sends."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals

    def send(self, email: Email) -> str:
        if self.refusals:
            self.refusals -= 1
            raise RuntimeError("SES: throttled")
        return super().send(email)


@pytest.fixture
def mailer() -> InMemoryMailer:
    return InMemoryMailer()


@pytest.fixture
def reminding(bed: PublisherBed, mailer: InMemoryMailer, monkeypatch: pytest.MonkeyPatch) -> PublisherBed:
    """The bed with reminder deps: e-mails kept in ``mailer``, every recipient at a@example.com."""
    deps = ReminderDeps(mailer, lambda key: f"https://media.example/{key}", lambda _w, _r: "a@example.com")
    base = bed.deps
    monkeypatch.setattr(bed, "deps", lambda: replace(base(), reminders=deps))
    return bed


def xhs(bed: PublisherBed) -> str:
    from chorus.accounts import service as accounts

    return accounts.connect_by_hand(
        bed.workspace(),
        "xiaohongshu",
        "https://www.xiaohongshu.com/user/profile/5f1",
        display_name="Brand 小红书",
    ).id


def assign(bed: PublisherBed, post_id: str) -> None:
    from chorus.store import keys
    from chorus.store.models import PostItem

    PostItem(keys.workspace_pk(bed.workspace()), keys.post_sk(post_id)).update(
        actions=[PostItem.assignee.set(ASSIGNEE)]
    )


def notes(bed: PublisherBed) -> list[Any]:
    from chorus.store.pages import PageRequest

    return list(inbox.page(bed.workspace(), ASSIGNEE, PageRequest(50, None)).items)


def due_post(bed: PublisherBed, account: str, **content: Any) -> str:
    post = bed.post(account, "春季新品 spring drop", due=bed.now() + timedelta(seconds=40), **content)
    assign(bed, post)
    return post


def test_at_the_due_second_the_target_awaits_a_person_who_is_told_once(
    reminding: PublisherBed, mailer: InMemoryMailer
) -> None:
    bed = reminding
    account = xhs(bed)
    media = (MediaRef("image/jpeg", key="ws/media/look.jpg"),)
    post = due_post(bed, account, media=media, link="https://brand.example/spring")
    due = bed.target(post, account).due_at
    [outcome] = bed.run_until_settled()
    target = bed.target(post, account)
    assert outcome.result == "awaiting_manual"
    assert target.state is TargetState.AWAITING_MANUAL
    assert target.overdue_at == due + timedelta(hours=24)  # the default window, from the due second
    assert target.reminded_at is not None
    assert bed.crashes == []
    assert bed.platform.requests == []  # no platform is called
    # one notification and one e-mail with the text, link and media link ready to paste
    [note] = notes(bed)
    assert note.topic == reminders.DUE
    assert "Text (paste as is):\n春季新品 spring drop\n\nhttps://brand.example/spring\n" in note.text
    assert "https://media.example/ws/media/look.jpg" in note.text
    assert note.links == ("https://brand.example/spring", "https://media.example/ws/media/look.jpg")
    assert [e.recipients for e in mailer.sent] == [("a@example.com",)]
    assert mailer.sent[0].text == note.text


def test_a_redelivered_message_tells_no_one_twice(reminding: PublisherBed, mailer: InMemoryMailer) -> None:
    bed = reminding
    account = xhs(bed)
    post = due_post(bed, account)
    message = bed.queue.waiting[0].message
    bed.run_until_settled()
    # SQS delivers the same message again (at least once)
    bed.queue.send(message, 0)
    [again] = bed.run_until_settled()
    assert again.result == "stale"
    assert len(notes(bed)) == 1
    assert len(mailer.sent) == 1
    assert bed.target(post, account).state is TargetState.AWAITING_MANUAL


def test_a_crash_after_the_move_tells_the_person_on_the_redelivery(
    reminding: PublisherBed, mailer: InMemoryMailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    bed = reminding
    account = xhs(bed)
    post = due_post(bed, account)
    real = reminders.remind
    calls: list[int] = []

    def dies_first(*args: Any) -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise WorkerKilled("after awaiting_manual was written")
        return real(*args)

    monkeypatch.setattr(reminders, "remind", dies_first)
    [outcome] = bed.run_until_settled()
    assert len(bed.crashes) == 1
    assert outcome.result == "awaiting_manual"
    assert len(notes(bed)) == 1
    assert len(mailer.sent) == 1
    assert bed.target(post, account).reminded_at is not None


def test_an_email_ses_refused_is_sent_on_the_next_delivery_only_once(
    bed: PublisherBed, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusing = RefusingMailer(refusals=1)
    deps = ReminderDeps(refusing, lambda key: key, lambda _w, _r: "a@example.com")
    base = bed.deps
    monkeypatch.setattr(bed, "deps", lambda: replace(base(), reminders=deps))
    account = xhs(bed)
    post = due_post(bed, account)
    bed.run_until_settled()
    assert [str(c) for c in bed.crashes] == ["SES: throttled"]
    bed.crashes.clear()  # expected: the refusal is raised so that SQS delivers the message again
    assert len(refusing.sent) == 1
    assert len(notes(bed)) == 1
    assert bed.target(post, account).state is TargetState.AWAITING_MANUAL


def test_marked_posted_it_is_published_with_its_url_and_counts(reminding: PublisherBed) -> None:
    bed = reminding
    account = xhs(bed)
    post_id = due_post(bed, account)
    bed.run_until_settled()
    from chorus.store import posts as repo

    post = repo.get_post(bed.workspace(), post_id, consistent=True)
    url = "https://www.xiaohongshu.com/explore/64f1a2b3c4d5e6f7a8b9c0d1"
    for bad, why in (
        ("http://www.xiaohongshu.com/explore/1", "https"),
        ("https://evil.example/explore/1", "xiaohongshu.com"),
        ("https://user:pw@www.xiaohongshu.com/explore/1", "user name"),
        ("not a url", "https"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            reminders.mark_posted(post, account, bad, bed.now(), "user:u-1")
        assert [e.field for e in refused.value.errors] == ["url"]
        assert why in refused.value.errors[0].message
    with pytest.raises(ValidationFailed) as unknown:
        reminders.mark_posted(post, "acc-other", url, bed.now(), "user:u-1")
    assert [e.field for e in unknown.value.errors] == ["account_id"]
    reminders.mark_posted(post, account, url, bed.now(), "user:u-1")
    target = bed.target(post_id, account)
    assert target.state is TargetState.PUBLISHED
    assert target.url == url
    assert target.published_at == bed.now()
    assert target.attempt_log[-1].detail == "marked posted by user:u-1"
    assert target.platform_post_id == url  # what the table's stream links and follows (no event)
    assert "PostPublished" not in bed.events.names()
    with pytest.raises(Conflict):  # once
        reminders.mark_posted(post, account, url, bed.now(), "user:u-1")


def test_not_marked_in_time_it_is_overdue_once_and_still_markable(reminding: PublisherBed) -> None:
    from chorus.store import posts as repo

    bed = reminding
    account = xhs(bed)
    post_id = due_post(bed, account)
    bed.run_until_settled()
    target = bed.target(post_id, account)
    assert target.overdue_at is not None
    # before the window ends: nothing
    assert reminders.make_overdue(target, target.overdue_at - timedelta(seconds=1)) is None
    # at its end: overdue, one alert and one notification; a second sweep (a redelivered schedule) none
    event = reminders.make_overdue(target, target.overdue_at)
    assert event is not None
    assert event.name == "ManualPublishOverdue"
    assert event.data["assignee"] == ASSIGNEE
    assert reminders.make_overdue(target, target.overdue_at + timedelta(minutes=1)) is None
    assert bed.target(post_id, account).state is TargetState.OVERDUE
    assert [n.topic for n in notes(bed)] == [reminders.OVERDUE, reminders.DUE]
    post = repo.get_post(bed.workspace(), post_id, consistent=True)
    assert post.status == "overdue"
    reminders.mark_posted(post, account, "https://xhslink.com/a/Ab12", bed.now(), "user:u-1")
    assert bed.target(post_id, account).state is TargetState.PUBLISHED


def test_an_adapter_declares_a_content_kind_manual_only(
    reminding: PublisherBed, mailer: InMemoryMailer, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chorus.platforms.sandbox.publish import SandboxPublisher

    bed = reminding
    monkeypatch.setattr(SandboxPublisher, "manual_kinds", frozenset({"video"}), raising=False)
    account = bed.account("sandbox")
    video = bed.post(account, "a reel", media=(MediaRef("video/mp4", url="https://cdn.example/r.mp4"),))
    assign(bed, video)
    bed.run_until_settled()
    assert bed.target(video, account).state is TargetState.AWAITING_MANUAL
    assert platform.requests == []
    assert "https://cdn.example/r.mp4" in mailer.sent[0].text


def test_the_schedulers_sweep_finds_the_overdue_target_in_its_minute_bucket(reminding: PublisherBed) -> None:
    from datetime import UTC, datetime

    from chorus.posts import scheduler
    from chorus.store import posts as repo

    bed = reminding
    account = xhs(bed)
    post_id = due_post(bed, account)
    bed.run_until_settled()
    now = datetime.now(UTC)
    stored = bed.target(post_id, account)
    assert scheduler.run(now, bed.queue, events=bed.events).overdue == 0  # not yet: its window is a day
    assert repo.transition(
        stored,
        TargetState.AWAITING_MANUAL,
        expect=[TargetState.AWAITING_MANUAL],
        overdue_at=now - timedelta(minutes=1),
    )
    assert scheduler.run(now, bed.queue, events=bed.events).overdue == 1
    assert (
        scheduler.run(now + timedelta(seconds=30), bed.queue, events=bed.events).overdue == 0
    )  # a second run
    assert bed.target(post_id, account).state is TargetState.OVERDUE
    assert bed.events.names().count("ManualPublishOverdue") == 1


def test_a_post_awaiting_a_person_can_be_cancelled_and_is_then_never_overdue(reminding: PublisherBed) -> None:
    from chorus.posts import scheduler, service

    bed = reminding
    account = xhs(bed)
    post_id = due_post(bed, account)
    bed.run_until_settled()
    target = bed.target(post_id, account)
    assert service.cancel_post(bed.editor(), post_id).status == "cancelled"
    assert target.overdue_at is not None
    assert scheduler.run(target.overdue_at + timedelta(minutes=1), bed.queue, events=bed.events).overdue == 0
    assert bed.target(post_id, account).state is TargetState.CANCELLED

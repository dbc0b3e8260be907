"""Approval names the version the approver saw: an edit that lands between the approver's reading and
the approval is never approved unseen (the real service and store on moto, ``bed``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chorus.auth.keys import Principal
from chorus.auth.roles import Role
from chorus.errors import Conflict
from chorus.posts import service
from chorus.posts.model import Content, Mode, TargetState
from chorus.store import posts as repo
from tests.faults.harness import PublisherBed


def compose(account: str, text: str) -> service.Compose:
    later = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    return service.Compose(
        accounts=(account,),
        content=Content(text=text),
        mode=Mode.SCHEDULE,
        scheduled_at=later,
        timezone="UTC",
    )


def test_an_edit_between_reading_and_approving_is_not_approved_unseen(
    bed: PublisherBed, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = bed.account()
    contributor = Principal(bed.workspace(), "intern", Role.CONTRIBUTOR)
    [post] = service.create_post(contributor, compose(account, "v1: reviewed text"), bed.queue)
    assert (post.version, post.targets[0].state) == (1, TargetState.PENDING_APPROVAL)
    # Given the contributor's edit lands after the approver's service read the post (version 1)
    read = repo.get_post

    def read_then_edit(*args: Any, **kwargs: Any) -> Any:
        seen = read(*args, **kwargs)
        monkeypatch.setattr(repo, "get_post", read)
        service.edit_post(contributor, post.id, compose(account, "v2: never reviewed"), None, bed.queue)
        return seen

    monkeypatch.setattr(repo, "get_post", read_then_edit)
    # When the approver approves version 1, the one they saw
    with pytest.raises(Conflict):
        service.decide(bed.editor(), post.id, True, None, bed.queue, version=1)
    # Then nothing was approved: the edited post still waits for a review of version 2
    now = repo.get_post(bed.workspace(), post.id, consistent=True)
    assert (now.version, now.content.text) == (2, "v2: never reviewed")
    assert [t.state for t in now.targets] == [TargetState.PENDING_APPROVAL]
    assert not bed.queue.sent
    # And approving version 2 schedules it
    approved = service.decide(bed.editor(), post.id, True, None, bed.queue, version=2)
    assert [t.state for t in approved.targets] == [TargetState.SCHEDULED]

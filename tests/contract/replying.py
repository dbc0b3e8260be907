"""What the reply contract tests share: a reply request with its progress (in memory, recording what a
store would persist), the documented reply fixtures, and the channel rules applied at a given time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses

from chorus.platforms.base import AccountCredentials, Progress, UnknownOutcome
from chorus.platforms.replies import ReplyRequest, ReplySender
from tests.support import fixture_json

SENT_AT = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def replies_fixture(relative: str) -> Any:
    """A file of ``fixtures/platform_api/replies`` (its README says how far each can be trusted)."""
    return fixture_json(f"platform_api/replies/{relative}")


class Recorder:
    """A ProgressStore that keeps every mark, in order, as the replier's store would persist them."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, ...]] = []

    def part_sent(self, part: str) -> None:
        self.marks.append(("sent", part))

    def part_unsent(self, part: str) -> None:
        self.marks.append(("unsent", part))

    def part_landed(self, part: str, platform_id: str, url: str | None) -> None:
        self.marks.append(("landed", part, platform_id))


def reply_request(
    text: str = "Hello, world!",
    *,
    recipient: str | None = None,
    reply_to: str | None = None,
    tag: str | None = None,
    template: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> ReplyRequest:
    return ReplyRequest(
        reply_id="rp_1",
        text=text,
        progress=progress or Progress("idem-key-1", SENT_AT, store=Recorder()),
        not_before=SENT_AT,
        reply_to=reply_to,
        recipient=recipient,
        tag=tag,
        template=template,
    )


def sent_twice_after_a_lost_answer(
    sender: ReplySender, creds: AccountCredentials, rsps: responses.RequestsMock, **request: Any
) -> None:
    """Send a reply whose answer is lost, then again with the same (persisted) progress: both are an
    unknown outcome and only the first request left (a part sent without an answer is never resent blind)."""
    progress = Progress("idem-key-1", SENT_AT)
    for _ in range(2):
        with pytest.raises(UnknownOutcome):
            sender.send(creds, reply_request("Once", progress=progress, **request))
    assert len(rsps.calls) == 1


def marks(request: ReplyRequest) -> list[tuple[str, ...]]:
    store = request.progress.store
    assert isinstance(store, Recorder)
    return store.marks


def hours_after(hours: float) -> datetime:
    return SENT_AT + timedelta(hours=hours)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock

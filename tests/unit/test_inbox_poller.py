"""The inbox poller (Mastodon notifications, Bluesky listNotifications): across runs every new
notification is queued once (no duplicates) and none is skipped (no gaps); the cursor moves only after
the page was queued; a platform error leaves it where it was and spares the other accounts.

Storage is moto in-process; the platform is either a fake ``fetch`` (the module's seam) or, for the two
real fetchers, the platform's HTTP API replayed with ``responses``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.accounts.service import Account, connect_account, connect_or_reconnect, get_account
from chorus.accounts.tokens import TokenSet
from chorus.inbox import keys as ik
from chorus.inbox.poller import PollerDeps, poll_account, poll_all, track_account, tracked
from chorus.inbox.queue import IngestMessage, InMemoryIngestQueue
from chorus.inbox.store import PollCursorItem
from chorus.platforms.base import AuthError, RateLimited, TransientError
from chorus.platforms.bluesky.chat import BlueskyCursor
from chorus.store import keys
from chorus.store.models import AccountItem
from tests.support import main_table_in_moto

TABLE = "chorus-inbox-poller-test"
WS = "ws-poll"
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
MASTODON = "http://127.0.0.1:3000"
PDS = "http://127.0.0.1:2583"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, TABLE):
        yield


def add_account(account_id: str, platform: str = "mastodon", status: str = "active") -> None:
    """An account as the accounts service stores it, and the stream's call that tracks it for polling."""
    AccountItem(
        keys.workspace_pk(WS),
        keys.account_sk(account_id),
        workspace_id=WS,
        account_id=account_id,
        platform=platform,
        platform_account_id=f"ref-{account_id}",
        status=status,
        created_at=T0,
    ).save()
    track_account(WS, account_id, platform, present=True)


def cursor_item(account_id: str) -> PollCursorItem:
    return PollCursorItem.get(keys.workspace_pk(WS), ik.poll_cursor_sk(account_id), consistent_read=True)


def stored_cursor(account_id: str) -> str | None:
    return cursor_item(account_id).cursor


def notifications_marker(account_id: str) -> str | None:
    """A Bluesky account's notifications marker, from its cursor (which holds the chat log's too)."""
    return BlueskyCursor.parse(stored_cursor(account_id)).notifications


@dataclass
class FakePlatform:
    """Notifications with growing numeric ids; a fetch returns those newer than the cursor, oldest
    first, and the newest id (the cursor itself when nothing is new), as the real fetchers do."""

    feed: dict[str, list[str]] = field(default_factory=dict)  # account id -> notification ids
    seen_cursors: list[tuple[str, str | None]] = field(default_factory=list)
    fail_with: dict[str, Exception] = field(default_factory=dict)

    def post(self, account_id: str, *ids: str) -> None:
        self.feed.setdefault(account_id, []).extend(ids)

    def fetch(self, account: Account, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        self.seen_cursors.append((account.id, cursor))
        if account.id in self.fail_with:
            raise self.fail_with[account.id]
        newer = [i for i in self.feed.get(account.id, []) if cursor is None or int(i) > int(cursor)]
        items = [{"id": i, "type": "mention"} for i in newer]
        return items, (newer[-1] if newer else cursor)


class FailingQueue:
    def send(self, message: IngestMessage) -> None:
        raise ConnectionError("sqs unavailable")


def queued_ids(queue: InMemoryIngestQueue, account_id: str | None = None) -> list[str]:
    return [
        item["id"]
        for message in queue.sent
        if account_id is None or message.account_id == account_id
        for item in json.loads(message.body)
    ]


def deps_for(platform: FakePlatform, queue: Any) -> PollerDeps:
    return PollerDeps(queue=queue, fetch=platform.fetch, now=lambda: T0)


# ---------------------------------------------------------------------------- no gaps, no duplicates


def test_across_runs_every_notification_is_queued_once_in_order(aws: None) -> None:
    # Given a tracked account and notifications arriving between poller runs
    add_account("acc1")
    platform, queue = FakePlatform(), InMemoryIngestQueue()
    deps = deps_for(platform, queue)
    platform.post("acc1", "101", "102")
    poll_all(deps)
    poll_all(deps)  # nothing new
    platform.post("acc1", "103")
    poll_all(deps)
    platform.post("acc1", "104", "105")
    report = poll_all(deps)
    # Then every notification was queued exactly once, oldest first, and nothing was skipped
    assert queued_ids(queue) == ["101", "102", "103", "104", "105"]
    # And each run asked from where the previous one stopped
    assert [c for _, c in platform.seen_cursors] == [None, "102", "102", "103"]
    assert (report.accounts, report.queued_items, report.failed) == (1, 2, 0)
    assert stored_cursor("acc1") == "105"


def test_a_run_with_nothing_new_queues_nothing_and_keeps_the_cursor(aws: None) -> None:
    # Given an account polled up to 102
    add_account("acc1")
    platform, queue = FakePlatform(), InMemoryIngestQueue()
    platform.post("acc1", "101", "102")
    poll_all(deps_for(platform, queue))
    # When the poller runs again with nothing new
    report = poll_all(deps_for(platform, queue))
    # Then no (empty) message is queued and the cursor stays
    assert len(queue.sent) == 1
    assert report.queued_items == 0
    assert stored_cursor("acc1") == "102"


def test_the_queued_page_carries_the_account_it_was_polled_for(aws: None) -> None:
    # Given an account with two new notifications
    add_account("acc1")
    platform, queue = FakePlatform(), InMemoryIngestQueue()
    platform.post("acc1", "7", "8")
    # When it is polled
    poll_all(deps_for(platform, queue))
    # Then ONE message in the ingest shape holds the page, marked as polled for this account
    (message,) = queue.sent
    assert (message.platform, message.source) == ("mastodon", "poll")
    assert (message.workspace_id, message.account_id, message.account_ref) == (WS, "acc1", "ref-acc1")
    assert message.received_at == keys.iso(T0)
    assert json.loads(message.body) == [{"id": "7", "type": "mention"}, {"id": "8", "type": "mention"}]
    # And the message survives the queue's JSON round trip byte for byte
    assert IngestMessage.from_json(message.to_json()) == message
    assert cursor_item("acc1").polled_at == T0


# --------------------------------------------------------------------- the cursor moves only after


def test_when_queueing_fails_the_cursor_stays_and_the_next_run_fetches_the_page_again(aws: None) -> None:
    # Given an account with new notifications and a queue that is down
    add_account("acc1")
    platform = FakePlatform()
    platform.post("acc1", "101", "102")
    item = tracked(["mastodon"])[0]
    # When the poll cannot queue the page
    with pytest.raises(ConnectionError):
        poll_account(item, deps_for(platform, FailingQueue()))
    # Then the cursor did not move (no gap) ...
    assert stored_cursor("acc1") is None
    assert cursor_item("acc1").polled_at is None
    # ... and the next run (queue back) fetches and queues the same notifications
    queue = InMemoryIngestQueue()
    poll_all(deps_for(platform, queue))
    assert queued_ids(queue) == ["101", "102"]
    assert stored_cursor("acc1") == "102"


def test_when_queueing_fails_after_earlier_runs_the_cursor_keeps_its_last_value(aws: None) -> None:
    add_account("acc1")
    platform, queue = FakePlatform(), InMemoryIngestQueue()
    platform.post("acc1", "101")
    poll_all(deps_for(platform, queue))
    platform.post("acc1", "102")
    with pytest.raises(ConnectionError):
        poll_account(tracked(["mastodon"])[0], deps_for(platform, FailingQueue()))
    assert stored_cursor("acc1") == "101"
    poll_all(deps_for(platform, queue))
    assert queued_ids(queue) == ["101", "102"]


# ------------------------------------------------------------------------------- platform errors


@pytest.mark.parametrize(
    "error",
    [
        TransientError("502 from the instance", platform="mastodon"),
        RateLimited("429", platform="mastodon"),
    ],
)
def test_a_platform_error_leaves_the_cursor_and_spares_the_other_accounts(
    aws: None, error: Exception
) -> None:
    # Given two accounts polled once, and new notifications for both
    add_account("acc1")
    add_account("acc2")
    platform, queue = FakePlatform(), InMemoryIngestQueue()
    platform.post("acc1", "101")
    platform.post("acc2", "201")
    poll_all(deps_for(platform, queue))
    platform.post("acc1", "102")
    platform.post("acc2", "202")
    # When the first account's platform fails
    platform.fail_with["acc1"] = error
    report = poll_all(deps_for(platform, queue))
    # Then its cursor is where it was, the run reports one failure, and the other account was polled
    assert stored_cursor("acc1") == "101"
    assert stored_cursor("acc2") == "202"
    assert (report.accounts, report.queued_items, report.failed) == (2, 1, 1)
    assert get_account(WS, "acc1").status == "active"
    # And once the platform answers again, the missed notification comes through (no gap)
    del platform.fail_with["acc1"]
    poll_all(deps_for(platform, queue))
    assert queued_ids(queue, "acc1") == ["101", "102"]
    assert queued_ids(queue, "acc2") == ["201", "202"]


def test_an_auth_error_marks_the_account_for_reauthorisation_and_keeps_the_cursor(aws: None) -> None:
    # Given an account polled once whose token is then revoked
    add_account("acc1")
    platform, queue = FakePlatform(), InMemoryIngestQueue()
    platform.post("acc1", "101")
    poll_all(deps_for(platform, queue))
    platform.fail_with["acc1"] = AuthError("The access token was revoked", platform="mastodon")
    # When the poller runs
    report = poll_all(deps_for(platform, queue))
    # Then the account needs reauthorisation, the cursor stays, and the run counts a failure
    account = get_account(WS, "acc1")
    assert (account.status, account.status_reason) == ("needs_reauth", "The access token was revoked")
    assert stored_cursor("acc1") == "101"
    assert report.failed == 1
    # And an account that is not active is not fetched again
    platform.seen_cursors.clear()
    poll_all(deps_for(platform, queue))
    assert platform.seen_cursors == []


# --------------------------------------------------------------------------------- tracking accounts


def test_tracking_an_account_again_keeps_its_cursor(aws: None) -> None:
    # Given an account polled up to 102
    add_account("acc1")
    platform, queue = FakePlatform(), InMemoryIngestQueue()
    platform.post("acc1", "101", "102")
    poll_all(deps_for(platform, queue))
    # When the stream reports the account again (a reconnect, a replayed stream record)
    track_account(WS, "acc1", "mastodon", present=True)
    # Then its cursor is kept: the next run does not re-read from the start
    assert stored_cursor("acc1") == "102"


def test_only_polled_platforms_are_tracked_and_each_platform_is_listed_on_its_own(aws: None) -> None:
    add_account("m1", "mastodon")
    add_account("b1", "bluesky")
    add_account("f1", "facebook")  # has webhooks: never polled
    assert sorted(i.account_id for i in tracked()) == ["b1", "m1"]
    assert [i.account_id for i in tracked(["bluesky"])] == ["b1"]


def test_a_removed_account_is_untracked_and_no_longer_polled(aws: None) -> None:
    # Given a tracked account that is then removed
    add_account("acc1")
    track_account(WS, "acc1", "mastodon", present=False)
    # Then it is no longer listed for polling
    assert tracked() == []


def test_a_tracked_account_that_no_longer_exists_drops_its_cursor(aws: None) -> None:
    # Given a cursor left behind by an account whose item is gone (the stream record was lost)
    add_account("acc1")
    AccountItem(keys.workspace_pk(WS), keys.account_sk("acc1")).delete()
    platform, queue = FakePlatform(), InMemoryIngestQueue()
    # When the poller runs
    report = poll_all(deps_for(platform, queue))
    # Then nothing is fetched or queued and the cursor is deleted
    assert (report.queued_items, report.failed, platform.seen_cursors) == (0, 0, [])
    assert tracked() == []


# ----------------------------------------------------------------- the real fetchers, HTTP replayed


def connect(platform: str, base_url: str, ref: str) -> Account:
    account = connect_account(WS, platform, ref, TokenSet("tok-1"), handle="brand", base_url=base_url)
    track_account(WS, account.id, platform, present=True)
    return account


def mastodon_mention(notification_id: str) -> dict[str, Any]:
    return {
        "id": notification_id,
        "type": "mention",
        "created_at": "2026-03-10T09:00:00.000Z",
        "account": {"id": "900", "acct": "fan"},
        "status": {
            "id": f"s{notification_id}",
            "created_at": "2026-03-10T09:00:00.000Z",
            "content": "<p>hello</p>",
            "visibility": "public",
            "account": {"id": "900", "acct": "fan"},
        },
    }


def test_mastodon_runs_continue_from_the_newest_id_with_min_id(aws: None) -> None:
    # Given a connected Mastodon account
    account = connect("mastodon", MASTODON, "42")
    url = f"{MASTODON}/api/v1/notifications"
    auth = matchers.header_matcher({"Authorization": "Bearer tok-1"})
    queue = InMemoryIngestQueue()
    deps = PollerDeps(queue=queue, session=requests.Session(), now=lambda: T0)
    with responses.RequestsMock() as rsps:
        # When the first run reads the newest page (Mastodon answers newest first)
        rsps.get(
            url,
            json=[mastodon_mention("12"), mastodon_mention("11")],
            match=[auth, matchers.query_param_matcher({"types[]": "mention", "limit": "40"})],
        )
        poll_all(deps, ["mastodon"])
        # And the second run asks for what is newer than 12, then for the page after that
        newer = f"{url}?min_id=13"
        rsps.get(
            url,
            json=[mastodon_mention("13")],
            headers={"Link": f'<{newer}>; rel="prev"'},
            match=[auth, matchers.query_param_matcher({"types[]": "mention", "limit": "40", "min_id": "12"})],
        )
        rsps.get(newer, json=[], match=[auth, matchers.query_param_matcher({"min_id": "13"})])
        poll_all(deps, ["mastodon"])
    # Then each notification was queued once, oldest first, and the cursor is the newest id
    assert queued_ids(queue) == ["11", "12", "13"]
    assert stored_cursor(account.id) == "13"


def bluesky_reply(uri_key: str, indexed_at: str) -> dict[str, Any]:
    return {
        "uri": f"at://did:plc:fan/app.bsky.feed.post/{uri_key}",
        "cid": f"cid{uri_key}",
        "author": {"did": "did:plc:fan", "handle": "fan.test"},
        "reason": "reply",
        "record": {"text": "hi", "createdAt": indexed_at},
        "isRead": False,
        "indexedAt": indexed_at,
    }


def test_bluesky_runs_continue_from_the_newest_indexed_at(aws: None) -> None:
    # Given a connected Bluesky account
    account = connect("bluesky", PDS, "did:plc:brand")
    url = f"{PDS}/xrpc/app.bsky.notification.listNotifications"
    queue = InMemoryIngestQueue()
    deps = PollerDeps(queue=queue, session=requests.Session(), now=lambda: T0)
    first = [bluesky_reply("b", "2026-03-10T09:02:00.000Z"), bluesky_reply("a", "2026-03-10T09:01:00.000Z")]
    with responses.RequestsMock() as rsps:
        # When the first run reads the newest page
        rsps.get(url, json={"notifications": first, "cursor": "c1"})
        poll_all(deps, ["bluesky"])
        assert notifications_marker(account.id) == "2026-03-10T09:02:00.000Z"
        # And the second run pages back until it meets what it saw (the marker item comes back too)
        newest = bluesky_reply("c", "2026-03-10T09:03:00.000Z")
        rsps.get(url, json={"notifications": [newest, *first], "cursor": "c2"})
        poll_all(deps, ["bluesky"])
    # Then the new reply is queued, the cursor is its indexedAt, and nothing older than the marker
    # comes again (the one AT the marker may: the ingest dedupes it by its URI)
    pages = [[i["uri"].rsplit("/", 1)[1] for i in json.loads(m.body)] for m in queue.sent]
    assert pages == [["a", "b"], ["b", "c"]]
    assert notifications_marker(account.id) == "2026-03-10T09:03:00.000Z"


GET_LOG = f"{PDS}/xrpc/chat.bsky.convo.getLog"
NO_DM_ACCESS = {"status": 400, "json": {"error": "InvalidToken", "message": "Bad token method"}}


class BlueskyPds:
    """A Bluesky PDS replayed: a new reply on every listNotifications, getLog answered as told."""

    def __init__(self, rsps: responses.RequestsMock, chat: dict[str, Any]) -> None:
        self.rsps, self.replies = rsps, 0
        rsps.add_callback(responses.GET, f"{PDS}/xrpc/app.bsky.notification.listNotifications", self._replies)
        rsps.get(GET_LOG, **chat)

    def _replies(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.replies += 1
        stamp = keys.iso(T0 + timedelta(minutes=self.replies))
        return 200, {}, json.dumps({"notifications": [bluesky_reply(f"r{self.replies}", stamp)]})

    def chat_answers(self, answer: dict[str, Any]) -> None:
        self.rsps.replace(responses.GET, GET_LOG, **answer)

    def log_reads(self) -> int:
        return len([c for c in self.rsps.calls if c.request.url.startswith(GET_LOG)])


def direct_messages(account_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = get_account(WS, account_id).public()["direct_messages"]
    return shown


def test_a_refused_chat_log_is_not_asked_again_until_its_wait_passes_and_replies_keep_landing(
    aws: None,
) -> None:
    # Given a Bluesky account whose app password does not allow direct messages
    account = connect("bluesky", PDS, "did:plc:brand")
    clock = [T0]
    queue = InMemoryIngestQueue()
    deps = PollerDeps(queue=queue, session=requests.Session(), now=lambda: clock[0])
    assert direct_messages(account.id) == {"status": "on", "reason": None}
    with responses.RequestsMock() as rsps:
        pds = BlueskyPds(rsps, NO_DM_ACCESS)
        # When it is polled every minute for an hour
        for minute in range(60):
            clock[0] = T0 + timedelta(minutes=minute)
            poll_account(cursor_item(account.id), deps)
        # Then the chat log was asked once, and the account says why direct messages do not arrive
        assert pds.log_reads() == 1
        shown = direct_messages(account.id)
        assert shown["status"] == "off"
        assert shown["reason"].startswith("not allowed by this app password")
        # And every reply landed once, the notifications marker at the newest
        assert [i["uri"].rsplit("/", 1)[1] for m in queue.sent for i in json.loads(m.body)] == [
            f"r{n}" for n in range(1, 61)
        ]
        assert notifications_marker(account.id) == "2026-03-10T10:00:00.000Z"
        # When the hour has passed it is asked again (refused again: left alone for 6 hours)
        clock[0] = T0 + timedelta(minutes=61)
        poll_account(cursor_item(account.id), deps)
        clock[0] = T0 + timedelta(hours=6)
        poll_account(cursor_item(account.id), deps)
        assert pds.log_reads() == 2


def test_a_transient_chat_failure_is_asked_again_on_the_next_poll(aws: None) -> None:
    account = connect("bluesky", PDS, "did:plc:brand")
    deps = PollerDeps(queue=InMemoryIngestQueue(), session=requests.Session(), now=lambda: T0)
    with responses.RequestsMock() as rsps:
        pds = BlueskyPds(rsps, {"status": 503, "json": {"error": "UpstreamFailure", "message": "busy"}})
        for _ in range(3):
            poll_account(cursor_item(account.id), deps)
        assert pds.log_reads() == 3
        assert direct_messages(account.id) == {"status": "on", "reason": None}
        assert notifications_marker(account.id) == "2026-03-10T09:03:00.000Z"


def test_a_reconnected_account_asks_its_chat_log_at_once(aws: None) -> None:

    # Given an account whose chat log was refused a minute ago
    account = connect("bluesky", PDS, "did:plc:brand")
    clock = [T0]
    deps = PollerDeps(queue=InMemoryIngestQueue(), session=requests.Session(), now=lambda: clock[0])
    with responses.RequestsMock() as rsps:
        pds = BlueskyPds(rsps, NO_DM_ACCESS)
        poll_account(cursor_item(account.id), deps)
        assert direct_messages(account.id)["status"] == "off"
        # When the account is connected again (a new app password, with access to direct messages)
        again = connect_or_reconnect(
            WS, "bluesky", "did:plc:brand", TokenSet("tok-2"), handle="brand", base_url=PDS
        )
        assert again.id == account.id
        assert direct_messages(account.id) == {"status": "on", "reason": None}
        pds.chat_answers({"json": {"cursor": "rev-1", "logs": []}})
        clock[0] = T0 + timedelta(minutes=1)
        poll_account(cursor_item(account.id), deps)
        # Then the next poll asked the chat log at once, and the account shows direct messages on
        assert pds.log_reads() == 2
    assert direct_messages(account.id) == {"status": "on", "reason": None}
    held = BlueskyCursor.parse(stored_cursor(account.id))
    assert (held.chat, held.paused, held.misses) == ("rev-1", None, 0)


# ---------------------------------------------------------------------------------------- age bands
def test_next_poll_follows_how_long_the_account_has_been_quiet() -> None:
    from datetime import timedelta

    from chorus.inbox.poller import next_poll

    # active (or connected) within the hour: every run; within a day: 5 min; quieter: 15 min
    assert next_poll(T0, T0 - timedelta(minutes=59), None) is None
    assert next_poll(T0, None, T0 - timedelta(minutes=10)) is None
    assert next_poll(T0, T0 - timedelta(hours=3), None) == T0 + timedelta(minutes=5)
    assert next_poll(T0, T0 - timedelta(days=3), T0 - timedelta(days=9)) == T0 + timedelta(minutes=15)
    assert next_poll(T0, None, None) is None  # tracked before bands existed: every run, as before


def test_a_quiet_account_waits_for_its_band_and_a_busy_one_is_polled_every_run(aws: None) -> None:
    from datetime import timedelta

    add_account("busy")
    add_account("quiet")
    platform = FakePlatform()
    platform.post("busy", "1")
    queue = InMemoryIngestQueue()
    clock = [T0]
    deps = PollerDeps(queue=queue, fetch=platform.fetch, now=lambda: clock[0])
    # Given the quiet account was connected days ago and never had anything new
    quiet = cursor_item("quiet")
    quiet.update(actions=[PollCursorItem.tracked_at.set(T0 - timedelta(days=3))])
    busy = cursor_item("busy")
    busy.update(actions=[PollCursorItem.tracked_at.set(T0 - timedelta(days=3))])
    # When the poller runs every minute for ten minutes
    polled: list[int] = []
    for minute in range(10):
        clock[0] = T0 + timedelta(minutes=minute)
        if minute == 5:
            platform.post("busy", "2")
        polled.append(poll_all(deps, ["mastodon"]).accounts)
    # Then the busy account (something new at 09:00) is polled every minute, the quiet one once
    calls = [account for account, _ in platform.seen_cursors]
    assert calls.count("busy") == 10
    assert calls.count("quiet") == 1
    assert queued_ids(queue, "busy") == ["1", "2"]
    assert cursor_item("quiet").next_poll_at == T0 + timedelta(minutes=15)

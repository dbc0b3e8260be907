"""The owner of an account whose token cannot be refreshed (LinkedIn's 60-day tokens on self-serve apps)
is warned 7 days before it expires, once per token, by the scheduler's hourly run; a reconnect (a new
token) or a refreshable token moves or removes the warning; the alert reads well."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chorus.accounts import expiry
from chorus.accounts import service as accounts
from chorus.accounts.tokens import TokenSet
from chorus.events.envelope import InMemoryEventPublisher
from chorus.notifications import render
from tests.support import main_table_in_moto

WS = "ws-expiry"
CONNECTED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
SIXTY_DAYS = CONNECTED + timedelta(days=60)  # expires_in 5184000 (oauth_access_token_response.json)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, "chorus-token-expiry"):
        yield


def connect(account: str, tokens: TokenSet, workspace: str = WS) -> accounts.Account:
    return accounts.connect_or_reconnect(workspace, "linkedin", account, tokens, display_name="Acme Page")


def hourly(at: datetime, events: InMemoryEventPublisher) -> list[str]:
    """The scheduler's run at ``at`` and every hour after it until the next one (``on_the_hour``)."""
    return list(expiry.on_the_hour(at, events))


def test_a_60_day_token_without_refresh_is_warned_once_seven_days_before_it_expires(aws: None) -> None:
    # Given a LinkedIn page connected with a 60-day token and no refresh token
    page = connect("urn:li:organization:5515715", TokenSet("li-token", None, SIXTY_DAYS))
    events = InMemoryEventPublisher()
    warn_day = SIXTY_DAYS - timedelta(days=7)
    # When the scheduler runs on the hour up to just before the warning is due: nothing
    assert hourly(warn_day.replace(minute=0) - timedelta(hours=1), events) == []
    assert hourly(warn_day.replace(minute=0), events) == []  # 09:00, the warning is due at 09:30
    # And off the hour nothing is even read
    assert hourly(warn_day + timedelta(minutes=5), events) == []
    # When the next hour comes
    assert hourly(warn_day.replace(minute=0) + timedelta(hours=1), events) == [page.id]
    # Then one AccountTokenExpiring names the account, its platform and the expiry, 7 days ahead
    (event,) = events.events
    assert (event.name, event.source, event.workspace_id) == ("AccountTokenExpiring", "chorus.accounts", WS)
    assert event.data["account_id"] == page.id
    assert event.data["platform_account_id"] == "urn:li:organization:5515715"
    assert event.data["expires_at"] == "2027-01-30T09:30:00.000Z"
    assert event.data["days_left"] == 6
    # And later runs do not warn again
    assert hourly(warn_day.replace(minute=0) + timedelta(hours=2), events) == []
    assert hourly(SIXTY_DAYS.replace(minute=0), events) == []
    assert len(events.events) == 1


def test_a_run_missed_for_days_still_warns(aws: None) -> None:
    page = connect("urn:li:person:782bbtaQ", TokenSet("li-token", None, SIXTY_DAYS))
    events = InMemoryEventPublisher()
    late = (SIXTY_DAYS - timedelta(days=2)).replace(minute=0)
    assert hourly(late, events) == [page.id]
    assert events.events[0].data["days_left"] == 2


def test_reconnecting_gives_the_new_token_its_own_warning_and_drops_the_old_one(aws: None) -> None:
    # Given an account connected, then connected again 30 days later (a new 60-day token)
    page = connect("urn:li:organization:1", TokenSet("t1", None, SIXTY_DAYS))
    renewed = SIXTY_DAYS + timedelta(days=30)
    again = connect("urn:li:organization:1", TokenSet("t2", None, renewed))
    assert again.id == page.id
    events = InMemoryEventPublisher()
    # When the first token's warning day comes: nothing (that token was replaced)
    assert hourly((SIXTY_DAYS - timedelta(days=6)).replace(minute=0), events) == []
    # Then the new token is warned on its own day
    assert hourly((renewed - timedelta(days=6)).replace(minute=0), events) == [page.id]


def test_tokens_that_refresh_or_never_expire_are_never_warned(aws: None) -> None:
    connect("urn:li:organization:2", TokenSet("mdp", "refresh", SIXTY_DAYS))  # an MDP app's refresh token
    accounts.connect_or_reconnect(WS, "facebook", "page-1", TokenSet("page-token", "user-token", None))
    events = InMemoryEventPublisher()
    assert hourly((SIXTY_DAYS - timedelta(days=1)).replace(minute=0), events) == []
    assert events.events == []


def test_an_account_already_needing_reauthorisation_is_not_warned_again(aws: None) -> None:
    page = connect("urn:li:organization:3", TokenSet("li-token", None, SIXTY_DAYS))
    accounts.mark_needs_reauth(WS, page.id, "Expired access token")
    events = InMemoryEventPublisher()
    assert hourly((SIXTY_DAYS - timedelta(days=1)).replace(minute=0), events) == []
    assert expiry.due((SIXTY_DAYS - timedelta(days=1)).replace(minute=0)) == []  # and it left the index


def test_the_alert_says_which_account_and_until_when() -> None:
    from chorus.events.envelope import DomainEvent

    subject, text = render(DomainEvent("AccountTokenExpiring", WS, {
        "account_id": "acc1", "platform": "linkedin", "display_name": "Acme Page",
        "expires_at": "2027-01-30T09:30:00.000Z", "days_left": 6}))  # fmt: skip
    assert subject == "Chorus: reconnect your linkedin account within 6 days"
    assert "Acme Page" in text
    assert "2027-01-30T09:30:00.000Z" in text
    assert "Connect the account again" in text

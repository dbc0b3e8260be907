"""What an account's authorisation does not allow (chorus.accounts.features): a Bluesky app password
without access to direct messages is recorded on the account once, shown by its answer, removed when
direct messages work again, and forgotten when the account is reconnected; other ``extra`` keys stay."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chorus.accounts import features
from chorus.accounts import service as accounts
from chorus.accounts.tokens import TokenSet
from chorus.store import keys
from chorus.store.models import AccountItem
from tests.support import main_table_in_moto

WS = "ws-features"
DID = "did:plc:brandbrandbrandbrand00"
NOT_ALLOWED = "not allowed by this app password"
DM = features.DIRECT_MESSAGES


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, "chorus-account-features"):
        yield


def bluesky(extra: dict[str, str] | None = None) -> accounts.Account:
    return accounts.connect_or_reconnect(
        WS, "bluesky", DID, TokenSet("tok-1"), handle="brand.test", extra=extra
    )


def stored_extra(account: accounts.Account) -> dict[str, str]:
    item = AccountItem.get(keys.workspace_pk(WS), keys.account_sk(account.id), consistent_read=True)
    return dict(item.extra or {})


def test_a_refusal_is_recorded_once_shown_and_removed_when_it_works_again(aws: None) -> None:
    account = bluesky({"kept": "yes"})
    assert account.public()[DM] == {"status": "on", "reason": None}
    # When the poller meets the refusal, then meets it again on a later poll
    assert features.record(account, DM, NOT_ALLOWED)
    refused = accounts.get_account(WS, account.id)
    assert not features.record(refused, DM, NOT_ALLOWED)  # unchanged: not written again
    # Then the account answer says why direct messages do not arrive; its other extra keys stay
    assert refused.public()[DM] == {"status": "off", "reason": NOT_ALLOWED}
    assert stored_extra(account) == {"kept": "yes", "refused.direct_messages": NOT_ALLOWED}
    # When direct messages work again, the refusal is removed
    assert features.record(refused, DM, None)
    assert accounts.get_account(WS, account.id).public()[DM] == {"status": "on", "reason": None}
    assert stored_extra(account) == {"kept": "yes"}


def test_a_reconnect_forgets_the_refusal_and_keeps_the_rest(aws: None) -> None:
    account = bluesky({"kept": "yes"})
    features.record(account, DM, NOT_ALLOWED)
    again = accounts.connect_or_reconnect(WS, "bluesky", DID, TokenSet("tok-2"), handle="brand.test")
    assert again.id == account.id
    assert again.public()[DM] == {"status": "on", "reason": None}
    assert stored_extra(account) == {"kept": "yes"}


def test_a_refusal_met_while_the_account_changed_is_left_for_the_next_poll(aws: None) -> None:
    # Given the poller read the account, then the account was reconnected with other extra keys
    read = bluesky()
    accounts.connect_or_reconnect(WS, "bluesky", DID, TokenSet("tok-2"), extra={"note": "new"})
    # When the poller records a refusal met with what it read
    assert not features.record(read, DM, NOT_ALLOWED)
    # Then the reconnect's account is untouched (its new password is asked on the next poll)
    assert stored_extra(read) == {"note": "new"}


def test_a_refusal_for_an_account_removed_meanwhile_makes_no_item(aws: None) -> None:
    account = bluesky()
    accounts.remove_account(WS, account.id)
    assert not features.record(account, DM, NOT_ALLOWED)
    assert AccountItem.count(keys.workspace_pk(WS)) == 0


def test_only_platforms_with_the_feature_show_it(aws: None) -> None:
    mastodon = accounts.connect_or_reconnect(
        WS, "mastodon", "42", TokenSet("tok"), base_url="https://m.example"
    )
    assert DM not in mastodon.public()
    assert features.view("bluesky", {}) == {DM: {"status": "on", "reason": None}}

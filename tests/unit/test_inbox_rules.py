"""Inbox rules (keyword -> tag / assign / priority): how keywords match, how several rules combine,
which rule input is refused (naming the field), and how the per-process cache of a workspace's rules
behaves (read once, made fresh by a write from this process or by ``reset_caches``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from moto import mock_aws

from chorus.config import reset_caches
from chorus.errors import ValidationFailed
from chorus.inbox import keys as ik
from chorus.inbox import rules as rules_module
from chorus.inbox.rules import MAX_RULES, RuleOutcome, apply, build_rules, current_rules, set_rules
from chorus.inbox.store import RulesItem
from chorus.store import keys
from chorus.ttl import TtlCache

WS = "ws-rules"
OTHER_WS = "ws-rules-other"
TABLE = "chorus-inbox-rules-test"


def outcome(raw: list[dict[str, Any]], text: str) -> RuleOutcome:
    return apply(build_rules(WS, raw), text)


def refused_field(raw: Any) -> str:
    with pytest.raises(ValidationFailed) as caught:
        build_rules(WS, raw)
    assert len(caught.value.errors) == 1
    return caught.value.errors[0].field


# ------------------------------------------------------------------------------------------ matching


@pytest.mark.parametrize("text", ["I want a REFUND now", "Refund?", "refund", "#refund please"])
def test_a_keyword_matches_whole_words_in_any_case(text: str) -> None:
    # Given a rule on "refund"; When a message mentions it in any case; Then the rule's tag applies
    assert outcome([{"terms": ["refund"], "tag": "billing"}], text).tags == ("billing",)


@pytest.mark.parametrize("text", ["refunds are slow", "nonrefundable ticket", "re-fund", ""])
def test_a_keyword_does_not_match_inside_another_word(text: str) -> None:
    # Given a rule on "refund"; When the word only appears inside another word (or not at all)
    # Then nothing applies
    assert outcome([{"terms": ["refund"], "tag": "billing"}], text) == RuleOutcome()


def test_a_quoted_phrase_needs_its_words_together_and_in_order() -> None:
    # Given a rule on the exact phrase "money back"
    raw = [{"terms": ['"money back"'], "tag": "billing"}]
    # Then the words side by side (any case, any run of spaces) match
    assert outcome(raw, "I want my MONEY   back").tags == ("billing",)
    # And the same words apart or swapped do not
    assert outcome(raw, "money is not coming back").tags == ()
    assert outcome(raw, "back my money").tags == ()


def test_an_unquoted_term_of_several_words_needs_every_word_anywhere() -> None:
    # Given a rule on the unquoted term: money back
    raw = [{"terms": ["money back"], "tag": "billing"}]
    # Then both words anywhere in the text match, one of them alone does not
    assert outcome(raw, "back then I paid money").tags == ("billing",)
    assert outcome(raw, "money, money, money").tags == ()


def test_any_one_of_a_rules_terms_is_enough() -> None:
    # Given a rule with two terms
    raw = [{"terms": ["broken", "crashed"], "tag": "bug"}]
    # Then each term alone triggers it
    assert outcome(raw, "the app crashed").tags == ("bug",)
    assert outcome(raw, "it is broken").tags == ("bug",)


# ----------------------------------------------------------------------------------------- combining


def test_several_matching_rules_combine_their_tags_first_assignee_and_highest_priority() -> None:
    # Given three rules that all match, and one that does not
    raw = [
        {"terms": ["refund"], "tag": "billing", "priority": 1},
        {"terms": ["angry"], "tag": "escalate", "assign": "alice", "priority": 3},
        {"terms": ["refund"], "tag": "billing", "assign": "bob", "priority": 2},
        {"terms": ["shipping"], "tag": "logistics", "assign": "carol", "priority": 0},
    ]
    # When a message mentions the keywords of the first three
    got = outcome(raw, "I am angry, where is my refund?")
    # Then tags are collected once each, in rule order; the first matching assignee wins; the highest
    # priority wins; the rule that did not match contributes nothing
    assert got == RuleOutcome(tags=("billing", "escalate"), assignee="alice", priority=3)


def test_a_lower_priority_later_rule_does_not_lower_an_earlier_one() -> None:
    raw = [{"terms": ["urgent"], "priority": 3}, {"terms": ["help"], "priority": 1}]
    assert outcome(raw, "urgent help").priority == 3


def test_a_rule_with_only_an_assignee_assigns_without_tagging() -> None:
    got = outcome([{"terms": ["invoice"], "assign": " dana "}], "invoice missing")
    assert got == RuleOutcome(tags=(), assignee="dana", priority=0)


def test_no_rules_means_no_outcome() -> None:
    assert apply([], "refund now") == RuleOutcome()


# ------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"terms": ["x"], "tag": "t"}, "rules"),  # not a list
        ([{"terms": ["x"], "tag": "t"}] * (MAX_RULES + 1), "rules"),
        (["refund"], "rules[0]"),
        ([{"terms": ["refund"]}], "rules[0]"),  # no tag, assignee or priority
        ([{"terms": ["a"], "tag": "t"}, {"terms": ["b"], "priority": 4}], "rules[1].priority"),
        ([{"terms": ["a"], "priority": -1}], "rules[0].priority"),
        ([{"terms": ["a"], "priority": "2"}], "rules[0].priority"),
        ([{"terms": ["a"], "priority": 1.5}], "rules[0].priority"),
        ([{"terms": ["a"], "tag": "   "}], "rules[0].tag"),
        ([{"terms": ["a"], "tag": 7}], "rules[0].tag"),
        ([{"terms": ["a"], "assign": ""}], "rules[0].assign"),
        ([{"terms": ["a"], "assign": ["bob"]}], "rules[0].assign"),
        ([{"tag": "t"}], "rules[0].terms"),  # no terms
        ([{"terms": [], "tag": "t"}], "rules[0].terms"),
        ([{"terms": ["ok", 3], "tag": "t"}], "rules[0].terms"),
        ([{"terms": ['""'], "tag": "t"}], "rules[0].terms"),
    ],
)
def test_invalid_rule_input_is_refused_naming_the_field(raw: Any, field: str) -> None:
    assert refused_field(raw) == field


def test_the_largest_allowed_rule_set_is_accepted() -> None:
    assert len(build_rules(WS, [{"terms": ["x"], "tag": "t"}] * MAX_RULES)) == MAX_RULES


def test_accepted_rules_are_normalised_and_round_trip_through_to_dict() -> None:
    # Given a rule with padded values and a duplicate term
    [rule] = build_rules(WS, [{"terms": ["  refund ", "REFUND", "late"], "tag": " billing ", "priority": 0}])
    # Then terms are trimmed and de-duplicated, the tag trimmed, and priority 0 is kept (not dropped)
    assert rule.to_dict() == {
        "terms": ["refund", "late"],
        "tag": "billing",
        "assign": None,
        "priority": 0,
        "reply": None,
    }
    # And what is stored builds the same rule again
    assert build_rules(WS, [rule.to_dict()]) == [rule]


# ------------------------------------------------------------------------------ storage and caching


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHORUS_TABLE", TABLE)
    with mock_aws():
        reset_caches()
        from chorus.store.models import MainItem, bind

        bind()
        MainItem.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        yield
    reset_caches()


def write_behind_the_cache(workspace_id: str, raw: list[dict[str, Any]]) -> None:
    """Another process (another Lambda instance) saves rules: this process's cache is not told."""
    RulesItem(
        keys.workspace_pk(workspace_id),
        ik.rules_sk(),
        workspace_id=workspace_id,
        rules=raw,
        updated_at=datetime.now(UTC),
    ).save()


def terms_of(workspace_id: str) -> list[tuple[str, ...]]:
    return [r.terms for r in current_rules(workspace_id)]


def test_a_workspace_without_rules_has_none(table: None) -> None:
    assert current_rules(WS) == []


def test_current_rules_are_read_once_then_served_from_the_cache(table: None) -> None:
    # Given rules read once
    set_rules(WS, [{"terms": ["refund"], "tag": "billing"}])
    assert terms_of(WS) == [("refund",)]
    # When another process changes them
    write_behind_the_cache(WS, [{"terms": ["outage"], "tag": "incident"}])
    # Then this process keeps the cached rules (within the TTL)
    assert terms_of(WS) == [("refund",)]
    # And reset_caches makes the next read fresh
    reset_caches()
    assert terms_of(WS) == [("outage",)]


def test_set_rules_makes_the_next_read_in_this_process_fresh(table: None) -> None:
    # Given rules that were read (and so cached)
    set_rules(WS, [{"terms": ["refund"], "tag": "billing"}])
    assert terms_of(WS) == [("refund",)]
    # When this process saves new rules
    set_rules(WS, [{"terms": ["outage"], "tag": "incident", "priority": 3}])
    # Then the very next read returns them
    assert [(r.terms, r.priority) for r in current_rules(WS)] == [(("outage",), 3)]


def test_an_empty_answer_is_cached_too_until_this_process_writes(table: None) -> None:
    # Given a workspace read while it had no rules
    assert current_rules(WS) == []
    write_behind_the_cache(WS, [{"terms": ["refund"], "tag": "billing"}])
    assert current_rules(WS) == []
    # When this process saves rules, then they are read at once
    set_rules(WS, [{"terms": ["late"], "tag": "shipping"}])
    assert terms_of(WS) == [("late",)]


def test_the_cache_is_per_workspace(table: None) -> None:
    # Given two workspaces with their own rules, both read
    set_rules(WS, [{"terms": ["refund"], "tag": "billing"}])
    set_rules(OTHER_WS, [{"terms": ["outage"], "tag": "incident"}])
    assert terms_of(WS) == [("refund",)]
    assert terms_of(OTHER_WS) == [("outage",)]
    # When the second workspace's rules change from this process
    write_behind_the_cache(WS, [{"terms": ["changed"], "tag": "x"}])
    set_rules(OTHER_WS, [{"terms": ["late"], "tag": "shipping"}])
    # Then only its entry is fresh: the first workspace still reads its cached rules
    assert terms_of(OTHER_WS) == [("late",)]
    assert terms_of(WS) == [("refund",)]


def test_cached_rules_expire_after_the_ttl(table: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a cache on a clock the test moves
    now = [1000.0]
    cache: TtlCache[str, list[Any]] = TtlCache(
        rules_module.RULES_TTL_S, clock=lambda: now[0], reset_with_caches=False
    )
    monkeypatch.setattr(rules_module, "_current", cache)
    set_rules(WS, [{"terms": ["refund"], "tag": "billing"}])
    assert terms_of(WS) == [("refund",)]
    write_behind_the_cache(WS, [{"terms": ["outage"], "tag": "incident"}])
    # When just under the TTL has passed, then the cached rules still apply
    now[0] += rules_module.RULES_TTL_S - 0.001
    assert terms_of(WS) == [("refund",)]
    # When the TTL has passed since the read, then the stored rules are read again
    now[0] += 0.002
    assert terms_of(WS) == [("outage",)]


def test_refused_rules_are_not_saved_and_the_cache_keeps_the_old_ones(table: None) -> None:
    # Given valid rules in use
    set_rules(WS, [{"terms": ["refund"], "tag": "billing"}])
    # When invalid rules are submitted, then they are refused naming the field
    with pytest.raises(ValidationFailed) as caught:
        set_rules(WS, [{"terms": ["outage"], "priority": 9}])
    assert caught.value.errors[0].field == "rules[0].priority"
    # And the stored rules are unchanged, also for a fresh read
    reset_caches()
    assert terms_of(WS) == [("refund",)]


def test_stored_rules_are_applied_as_saved(table: None) -> None:
    # Given rules saved through set_rules
    set_rules(WS, [{"terms": ['"money back"'], "tag": "billing", "assign": "alice", "priority": 2}])
    reset_caches()
    # When a message is matched against the rules read back from the table
    got = apply(current_rules(WS), "I want my Money Back")
    # Then the saved rule applies as written
    assert got == RuleOutcome(tags=("billing",), assignee="alice", priority=2)


@pytest.mark.parametrize("terms", ["refund", 5, {"refund": 1}])
def test_terms_not_given_as_a_list_are_refused_naming_the_field(terms: Any) -> None:
    # Given a rule whose terms are not a list (found by this suite: one string was split into one-letter
    # terms, so "refund" tagged any message with a lone "d" or "e" in it; an object's keys became terms;
    # a number raised TypeError instead of a validation error)
    raw = [{"terms": terms, "tag": "billing"}]
    # When it is validated, then it is refused naming the field
    assert refused_field(raw) == "rules[0].terms"


def test_a_boolean_priority_is_refused() -> None:
    # JSON true is not the priority 1 (found by this suite: bool passed the integer check)
    assert refused_field([{"terms": ["urgent"], "priority": True}]) == "rules[0].priority"

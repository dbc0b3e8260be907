"""Monitors validate themselves; matching finds their terms the way a person reading the post would."""

from __future__ import annotations

from typing import Any

import pytest

from chorus.errors import ValidationFailed
from chorus.listening.matching import compile_monitor, matches
from chorus.listening.monitors import Monitor, MonitorKind


def monitor(terms: list[str], **kw: Any) -> Monitor:
    fields: dict[str, Any] = {"id": "mon-1", "workspace_id": "ws-1", "name": "Acme", "kind": "brand"}
    fields.update(kw)
    return Monitor(terms=tuple(terms), **fields)


def field_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> tuple[str, str]:
    (error,) = exc.value.errors
    return error.field, error.rule


# --- monitors --------------------------------------------------------------------------------------


def test_a_monitor_normalises_its_terms_languages_and_platforms() -> None:
    m = monitor(["  Acme ", "acme", "Acme  Cloud"], languages=["EN", "zh_CN"], platforms=["X", "bluesky"])
    assert m.kind is MonitorKind.BRAND
    assert m.terms == ("Acme", "Acme Cloud")
    assert m.languages == ("en", "zh-cn")
    assert m.platforms == ("x", "bluesky")


def test_a_hashtag_monitor_stores_tags_without_the_hash() -> None:
    m = monitor(["#AcmeFail", "acmeoutage"], kind="hashtag")
    assert m.terms == ("AcmeFail", "acmeoutage")


@pytest.mark.parametrize(
    ("kw", "terms", "expected"),
    [
        ({"kind": "fans"}, ["acme"], ("kind", "enum")),
        ({}, [], ("terms", "required")),
        ({}, ["acme", "   "], ("terms[1]", "required")),
        ({}, ["x" * 101], ("terms[0]", "max_length")),
        ({"kind": "hashtag"}, ["acme fail"], ("terms[0]", "hashtag")),
        ({"languages": ["english"]}, ["acme"], ("languages[0]", "language")),
        ({"platforms": ["myspace"]}, ["acme"], ("platforms[0]", "enum")),
        ({"is_competitor": True}, ["acme"], ("is_competitor", "conflict")),
        ({"name": ""}, ["acme"], ("name", "required")),
        ({"workspace_id": ""}, ["acme"], ("workspace_id", "required")),
        ({"exclude": ["ok", '""']}, ["acme"], ("exclude[1]", "required")),
    ],
)
def test_an_invalid_monitor_is_refused_naming_the_field(
    kw: dict[str, Any], terms: list[str], expected: tuple[str, str]
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        monitor(terms, **kw)
    assert field_of(exc) == expected
    assert exc.value.status == 422


def test_a_competitor_monitor_is_always_flagged_as_competitor() -> None:
    assert monitor(["globex"], kind="competitor").is_competitor is True
    assert monitor(["#globex"], kind="hashtag", is_competitor=True).is_competitor is True
    assert monitor(["acme"]).is_competitor is False


def test_a_monitor_round_trips_through_its_dict() -> None:
    m = monitor(['"acme cloud"', "#acme"], exclude=["anvil"], languages=["en"], platforms=["x"])
    assert Monitor.from_dict(m.to_dict()) == m


def test_from_dict_refuses_a_string_where_a_list_belongs() -> None:
    with pytest.raises(ValidationFailed) as exc:
        Monitor.from_dict({"id": "m", "workspace_id": "w", "name": "n", "kind": "brand", "terms": "acme"})
    assert field_of(exc) == ("terms", "type")


# --- matching --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Acme is down again",
        "ACME!!!",
        "love acme's new phone",
        "(acme)",
        "#ACME",
        "@acme help me",
        "a\u00a0acme",
    ],
)
def test_a_word_term_matches_whatever_the_case_and_punctuation(text: str) -> None:
    assert matches(monitor(["acme"]), text) == ["acme"]


@pytest.mark.parametrize("text", ["acmefoods rocks", "the acme_bot says", "subacme", "acm e"])
def test_a_word_term_does_not_match_inside_another_word(text: str) -> None:
    assert matches(monitor(["acme"]), text) == []


def test_full_width_latin_is_the_same_word() -> None:
    assert matches(monitor(["acme"]), "\uff21\uff23\uff2d\uff25 \u4e0d\u597d\u7528") == ["acme"]


def test_a_chinese_term_matches_as_a_substring() -> None:
    # "我在用阿克米手机" (I'm using an Acme phone): no spaces around the brand
    assert matches(monitor(["阿克米"]), "我在用阿克米手机") == ["阿克米"]


def test_a_latin_term_counts_next_to_chinese_text() -> None:
    assert matches(monitor(["acme"]), "我爱Acme手机") == ["acme"]
    assert matches(monitor(["Acme手机"]), "我爱Acme手机了") == ["Acme手机"]
    assert matches(monitor(["Acme手机"]), "我爱SuperAcme手机") == []


def test_a_hashtag_term_matches_only_the_hashtag() -> None:
    m = monitor(["#acmefail"])
    assert matches(m, "so true #AcmeFail") == ["#acmefail"]
    assert matches(m, "acmefail is not a tag") == []
    assert matches(m, "#acmefailure") == []


def test_a_handle_term_matches_only_the_handle() -> None:
    m = monitor(["@acmehq"])
    assert matches(m, "ping @AcmeHQ please") == ["@acmehq"]
    assert matches(m, "ping @acmehq.bsky.social") == ["@acmehq"]
    assert matches(m, "acmehq without the at") == []
    assert matches(m, "mail me at bob@acmehq") == []


def test_a_hashtag_monitor_matches_hashtags_not_words() -> None:
    m = monitor(["acme"], kind="hashtag")
    assert matches(m, "down again #acme") == ["acme"]
    assert matches(m, "down again acme") == []


def test_a_quoted_phrase_needs_its_words_together_in_order() -> None:
    m = monitor(['"acme cloud"'])
    assert matches(m, "ACME   Cloud is down") == ['"acme cloud"']
    assert matches(m, "cloud acme") == []
    assert matches(m, "acme's cloud") == []


def test_curly_quotes_make_a_phrase_too() -> None:
    assert matches(monitor(["\u201cacme cloud\u201d"]), "the acme cloud outage") == ["\u201cacme cloud\u201d"]
    assert matches(monitor(["\u201cacme cloud\u201d"]), "cloud by acme") == []


def test_unquoted_words_must_all_appear_in_any_order() -> None:
    m = monitor(["acme refund"])
    assert matches(m, "still no refund from Acme") == ["acme refund"]
    assert matches(m, "Acme is great") == []


def test_a_several_word_term_matches_its_joined_hashtag_and_handle() -> None:
    m = monitor(['"acme cloud"'])
    assert matches(m, "outage #AcmeCloud") == ['"acme cloud"']
    assert matches(m, "cc @acmecloud") == ['"acme cloud"']


def test_every_term_hit_is_reported_in_the_monitors_order() -> None:
    m = monitor(['"acme cloud"', "acme", "globex"])
    assert matches(m, "Acme Cloud beats Globex") == ['"acme cloud"', "acme", "globex"]


@pytest.mark.parametrize(
    ("exclude", "text"),
    [
        (["anvil"], "Acme anvil fell on me"),
        (['"wile e"'], "Wile  E. bought acme"),
        (["roadrunner coyote"], "the coyote ordered acme to catch the roadrunner"),
        (["#ad"], "buy acme now #ad"),
        (["广告"], "阿克米 acme 广告"),
    ],
)
def test_an_excluded_term_wins_over_every_hit(exclude: list[str], text: str) -> None:
    m = monitor(["acme"], exclude=exclude)
    assert matches(m, text) == []


def test_an_exclusion_that_is_absent_lets_the_match_through() -> None:
    assert matches(monitor(["acme"], exclude=["roadrunner coyote"]), "acme and the coyote") == ["acme"]


def test_languages_and_platforms_outside_the_monitor_match_nothing() -> None:
    m = monitor(["acme"], languages=["en"], platforms=["x"])
    assert matches(m, "acme", lang="en-US", platform="x") == ["acme"]
    assert matches(m, "acme", lang="de", platform="x") == []
    assert matches(m, "acme", lang="en", platform="mastodon") == []
    assert matches(m, "acme", lang=None, platform="x") == ["acme"]  # unknown language is kept


def test_a_monitor_is_compiled_once() -> None:
    m = monitor(["acme", '"acme cloud"'])
    assert compile_monitor(m) is compile_monitor(monitor(["acme", '"acme cloud"']))


def test_matching_a_large_mixed_batch_finds_exactly_the_mentions() -> None:
    """Correctness over a large batch; its speed is a benchmark (bench/bench_crisis.py,
    ``matches_texts_per_second``), not a timed test."""
    m = monitor(["acme", '"acme cloud"', "#acmefail", "@acmehq", "阿克米", "globex corp"], exclude=["anvil"])
    texts = [
        f"post {i}: the weather is nice today and nobody talks about brands at all, lorem ipsum dolor"
        for i in range(9000)
    ] + [f"post {i}: Acme Cloud down again #AcmeFail 阿克米" for i in range(1000)]
    compile_monitor(m)
    hits = sum(1 for t in texts if matches(m, t))
    assert hits == 1000

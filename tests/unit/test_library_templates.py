"""Template variables: declared with defaults, every placeholder declared, rendering refuses unknown
variables and missing required ones naming them; per-platform variants; hashtag group fitness."""

from __future__ import annotations

import pytest

from chorus.errors import ValidationFailed
from chorus.library.hashtags import fitness, normalize
from chorus.library.templates import Template, Variable, check, placeholders, render_template


def template(text: str, *variables: Variable, **variants: str) -> Template:
    return Template("ws", "tpl_1", "t", text, tuple(variables), dict(variants))


def fields(error: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {e.field: e.rule for e in error.value.errors}


def test_placeholders_in_order_once_with_spaces_allowed() -> None:
    assert placeholders("Hi {{first_name}}, {{ city }} and {{first_name}} again") == ["first_name", "city"]


def test_render_fills_values_and_defaults_and_each_platform_variant() -> None:
    t = template(
        "Hi {{first_name}}, see you in {{city}}!",
        Variable("first_name"),
        Variable("city", "Lisbon"),
        x="{{first_name}} @ {{city}}",
    )
    out = render_template(t, {"first_name": "Ana"})
    assert out.text == "Hi Ana, see you in Lisbon!"
    assert out.variants == {"x": "Ana @ Lisbon"}
    assert out.values == {"first_name": "Ana", "city": "Lisbon"}
    assert out.fitness["x"] == []
    assert out.fitness["bluesky"] == []


def test_unknown_variables_are_a_422_naming_each() -> None:
    t = template("Hi {{first_name}}", Variable("first_name", "there"))
    with pytest.raises(ValidationFailed) as error:
        render_template(t, {"first_name": "Ana", "lastname": "B", "zip": "1"})
    assert fields(error) == {"variables.lastname": "unknown_variable", "variables.zip": "unknown_variable"}


def test_a_required_variable_without_a_value_is_a_422_naming_it() -> None:
    with pytest.raises(ValidationFailed) as error:
        render_template(template("Hi {{first_name}}", Variable("first_name")), {})
    assert fields(error) == {"variables.first_name": "required"}


def test_an_empty_value_is_a_value() -> None:
    assert render_template(template("[{{x}}]", Variable("x")), {"x": ""}).text == "[]"


def test_a_value_is_not_rendered_again() -> None:
    t = template("{{a}}", Variable("a"), Variable("b", "B"))
    assert render_template(t, {"a": "{{b}}"}).text == "{{b}}"


def test_undeclared_placeholders_and_bad_names_are_refused_at_save() -> None:
    with pytest.raises(ValidationFailed) as error:
        check(
            "Hi {{first_name}} {{who}}",
            (Variable("first_name"), Variable("first_name"), Variable("9lives")),
            {"x": "{{ bad name }}", "myspace": "hi"},
        )
    assert fields(error) == {
        "variables[1].name": "duplicate",
        "variables[2].name": "variable_name",
        "text": "unknown_variable",
        "variants.x": "placeholder",
        "variants.myspace": "platform",
    }
    assert "who" in error.value.detail


def test_fitness_reports_a_variant_too_long_for_its_platform() -> None:
    t = Template("ws", "t", "t", "short", (Variable("word", "abcdefgh"),), {"x": "{{word}} " * 50})
    out = render_template(t, {})
    assert [p["rule"] for p in out.fitness["x"]] == ["text.too_long"]
    assert out.fitness["mastodon"] == []


def test_hashtags_normalized_and_instagram_limit_reported() -> None:
    assert normalize(["#Summer", "summer", " #sale ", "été_2026"]) == ("Summer", "sale", "été_2026")
    tags = [f"tag{i}" for i in range(31)]
    report = fitness(tags)
    assert report["instagram"]["count"] == 31
    assert report["instagram"]["limit"] == 30
    assert report["instagram"]["fits"] is False
    assert report["instagram"]["problems"][0]["rule"] == "text.too_many_hashtags"
    assert report["mastodon"]["fits"] is True
    assert report["mastodon"]["limit"] is None
    assert fitness(tags[:30])["instagram"]["fits"] is True


def test_bad_hashtags_are_named() -> None:
    with pytest.raises(ValidationFailed) as error:
        normalize(["ok", "not ok", "#", "a-b"])
    assert set(fields(error)) == {"hashtags[1]", "hashtags[2]", "hashtags[3]"}


def test_fitness_counts_the_rendered_text_alone() -> None:
    # 500 characters is Mastodon's limit exactly: nothing else (no link) is counted with it
    out = render_template(template("{{x}}", Variable("x")), {"x": "a" * 500})
    assert out.fitness["mastodon"] == []
    assert [
        p["rule"]
        for p in render_template(template("{{x}}", Variable("x")), {"x": "a" * 501}).fitness["mastodon"]
    ] == ["text.too_long"]

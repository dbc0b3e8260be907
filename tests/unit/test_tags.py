"""chorus.tags: one spelling of a tag for posts, the media library and the calendar's filter."""

from __future__ import annotations

import pytest

from chorus.errors import ValidationFailed
from chorus.tags import MAX_TAGS, clean_tag, clean_tags


def test_tags_are_trimmed_lower_cased_and_kept_once_in_their_first_place() -> None:
    assert clean_tags([" Launch", "shoes ", "LAUNCH", "Été"]) == ["launch", "shoes", "été"]
    assert clean_tags([]) == []
    assert clean_tag("  Spring Sale ") == "spring sale"


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        (["ok", " "], ["tags[1]"]),
        (["a,b", "x" * 51], ["tags[0]", "tags[1]"]),
        (["line\nbreak"], ["tags[0]"]),
        ([f"t{n}" for n in range(MAX_TAGS + 1)], ["tags"]),
    ],
)
def test_a_tag_that_is_not_one_is_refused_naming_it(raw: list[str], fields: list[str]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        clean_tags(raw)
    assert [e.field for e in refused.value.errors] == fields


def test_a_filters_tag_is_refused_naming_its_parameter() -> None:
    with pytest.raises(ValidationFailed) as refused:
        clean_tag("a,b")
    assert [(e.field, e.rule) for e in refused.value.errors] == [("tag", "tag")]
    assert clean_tags(["x" * 50]) == ["x" * 50]

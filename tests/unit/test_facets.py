"""Bluesky facets: exact UTF-8 byte ranges for links, mentions and hashtags."""

from __future__ import annotations

from chorus.platforms.bluesky.facets import LINK, MENTION, TAG, byte_offset, detect_facets

DIDS = {"alice.bsky.social": "did:plc:alice", "bob.test": "did:plc:bob"}


def resolve(handle: str) -> str | None:
    return DIDS.get(handle)


def spans(text: str) -> list[tuple[int, int, str, str]]:
    out = []
    for facet in detect_facets(text, resolve):
        feature = facet["features"][0]
        value = feature.get("uri") or feature.get("did") or feature.get("tag")
        out.append((facet["index"]["byteStart"], facet["index"]["byteEnd"], feature["$type"], value))
    return out


def test_hashtag_after_chinese_text_starts_at_its_byte_offset() -> None:
    # Given "你好 " (6 + 1 bytes) then "#标签" (1 + 6 bytes)
    assert spans("你好 #标签") == [(7, 14, TAG, "标签")]


def test_link_after_an_emoji_with_skin_tone_counts_its_eight_bytes() -> None:
    # "👍🏽" is 8 bytes, " see " 5, the URL 19
    assert spans("👍🏽 see https://example.com") == [(13, 32, LINK, "https://example.com")]


def test_mention_resolves_to_did_and_covers_the_at_sign() -> None:
    assert spans("你好 @bob.test!") == [(7, 16, MENTION, "did:plc:bob")]
    assert spans("@alice.bsky.social hi") == [(0, 18, MENTION, "did:plc:alice")]


def test_unresolvable_handle_stays_plain_text() -> None:
    assert spans("hi @nobody.example") == []


def test_mixed_post_facets_are_ordered_by_byte_start() -> None:
    text = "早上好 @alice.bsky.social 看 example.com/路径 #早安 🌅"
    found = spans(text)
    assert found == [
        (10, 28, MENTION, "did:plc:alice"),
        (33, 51, LINK, "https://example.com/路径"),
        (52, 59, TAG, "早安"),
    ]
    encoded = text.encode("utf-8")
    assert encoded[10:28].decode() == "@alice.bsky.social"
    assert encoded[33:51].decode() == "example.com/路径"
    assert encoded[52:59].decode() == "#早安"


def test_hashtag_trailing_punctuation_and_number_only_tags_are_not_tagged() -> None:
    assert spans("#wow! #123 #ok") == [(0, 4, TAG, "wow"), (11, 14, TAG, "ok")]


def test_an_at_sign_inside_a_url_is_not_a_mention() -> None:
    assert spans("https://example.com/@bob.test") == [(0, 29, LINK, "https://example.com/@bob.test")]


def test_byte_offset_of_string_index() -> None:
    assert byte_offset("a你b", 2) == 4

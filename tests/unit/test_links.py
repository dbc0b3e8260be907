"""UTM tagging, link finding, bot / referrer / country reading, short codes, campaign input and the
campaign report's arithmetic (no AWS: pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chorus.campaigns.model import Campaign
from chorus.campaigns.report import Figures, costs_by_platform
from chorus.campaigns.service import parse
from chorus.errors import ValidationFailed
from chorus.links import clicks
from chorus.links.service import CODE_LENGTH, is_code, new_code
from chorus.links.utm import (
    UtmDefaults,
    check_values,
    links_in,
    post_of_content,
    replace_links,
    tag,
    values_for,
)


def test_tagging_adds_the_utm_values_and_keeps_what_the_url_says() -> None:
    values = {"source": "x", "medium": "social", "campaign": "launch", "content": "p1"}
    assert tag("https://shop.example.com/a?color=red#top", values) == (
        "https://shop.example.com/a?color=red&utm_source=x&utm_medium=social&utm_campaign=launch&utm_content=p1#top"
    )
    # a value someone typed in the URL wins
    assert tag("https://s.example.com/?utm_source=newsletter", {"source": "x", "medium": "social"}) == (
        "https://s.example.com/?utm_source=newsletter&utm_medium=social"
    )


def test_values_come_from_the_post_then_the_campaign_then_the_workspace() -> None:
    defaults = UtmDefaults(medium="organic", campaign="always", term="shoes")
    assert values_for(defaults, {}, platform="bluesky", content="p1") == {
        "source": "bluesky", "medium": "organic", "campaign": "always", "content": "p1", "term": "shoes"}  # fmt: skip
    assert (
        values_for(defaults, {"campaign": "mine"}, platform="x", content="p1", campaign="launch")["campaign"]
        == "mine"
    )
    assert values_for(defaults, {}, platform="x", content="p1", campaign="launch")["campaign"] == "launch"
    assert values_for(defaults, {"enabled": "false"}, platform="x", content="p1") is None
    assert values_for(UtmDefaults(enabled=False), {}, platform="x", content="p1") is None
    assert values_for(UtmDefaults(enabled=False), {"enabled": "true"}, platform="x", content="p1") is not None


def test_links_are_found_in_order_without_trailing_punctuation_and_swapped_exactly() -> None:
    text = "See https://a.example.com/x. And (https://b.example.com/y), again https://a.example.com/x!"
    assert links_in("https://c.example.com/", text) == [
        "https://c.example.com/", "https://a.example.com/x", "https://b.example.com/y"]  # fmt: skip
    swapped = replace_links(text, {"https://a.example.com/x": "https://go.example.com/l/AAAAAAAAAA"})
    assert swapped == (
        "See https://go.example.com/l/AAAAAAAAAA. And (https://b.example.com/y), again https://go.example.com/l/AAAAAAAAAA!"
    )
    assert post_of_content("p123-acct9") == "p123"
    assert post_of_content("p123") == "p123"


def test_bad_utm_values_name_their_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_values({"colour": "red", "term": "x" * 101, "enabled": "yes"})
    assert sorted(e.field for e in caught.value.errors) == ["utm.colour", "utm.enabled", "utm.term"]
    assert check_values({"enabled": False, "term": " run "}) == {"enabled": "false", "term": "run"}


@pytest.mark.parametrize(
    "agent",
    ["Twitterbot/1.0", "facebookexternalhit/1.1", "Slackbot-LinkExpanding 1.0", "LinkedInBot/1.0",
     "Mozilla/5.0 (compatible; Discordbot/2.0)", "TelegramBot (like TwitterBot)", "WhatsApp/2.23.20.0",
     "Mozilla/5.0 (compatible; Googlebot/2.1)", "Mozilla/5.0 (compatible; bingbot/2.0)", "", None],
)  # fmt: skip
def test_bots_and_link_preview_fetchers_are_known(agent: str | None) -> None:
    assert clicks.is_bot(agent)


def test_browsers_are_people() -> None:
    assert not clicks.is_bot(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"
    )
    assert not clicks.is_bot(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
    )


def test_the_referrer_names_the_platform_and_the_header_the_country() -> None:
    assert clicks.referrer_platform("https://t.co/abc") == "x"
    assert clicks.referrer_platform("https://l.facebook.com/l.php") == "facebook"
    assert clicks.referrer_platform("https://www.linkedin.com/feed/") == "linkedin"
    assert clicks.referrer_platform("https://notfacebook.com/") == "other"
    assert clicks.referrer_platform(None) == "direct"
    assert clicks.country("fr") == "FR"
    assert clicks.country("XX1") is None
    assert clicks.country(None) is None


def test_codes_are_long_random_and_checked() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == CODE_LENGTH and is_code(c) for c in codes)
    assert not is_code("short")
    assert not is_code("AAAAAAAAA/")


def test_campaign_input_is_checked_field_by_field() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    made = parse("ws1", {"name": "Big Launch!", "starts_on": "2026-12-01", "budget": 300, "goal": {"metric": "roi", "target": 0.5}}, None, now)  # fmt: skip
    assert (made.utm_campaign, made.currency, made.goal and made.goal.metric) == ("big-launch", "USD", "roi")
    with pytest.raises(ValidationFailed) as caught:
        parse("ws1", {"name": "", "starts_on": "x", "budget": "a", "goal": {"metric": "roi", "target": 0}, "costs": {"x": -1}}, None, now)  # fmt: skip
    assert sorted(e.field for e in caught.value.errors) == [
        "budget",
        "costs.x",
        "goal.target",
        "name",
        "starts_on",
    ]
    changed = parse("ws1", {"budget": 10}, made, now)
    assert (changed.id, changed.name, changed.budget) == (made.id, "Big Launch!", 10)


def test_costs_share_what_is_left_of_the_budget_by_target() -> None:
    campaign = Campaign("ws", "c1", "C", date(2026, 1, 1), None, "USD", budget=300, costs={"x": 100})
    # x named 100 for its 2 targets; the 200 left is shared by the 2 other targets
    assert costs_by_platform(campaign, ["x", "x", "bluesky", "linkedin"]) == {
        "x": 50,
        "bluesky": 100,
        "linkedin": 100,
    }


def test_figures_compute_their_ratios_and_none_without_a_denominator() -> None:
    f = Figures(impressions=2000, engagements=100, clicks=6, conversions=3, value=200, cost=300)
    assert (f.engagement_rate, f.ctr, f.conversion_rate) == (0.05, 0.003, 0.5)
    assert (f.cost_per_click, f.cost_per_conversion, f.roi) == (50, 100, pytest.approx(-1 / 3))
    assert Figures().to_dict()["roi"] is None
    assert Figures().to_dict()["ctr"] is None


def test_infinite_or_huge_numbers_are_refused() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    raw = {
        "name": "x",
        "starts_on": "2026-12-01",
        "budget": float("inf"),
        "goal": {"metric": "clicks", "target": float("inf")},
    }
    with pytest.raises(ValidationFailed) as caught:
        parse("ws1", raw, None, now)
    assert sorted(e.field for e in caught.value.errors) == ["budget", "goal.target"]

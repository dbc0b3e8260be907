"""What a click on a short link says: a known bot or link-preview fetcher (redirected, never counted),
the platform it came from (its referrer), its country (CloudFront-Viewer-Country in AWS)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Crawlers and the fetchers that draw link previews: they follow the link without a person clicking.
BOT_AGENTS = re.compile(
    r"bot\b|bot/|crawler|spider|slurp|facebookexternalhit|facebookcatalog|meta-externalagent|"
    r"twitterbot|slackbot|slack-imgproxy|linkedinbot|discordbot|telegrambot|whatsapp|googlebot|"
    r"google-inspectiontool|adsbot|bingbot|bingpreview|duckduckbot|yandex|baiduspider|applebot|"
    r"pinterestbot|redditbot|embedly|skypeuripreview|vkshare|w3c_validator|mastodon/|bluesky cardyb|"
    r"cardyb|iframely|outbrain|quora link preview|petalbot|semrush|ahrefs|mj12bot|"
    r"headlesschrome|python-requests|curl/|wget/|go-http-client|okhttp|ia_archiver|preview",
    re.IGNORECASE,
)

# Referrer hosts (a suffix match) -> the platform the click came from.
REFERRERS: tuple[tuple[str, str], ...] = (
    ("t.co", "x"),
    ("x.com", "x"),
    ("twitter.com", "x"),
    ("facebook.com", "facebook"),
    ("fb.com", "facebook"),
    ("fb.me", "facebook"),
    ("instagram.com", "instagram"),
    ("threads.net", "threads"),
    ("threads.com", "threads"),
    ("linkedin.com", "linkedin"),
    ("lnkd.in", "linkedin"),
    ("pinterest.com", "pinterest"),
    ("pin.it", "pinterest"),
    ("bsky.app", "bluesky"),
    ("tiktok.com", "tiktok"),
    ("youtube.com", "youtube"),
    ("youtu.be", "youtube"),
    ("reddit.com", "reddit"),
    ("google.com", "google"),
    ("weibo.com", "weibo"),
    ("weibo.cn", "weibo"),
    ("douyin.com", "douyin"),
    ("xiaohongshu.com", "xiaohongshu"),
)

COUNTRY = re.compile(r"^[A-Z]{2}$")


def is_bot(user_agent: str | None) -> bool:
    """A known bot or link-preview fetcher (no user agent at all counts as one: browsers send one)."""
    return not user_agent or bool(BOT_AGENTS.search(user_agent))


def referrer_platform(referrer: str | None) -> str:
    """The platform of ``referrer`` ("direct" without one, "other" for a site not listed)."""
    if not referrer:
        return "direct"
    try:
        host = (urlsplit(referrer).hostname or "").lower()
    except ValueError:
        return "other"
    for suffix, platform in REFERRERS:
        if host == suffix or host.endswith("." + suffix):
            return platform
    return "other" if host else "direct"


def country(header: str | None) -> str | None:
    """The ISO country code CloudFront names (None without the header, or an unknown value)."""
    value = (header or "").strip().upper()
    return value if COUNTRY.match(value) else None

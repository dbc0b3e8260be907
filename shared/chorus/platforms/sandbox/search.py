"""Search on the sandbox platform (local only): public posts containing a term, in order, with a cursor."""

from __future__ import annotations

from datetime import datetime

import requests

from chorus.listening.monitors import Mention, SearchPage
from chorus.platforms.http import call, json_body


def search_posts(
    base_url: str, term: str, cursor: str | None, session: requests.Session | None = None
) -> SearchPage:
    resp = call(
        session or requests.Session(),
        "GET",
        base_url.rstrip("/") + "/api/search",
        "sandbox",
        params={"q": term, "since_seq": cursor or "0"},
    )
    posts = json_body(resp, "sandbox")["posts"]
    mentions = tuple(
        Mention(
            platform="sandbox",
            platform_id=p["id"],
            url=p.get("url"),
            author_handle=p.get("account"),
            author_id=p.get("account", ""),
            text=p.get("text", ""),
            created_at=datetime.fromisoformat(p["created_at"].replace("Z", "+00:00")),
            lang=None,
        )
        for p in posts
    )
    last = str(posts[-1]["seq"]) if posts else cursor
    return SearchPage(mentions, last, complete=len(posts) < 100)


def search_terms(base_url: str, terms: list[str], cursor: str | None) -> SearchPage:
    """Every term from the same cursor (the sandbox numbers posts globally), merged without duplicates."""
    seen: dict[str, Mention] = {}
    newest = int(cursor or 0)
    for term in terms:
        page = search_posts(base_url, term, cursor)
        for m in page.mentions:
            seen.setdefault(m.platform_id, m)
        newest = max(newest, int(page.cursor or 0))
    ordered = tuple(sorted(seen.values(), key=lambda m: m.created_at))
    return SearchPage(ordered, str(newest) if newest else cursor)

"""The figures the sandbox reports for what its personas made: plausible, deterministic per post (drawn
from a hash of its id) and growing with its age, so two collections of one post show it gaining views.

Every platform's metrics answer (:mod:`chorus.platforms.sandbox.insights`) is these numbers under the
platform's own names; an account's followers grow with the posts it made."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

COUNTED = ("views", "reach", "likes", "comments", "shares", "quotes", "saves", "clicks", "interactions")


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def counts(post_id: str, made_at: float, now: float) -> dict[str, int]:
    """A post's counts ``now`` (epoch seconds), made at ``made_at``: a first audience of 120 to 499 views,
    then 2 to 10 more a minute; the reactions a share of the views. Each never decreases with time."""
    seed = _seed(post_id)
    minutes = max(0.0, now - made_at) / 60
    views = 120 + seed % 380 + int(minutes * (2 + seed % 9))
    likes = views * (3 + seed % 6) // 100
    comments, shares = likes // 4, likes // 6
    return {
        "views": views,
        "reach": views * 4 // 5,
        "likes": likes,
        "comments": comments,
        "shares": shares,
        "quotes": likes // 15,
        "saves": likes // 8,
        "clicks": views // 40,
        "interactions": likes + comments + shares,
    }


def followers(account: str, posts: int) -> int:
    """An account's followers: 1,000 to 4,999 to start with (by its id), three more for each post made."""
    return 1000 + _seed(account) % 4000 + 3 * posts


def summed(each: Iterable[dict[str, int]]) -> dict[str, int]:
    """The counts of several posts added up (an account's totals)."""
    total = dict.fromkeys(COUNTED, 0)
    for one in each:
        for name in COUNTED:
            total[name] += one[name]
    return total

"""Competitor benchmarking (issue 21): competitors' public accounts, collected on a schedule within each
platform's quota, measured beside the workspace's own accounts in the benchmark report.

* :mod:`.model` — a competitor, its collected posts and follower points, content types.
* :mod:`.timelines` — the public lookups and timelines of Bluesky, Mastodon, X and YouTube.
* :mod:`.quota` — each platform's daily request/unit allowance, spent before each call and recorded.
* :mod:`.store` / :mod:`.service` — storage and the ``/competitors`` CRUD (resolved at add time).
* :mod:`.collector` — the scheduled collection (followers per day, posts paged with a persisted cursor).
* :mod:`.measures` — posting frequency, content mix, median engagement, engagement rate, top posts,
  follower growth: pure functions the benchmark report (:mod:`chorus.reports.benchmark`) calls.
"""

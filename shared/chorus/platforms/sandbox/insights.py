"""The personas' metrics endpoints: what each platform's REAL collector (``<platform>/metrics.py``) calls
for a post's and an account's figures, answered in the platform's documented shape with the counts of
:mod:`chorus.platforms.sandbox.counts` (deterministic per post, growing with its age).

* X: ``GET /2/tweets?ids=`` (``public_metrics``; an unknown id in ``errors``), ``GET /2/users/{id}``.
* Mastodon: ``GET /api/v1/statuses/{id}``, ``GET /api/v1/accounts/{id}``.
* Bluesky: ``app.bsky.feed.getPosts?uris=&uris=``, ``app.bsky.actor.getProfile``.
* Facebook: ``GET /?ids=&fields=insights.metric(...),reactions...,comments...,shares``, the Page's
  ``GET /{page}?fields=followers_count,fan_count,insights.metric(...)``.
* Instagram and Threads: ``GET /{media}/insights?metric=`` (the edge shape), Instagram's
  ``GET /{ig-user}?fields=followers_count,follows_count`` and ``/{ig-user}/insights`` (``total_value``).
* LinkedIn: ``organizationalEntityShareStatistics`` (the page's totals, or ``shares=List(...)``) and
  ``networkSizes/{org}``.
* Pinterest: ``GET /v5/pins/{id}/analytics``. Weibo: ``2/statuses/count.json?ids=``. TikTok:
  ``POST /v2/video/query/``. (Their followers are in the whoami answers the personas already give.)
* WeChat: ``POST /datacube/getusersummary | getusercumulate | getarticlesummary`` (the account's days).

Only what a persona made is counted: an unknown id is refused or left out as the platform does."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from chorus.platforms.sandbox.counts import counts, followers, summed
from chorus.platforms.sandbox.personas import (
    INSTAGRAM_ACCOUNT,
    Answer,
    Ask,
    Handler,
    Made,
    Persona,
    Personas,
)

META_NAMES = {
    "views": "views", "impressions": "views", "reach": "reach", "likes": "likes", "comments": "comments",
    "replies": "comments", "shares": "shares", "reposts": "shares", "quotes": "quotes", "saved": "saves",
    "total_interactions": "interactions", "profile_activity": "clicks", "post_media_view": "views",
    "post_impressions": "views", "post_impressions_unique": "reach", "post_clicks": "clicks",
    "post_engaged_users": "interactions", "page_media_view": "views", "page_impressions": "views",
    "page_impressions_unique": "reach", "page_post_engagements": "interactions",
    "page_views_total": "clicks", "website_clicks": "clicks", "profile_views": "clicks",
}  # fmt: skip
"""A Meta insight name -> the count it reports (a name not here is left out of the answer)."""


def answer_metrics(all_: Personas) -> None:
    """Add the metrics endpoints to every persona (ahead of its own routes: Graph's ``/{id}`` read is
    a catch-all)."""
    for add in (_x, _mastodon, _bluesky, _meta, _threads, _linkedin, _pinterest, _weibo, _tiktok, _wechat):
        add(all_)


def _first(p: Persona, method: str, pattern: str) -> Callable[[Handler], Handler]:
    def add(handler: Handler) -> Handler:
        p.routes.insert(0, (method, re.compile(pattern), handler))
        return handler

    return add


def _now(made: Made) -> dict[str, int]:
    return counts(made.id, made.at, time.time())


def _measured(all_: Personas, platform: str, post_id: str) -> tuple[Made, dict[str, int]] | None:
    """The post ``platform``'s persona made under ``post_id`` and its counts now; None: not made here."""
    made = all_.find(platform, post_id)
    return None if made is None else (made, _now(made))


def _account_total(all_: Personas, platform: str) -> dict[str, int]:
    return summed(_now(m) for m in all_.of(platform))


def _x(all_: Personas) -> None:
    p = all_.personas["x"]

    @_first(p, "GET", r"/2/tweets")
    def tweets(ask: Ask, m: re.Match[str]) -> Any:
        data, errors = [], []
        for tid in ask.query.get("ids", "").split(","):
            made = all_.find("x", tid)
            if made is None:
                errors.append({"value": tid, "resource_id": tid, "resource_type": "tweet", "parameter": "ids",
                               "title": "Not Found Error", "detail": f"Could not find tweet with ids: [{tid}].",
                               "type": "https://api.twitter.com/2/problems/resource-not-found"})  # fmt: skip
                continue
            c = _now(made)
            data.append({"id": tid, "text": made.text, "edit_history_tweet_ids": [tid],
                         "public_metrics": {"retweet_count": c["shares"], "reply_count": c["comments"],
                                            "like_count": c["likes"], "quote_count": c["quotes"],
                                            "bookmark_count": c["saves"], "impression_count": c["views"]}})  # fmt: skip
        return {k: v for k, v in (("data", data), ("errors", errors)) if v}

    @_first(p, "GET", r"/2/users/(\d+)")
    def user(ask: Ask, m: re.Match[str]) -> Any:
        return {"data": {"id": p.account, "username": p.handle, "name": "Acme Coffee",
                         "public_metrics": {"followers_count": followers(p.account, len(all_.of("x"))),
                                            "following_count": 210, "tweet_count": len(all_.of("x"))}}}  # fmt: skip


def _mastodon(all_: Personas) -> None:
    p = all_.personas["mastodon"]

    @_first(p, "GET", r"/api/v1/statuses/([^/]+)")
    def status(ask: Ask, m: re.Match[str]) -> Any:
        found = _measured(all_, "mastodon", m.group(1))
        if found is None:
            return Answer(404, {"error": "Record not found"})
        made, c = found
        return {"id": made.id, "url": made.url, "uri": made.url, "content": f"<p>{made.text}</p>",
                "replies_count": c["comments"], "reblogs_count": c["shares"], "favourites_count": c["likes"],
                "quotes_count": c["quotes"]}  # fmt: skip

    @_first(p, "GET", r"/api/v1/accounts/(\d+)")
    def account(ask: Ask, m: re.Match[str]) -> Any:
        return {"id": p.account, "username": p.handle, "acct": p.handle, "display_name": "Acme Coffee",
                "followers_count": followers(p.account, len(all_.of("mastodon"))), "following_count": 64,
                "statuses_count": len(all_.of("mastodon"))}  # fmt: skip


def _bluesky(all_: Personas) -> None:
    p = all_.personas["bluesky"]

    @_first(p, "GET", r"/xrpc/app\.bsky\.feed\.getPosts")
    def posts(ask: Ask, m: re.Match[str]) -> Any:
        shown = []
        for uri in ask.every.get("uris", []):
            made = all_.find("bluesky", uri)
            if made is not None:  # a post not found is left out, as the AppView does
                c = _now(made)
                shown.append({"uri": uri, "cid": f"bafyreisandbox{uri.rsplit('/', 1)[-1]}",
                              "author": {"did": p.account, "handle": p.handle},
                              "record": {"$type": "app.bsky.feed.post", "text": made.text},
                              "likeCount": c["likes"], "repostCount": c["shares"], "replyCount": c["comments"],
                              "quoteCount": c["quotes"], "bookmarkCount": c["saves"]})  # fmt: skip
        return {"posts": shown}

    @_first(p, "GET", r"/xrpc/app\.bsky\.actor\.getProfile")
    def profile(ask: Ask, m: re.Match[str]) -> Any:
        if ask.query.get("actor") not in (p.account, p.handle):
            return Answer(400, {"error": "InvalidRequest", "message": "Profile not found"})
        return {"did": p.account, "handle": p.handle, "displayName": "Acme Coffee", "followsCount": 88,
                "followersCount": followers(p.account, len(all_.of("bluesky"))),
                "postsCount": len(all_.of("bluesky"))}  # fmt: skip


def _insights(names: list[str], c: dict[str, int], shape: str, period: str = "lifetime") -> dict[str, Any]:
    """Meta's edge shape of insights: ``values`` (one lifetime value) or ``total_value``."""
    data = []
    for name in names:
        if name in META_NAMES:
            value = c[META_NAMES[name]]
            shown = {"total_value": {"value": value}} if shape == "total" else {"values": [{"value": value}]}
            data.append(
                {"name": name, "period": period, **shown, "title": name, "id": f"sandbox/insights/{name}"}
            )
    return {"data": data}


def _asked_insights(fields: str) -> list[str]:
    found = re.search(r"insights\.metric\(([^)]*)\)", fields)
    return found.group(1).split(",") if found else []


def _media_insights(all_: Personas, platform: str, p: Persona, v: str) -> None:
    @_first(p, "GET", rf"{v}/([^/]+)/insights")
    def insights(ask: Ask, m: re.Match[str]) -> Any:
        names = ask.query.get("metric", "").split(",")
        if m.group(1) == INSTAGRAM_ACCOUNT and platform == "instagram":  # the account's, total_value
            return _insights(names, _account_total(all_, "instagram"), "total", "day")
        made = all_.find(platform, m.group(1))
        if made is None:
            return Answer(400, {"error": {"message": f"Object with ID '{m.group(1)}' does not exist",
                                          "type": "OAuthException", "code": 100}})  # fmt: skip
        return _insights(names, _now(made), "values")


def _meta(all_: Personas) -> None:
    p = all_.personas["meta"]
    v = r"/v21\.0"

    @_first(p, "GET", rf"{v}/")
    def by_ids(ask: Ask, m: re.Match[str]) -> Any:
        names = _asked_insights(ask.query.get("fields", ""))
        shown = {}
        for pid in ask.query.get("ids", "").split(","):
            made = all_.find("facebook", pid)
            if made is None:  # Graph refuses the whole call
                return Answer(400, {"error": {"message": f"Object with ID '{pid}' does not exist",
                                              "type": "OAuthException", "code": 100}})  # fmt: skip
            c = _now(made)
            shown[pid] = {"id": pid, "reactions": {"data": [], "summary": {"total_count": c["likes"]}},
                          "comments": {"data": [], "summary": {"total_count": c["comments"]}},
                          "shares": {"count": c["shares"]}}  # fmt: skip
            if names:
                shown[pid]["insights"] = _insights(names, c, "values")
        return shown

    @_first(p, "GET", rf"{v}/{p.account}")
    def page(ask: Ask, m: re.Match[str]) -> Any:
        count = followers(p.account, len(all_.of("facebook")))
        shown: dict[str, Any] = {"id": p.account, "followers_count": count, "fan_count": count - 40}
        names = _asked_insights(ask.query.get("fields", ""))
        if names:
            shown["insights"] = _insights(names, _account_total(all_, "facebook"), "values", "day")
        return shown

    @_first(p, "GET", rf"{v}/{INSTAGRAM_ACCOUNT}")
    def instagram(ask: Ask, m: re.Match[str]) -> Any:
        return {"id": INSTAGRAM_ACCOUNT, "follows_count": 150,
                "followers_count": followers(INSTAGRAM_ACCOUNT, len(all_.of("instagram")))}  # fmt: skip

    _media_insights(all_, "instagram", p, v)


def _threads(all_: Personas) -> None:
    _media_insights(all_, "threads", all_.personas["threads"], r"/v1\.0")


def _linkedin(all_: Personas) -> None:
    p = all_.personas["linkedin"]

    @_first(p, "GET", r"/rest/organizationalEntityShareStatistics")
    def statistics(ask: Ask, m: re.Match[str]) -> Any:
        org = ask.query.get("organizationalEntity")
        if ask.query.get("q") != "organizationalEntity" or org != p.account:
            return Answer(400, {"message": "Invalid query parameters passed to request", "status": 400})
        asked = re.fullmatch(r"List\((.*)\)", ask.query.get("shares", ""))
        if asked is None:
            return {"elements": [{"organizationalEntity": org,
                                  "totalShareStatistics": _share_statistics(_account_total(all_, "linkedin"))}]}  # fmt: skip
        elements = []
        for urn in asked.group(1).split(","):
            made = all_.find("linkedin", urn)
            if made is not None:
                elements.append({"organizationalEntity": org, "share": urn,
                                 "totalShareStatistics": _share_statistics(_now(made))})  # fmt: skip
        return {"elements": elements, "paging": {"start": 0, "count": len(elements)}}

    @_first(p, "GET", r"/rest/networkSizes/(.+)")
    def network(ask: Ask, m: re.Match[str]) -> Any:
        return {"firstDegreeSize": followers(p.account, len(all_.of("linkedin")))}


def _share_statistics(c: dict[str, int]) -> dict[str, Any]:
    return {"impressionCount": c["views"], "uniqueImpressionsCount": c["reach"], "clickCount": c["clicks"],
            "likeCount": c["likes"], "commentCount": c["comments"], "shareCount": c["shares"],
            "engagement": round(c["interactions"] / c["views"], 6) if c["views"] else 0.0}  # fmt: skip


def _pinterest(all_: Personas) -> None:
    p = all_.personas["pinterest"]

    @_first(p, "GET", r"/v5/pins/([^/]+)/analytics")
    def analytics(ask: Ask, m: re.Match[str]) -> Any:
        found = _measured(all_, "pinterest", m.group(1))
        if found is None:
            return Answer(404, {"code": 50, "message": "Pin not found."})
        c = found[1]
        shown = {"IMPRESSION": c["views"], "OUTBOUND_CLICK": c["clicks"], "PIN_CLICK": c["clicks"] * 2,
                 "SAVE": c["saves"], "TOTAL_COMMENTS": c["comments"], "TOTAL_REACTIONS": c["likes"]}  # fmt: skip
        day = {"date": ask.query.get("end_date", ""), "data_status": "READY", "metrics": shown}
        return {"all": {"summary_metrics": shown, "lifetime_metrics": shown, "daily_metrics": [day]}}


def _weibo(all_: Personas) -> None:
    p = all_.personas["weibo"]

    @_first(p, "GET", r"/2/statuses/count\.json")
    def count(ask: Ask, m: re.Match[str]) -> Any:
        shown = []
        for sid in ask.query.get("ids", "").split(","):
            made = all_.find("weibo", sid)
            if made is not None:
                c = _now(made)
                shown.append({"id": int(sid), "idstr": sid, "comments": c["comments"], "reposts": c["shares"],
                              "attitudes": c["likes"]})  # fmt: skip
        return Answer(200, shown)


def _tiktok(all_: Personas) -> None:
    p = all_.personas["tiktok"]

    @_first(p, "POST", r"/v2/video/query/")
    def query(ask: Ask, m: re.Match[str]) -> Any:
        wanted = ((ask.json or {}).get("filters") or {}).get("video_ids") or []
        videos = []
        for vid in (str(w) for w in wanted):
            made = all_.find("tiktok", vid)
            if made is not None:
                c = _now(made)
                videos.append({"id": vid, "like_count": c["likes"], "comment_count": c["comments"],
                               "share_count": c["shares"], "view_count": c["views"]})  # fmt: skip
        return {"data": {"videos": videos, "cursor": 0, "has_more": False},
                "error": {"code": "ok", "message": "", "log_id": "20261207sandbox"}}  # fmt: skip


def _wechat(all_: Personas) -> None:
    p = all_.personas["wechat"]

    @_first(p, "POST", r"/datacube/(getusersummary|getusercumulate|getarticlesummary)")
    def datacube(ask: Ask, m: re.Match[str]) -> Any:
        try:
            first, last = (date.fromisoformat(str(ask.value(k))) for k in ("begin_date", "end_date"))
        except ValueError:
            return {"errcode": 61500, "errmsg": "date format error rid: sandbox"}
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        made = all_.of("wechat")
        total = summed(_now(a) for a in made)
        rows: list[dict[str, Any]] = []
        for n, day in enumerate(days):
            ref = day.isoformat()
            if m.group(1) == "getusersummary":
                rows.append({"ref_date": ref, "user_source": 0, "new_user": 3 + n % 4, "cancel_user": n % 2})
            elif m.group(1) == "getusercumulate":
                rows.append(
                    {
                        "ref_date": ref,
                        "cumulate_user": followers(p.account, len(made)) - 3 * (len(days) - 1 - n),
                    }
                )
            elif made:
                rows.append({"ref_date": ref, "msgid": "sandbox_1", "title": made[-1].text,
                             "int_page_read_count": total["views"], "share_count": total["shares"],
                             "add_to_fav_count": total["saves"]})  # fmt: skip
        return {"list": rows}

"""Competitors' public accounts on each platform: the lookup that resolves a handle at add time (and gives
the follower count each collection records) and the public timeline, newest first, one page at a time.

=========  ===========================================================  ====================================
platform   lookup                                                       timeline (newest first)
=========  ===========================================================  ====================================
bluesky    ``app.bsky.actor.getProfile?actor=`` (``followersCount``)    ``app.bsky.feed.getAuthorFeed``
                                                                        (``actor``, ``limit`` ≤ 100,
                                                                        ``filter=posts_no_replies``, cursor)
mastodon   ``/api/v1/accounts/lookup?acct=`` on the account's server    ``/api/v1/accounts/:id/statuses``
           (``followers_count``)                                        (``limit`` ≤ 40, ``exclude_reblogs``,
                                                                        ``exclude_replies``, ``max_id``)
x          ``/2/users/by/username/:username?user.fields=public_metrics``  ``/2/users/:id/tweets``
                                                                        (``max_results`` ≤ 100,
                                                                        ``public_metrics``, media types,
                                                                        ``pagination_token``)
youtube    ``/youtube/v3/channels?forHandle=&part=snippet,statistics,   ``playlistItems`` of the uploads
           contentDetails`` (``subscriberCount``; 1 unit)               playlist + ``videos?part=statistics``
                                                                        (1 unit each, 50 a page)
instagram  business discovery through the workspace's connected         the same field's ``media`` edge
           Instagram professional account: ``GET /{ig-user-id}?fields=  (``like_count``, ``comments_count``,
           business_discovery.username(h){followers_count,...}``        ``media_type``; ``after`` cursor)
=========  ===========================================================  ====================================

Instagram's business discovery only sees other *professional* accounts, and only with the token of one
the workspace connected (``extra["via_account"]``): the lookup and the pages run where tokens can be
decrypted (the collector), never in the API.

Counts: a Bluesky count may be absent (0); a Mastodon reblog and a Bluesky repost are the competitor
sharing someone else's post, so they are skipped (not its content). Engagements are likes + reposts +
replies + quotes (YouTube: likes + comments). Content type: video, else image, else link (a link card
or URL entity), else text.

The Mastodon server and Bluesky AppView are reached through the guarded session (a server typed by a
person must not reach Chorus's own network); X and YouTube through their fixed API hosts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import requests
from pydantic_settings import BaseSettings, SettingsConfigDict

from chorus.competitors.model import CompetitorPost, ContentType, Profile
from chorus.net.fetch import guarded_session, is_local
from chorus.platforms.base import PermanentError
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.webhooks import arr, from_iso, ident, obj, opt_obj, req_ident, text_of
from chorus.platforms.youtube.metrics import as_count

TEXT_CHARS = 280


class CompetitorSettings(BaseSettings):
    """Where the public APIs are and the daily allowance collection may spend on each
    (``CHORUS_COMPETITORS_*``). X and YouTube need credentials of the deployment (an app bearer token,
    an API key); without them those platforms are not collected (and cannot be added)."""

    model_config = SettingsConfigDict(env_prefix="CHORUS_COMPETITORS_", extra="ignore")

    bluesky_url: str = "https://public.api.bsky.app"
    x_url: str = "https://api.x.com"
    x_bearer: str = ""
    youtube_url: str = "https://www.googleapis.com"
    youtube_key: str = ""
    # Daily allowances (requests; YouTube: quota units). YouTube's default project quota is 10,000 units
    # a day shared with everything else the project does; X's read allowance depends on the tier.
    x_daily: int = 300
    youtube_daily: int = 2000
    bluesky_daily: int = 5000
    mastodon_daily: int = 5000
    instagram_daily: int = 2000  # business discovery: Instagram's per-account hourly call limit applies too
    max_pages: int = 5  # per competitor and run
    backfill_days: int = 30  # how far the first collection of a competitor reaches back
    refresh_days: int = 7  # recent posts are read again each run so their counts stay current


@dataclass(frozen=True)
class TimelinePage:
    posts: tuple[CompetitorPost, ...]
    next_token: str | None  # the next, older page; None: the timeline ends here


class Timeline(Protocol):
    platform: str

    def cost(self, what: str) -> int:
        """Quota units of one ``lookup`` or ``page``."""
        ...

    def lookup(self, handle: str, host: str | None, extra: Mapping[str, str] | None = None) -> Profile:
        """The account named ``handle`` (``host``: a Mastodon server; ``extra``: the competitor's)."""
        ...

    def page(self, profile_id: str, extra: Mapping[str, str], token: str | None) -> TimelinePage: ...


def _count(value: Any) -> int:
    """A count as the platforms send it (an int, or YouTube's decimal string); absent or odd: 0."""
    return as_count(value) or 0


def _short(text: str) -> str:
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "\u2026"


class JsonApi:
    """What every timeline shares: one unit a call unless said otherwise, GET answering a JSON object."""

    platform: str
    http: requests.Session

    def cost(self, what: str) -> int:
        return 1

    def get_json(self, url: str, params: Any, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        resp = call(self.http, "GET", url, self.platform, params=params, headers=dict(headers or {}))
        return obj(json_body(resp, self.platform), "body")


# ----------------------------------------------------------------------------------------- Bluesky


def bluesky_content_type(embed: Mapping[str, Any]) -> ContentType:
    kind = text_of(embed.get("$type"))
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        return bluesky_content_type(opt_obj(embed.get("media"), "embed.media"))
    if kind.startswith("app.bsky.embed.video"):
        return ContentType.VIDEO
    if kind.startswith("app.bsky.embed.images"):
        return ContentType.IMAGE
    if kind.startswith("app.bsky.embed.external"):
        return ContentType.LINK
    return ContentType.TEXT


def bluesky_post(view: Mapping[str, Any]) -> CompetitorPost:
    from chorus.platforms.bluesky.search import post_url

    uri = req_ident(view.get("uri"), "feed[].post.uri")
    record = opt_obj(view.get("record"), "feed[].post.record")
    author = opt_obj(view.get("author"), "feed[].post.author")
    stamp = record.get("createdAt") or view.get("indexedAt")
    return CompetitorPost(
        platform_post_id=uri,
        created_at=from_iso(stamp, "feed[].post.record.createdAt"),
        content_type=bluesky_content_type(opt_obj(view.get("embed"), "feed[].post.embed")),
        likes=_count(view.get("likeCount")),
        reposts=_count(view.get("repostCount")),
        replies=_count(view.get("replyCount")),
        quotes=_count(view.get("quoteCount")),
        url=post_url(uri, text_of(author.get("handle")) or None),
        text=_short(text_of(record.get("text"))),
    )


def bluesky_feed(body: Mapping[str, Any]) -> TimelinePage:
    """An ``app.bsky.feed.getAuthorFeed`` answer: the account's own posts (reposts skipped)."""
    posts = []
    for raw in arr(body.get("feed"), "feed"):
        item = obj(raw, "feed[]")
        if opt_obj(item.get("reason"), "feed[].reason"):  # a repost (or a pin) of the feed, not a post
            continue
        posts.append(bluesky_post(obj(item.get("post"), "feed[].post")))
    return TimelinePage(tuple(posts), ident(body.get("cursor")))


def bluesky_profile(body: Mapping[str, Any]) -> Profile:
    did = req_ident(body.get("did"), "did")
    handle = text_of(body.get("handle")) or did
    return Profile(
        platform_id=did,
        handle=handle,
        display_name=text_of(body.get("displayName")) or None,
        url=f"https://bsky.app/profile/{handle}",
        followers=as_count(body.get("followersCount")),
    )


class BlueskyTimeline(JsonApi):
    platform = "bluesky"

    def __init__(self, base_url: str, session: requests.Session | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.http = session or guarded_session()

    def _get(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return self.get_json(f"{self.base}/xrpc/{method}", dict(params))

    def lookup(self, handle: str, host: str | None, extra: Mapping[str, str] | None = None) -> Profile:
        return bluesky_profile(self._get("app.bsky.actor.getProfile", {"actor": handle}))

    def page(self, profile_id: str, extra: Mapping[str, str], token: str | None) -> TimelinePage:
        params: dict[str, Any] = {"actor": profile_id, "limit": 100, "filter": "posts_no_replies"}
        if token:
            params["cursor"] = token
        return bluesky_feed(self._get("app.bsky.feed.getAuthorFeed", params))


# ---------------------------------------------------------------------------------------- Mastodon


def mastodon_content_type(status: Mapping[str, Any]) -> ContentType:
    kinds = {
        text_of(opt_obj(m, "media_attachments[]").get("type"))
        for m in arr(status.get("media_attachments"), "media_attachments")
    }
    if kinds & {"video", "gifv"}:
        return ContentType.VIDEO
    if "image" in kinds:
        return ContentType.IMAGE
    if status.get("card"):
        return ContentType.LINK
    return ContentType.TEXT


def mastodon_post(status: Mapping[str, Any]) -> CompetitorPost:
    from chorus.platforms.mastodon.notifications import html_to_text

    return CompetitorPost(
        platform_post_id=req_ident(status.get("id"), "statuses[].id"),
        created_at=from_iso(status.get("created_at"), "statuses[].created_at"),
        content_type=mastodon_content_type(status),
        likes=_count(status.get("favourites_count")),
        reposts=_count(status.get("reblogs_count")),
        replies=_count(status.get("replies_count")),
        quotes=_count(status.get("quotes_count")),
        url=text_of(status.get("url")) or text_of(status.get("uri")) or None,
        text=_short(html_to_text(text_of(status.get("content")))),
    )


def mastodon_statuses(body: Any, next_url: str | None) -> TimelinePage:
    """A ``GET /api/v1/accounts/:id/statuses`` answer (reblogs skipped); the next page's ``max_id`` from
    the ``Link: rel="next"`` URL, else the oldest id of a non-empty page."""
    if not isinstance(body, list):
        raise PermanentError("statuses: expected a JSON array", platform="mastodon")
    statuses = [obj(raw, "statuses[]") for raw in body]
    posts = tuple(mastodon_post(s) for s in statuses if not s.get("reblog"))
    token: str | None = None
    if next_url:
        token = next(iter(parse_qs(urlsplit(next_url).query).get("max_id", [])), None)
    elif statuses:
        token = req_ident(statuses[-1].get("id"), "statuses[].id")
    return TimelinePage(posts, token if statuses else None)


def mastodon_profile(body: Mapping[str, Any], host: str) -> Profile:
    acct = text_of(body.get("acct")) or text_of(body.get("username"))
    return Profile(
        platform_id=req_ident(body.get("id"), "id"),
        handle=acct if "@" in acct else f"{acct}@{host}",
        display_name=text_of(body.get("display_name")) or None,
        url=text_of(body.get("url")) or None,
        followers=as_count(body.get("followers_count")),
    )


def server_url(host: str) -> str:
    """The base URL of a Mastodon server named by host (http only on the embedded runtime's loopback)."""
    return f"{'http' if is_local() else 'https'}://{host}"


class MastodonTimeline(JsonApi):
    platform = "mastodon"

    def __init__(self, session: requests.Session | None = None) -> None:
        self.http = session or guarded_session("handle")

    def lookup(self, handle: str, host: str | None, extra: Mapping[str, str] | None = None) -> Profile:
        if not host:
            raise PermanentError("a Mastodon handle needs its server", platform=self.platform)
        base = server_url(host)
        profile = mastodon_profile(self.get_json(f"{base}/api/v1/accounts/lookup", {"acct": handle}), host)
        return Profile(**{**profile.__dict__, "base_url": base})

    def page(self, profile_id: str, extra: Mapping[str, str], token: str | None) -> TimelinePage:
        params: dict[str, Any] = {"limit": 40, "exclude_reblogs": "true", "exclude_replies": "true"}
        if token:
            params["max_id"] = token
        url = f"{extra['base_url'].rstrip('/')}/api/v1/accounts/{profile_id}/statuses"
        resp = call(self.http, "GET", url, self.platform, params=params)
        return mastodon_statuses(json_body(resp, self.platform), resp.links.get("next", {}).get("url"))


# ----------------------------------------------------------------------------------------------- X

TWEET_FIELDS = "created_at,public_metrics,attachments,entities"


def x_content_type(tweet: Mapping[str, Any], media_types: Mapping[str, str]) -> ContentType:
    keys = arr(opt_obj(tweet.get("attachments"), "attachments").get("media_keys"), "media_keys")
    kinds = {media_types.get(str(k), "") for k in keys}
    if kinds & {"video", "animated_gif"}:
        return ContentType.VIDEO
    if "photo" in kinds:
        return ContentType.IMAGE
    if arr(opt_obj(tweet.get("entities"), "entities").get("urls"), "entities.urls"):
        return ContentType.LINK
    return ContentType.TEXT


def x_tweets(body: Mapping[str, Any], username: str | None = None) -> TimelinePage:
    """A ``GET /2/users/:id/tweets`` answer (``data`` absent when there are none)."""
    from chorus.platforms.x.search import tweet_url

    includes = opt_obj(body.get("includes"), "includes")
    media_types = {
        text_of(m.get("media_key")): text_of(m.get("type"))
        for m in (obj(raw, "includes.media[]") for raw in arr(includes.get("media"), "includes.media"))
    }
    posts = []
    for raw in arr(body.get("data"), "data"):
        tweet = obj(raw, "data[]")
        tweet_id = req_ident(tweet.get("id"), "data[].id")
        metrics = opt_obj(tweet.get("public_metrics"), "data[].public_metrics")
        posts.append(
            CompetitorPost(
                platform_post_id=tweet_id,
                created_at=from_iso(tweet.get("created_at"), "data[].created_at"),
                content_type=x_content_type(tweet, media_types),
                likes=_count(metrics.get("like_count")),
                reposts=_count(metrics.get("retweet_count")),
                replies=_count(metrics.get("reply_count")),
                quotes=_count(metrics.get("quote_count")),
                views=as_count(metrics.get("impression_count")),
                url=tweet_url(tweet_id, username),
                text=_short(text_of(tweet.get("text"))),
            )
        )
    return TimelinePage(tuple(posts), ident(opt_obj(body.get("meta"), "meta").get("next_token")))


def x_profile(body: Mapping[str, Any]) -> Profile:
    user = obj(body.get("data"), "data")
    username = req_ident(user.get("username"), "data.username")
    metrics = opt_obj(user.get("public_metrics"), "data.public_metrics")
    return Profile(
        platform_id=req_ident(user.get("id"), "data.id"),
        handle=username,
        display_name=text_of(user.get("name")) or None,
        url=f"https://x.com/{username}",
        followers=as_count(metrics.get("followers_count")),
    )


class XTimeline(JsonApi):
    platform = "x"

    def __init__(self, base_url: str, token: str, session: requests.Session | None = None) -> None:
        self.base, self.token = base_url.rstrip("/"), token
        self.http = session or requests.Session()

    def _get(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return self.get_json(self.base + path, dict(params), bearer(self.token))

    def lookup(self, handle: str, host: str | None, extra: Mapping[str, str] | None = None) -> Profile:
        return x_profile(self._get(f"/2/users/by/username/{handle}", {"user.fields": "public_metrics"}))

    def page(self, profile_id: str, extra: Mapping[str, str], token: str | None) -> TimelinePage:
        params: dict[str, Any] = {
            "max_results": 100,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "attachments.media_keys",
            "media.fields": "type",
            "exclude": "retweets,replies",
        }
        if token:
            params["pagination_token"] = token
        return x_tweets(self._get(f"/2/users/{profile_id}/tweets", params), extra.get("username"))


# ----------------------------------------------------------------------------------------- YouTube


def youtube_profile(body: Mapping[str, Any]) -> Profile:
    items = arr(body.get("items"), "items")
    if not items:
        raise PermanentError("no channel has this handle", platform="youtube", status=404)
    channel = obj(items[0], "items[]")
    snippet = opt_obj(channel.get("snippet"), "items[].snippet")
    stats = opt_obj(channel.get("statistics"), "items[].statistics")
    uploads = text_of(
        opt_obj(opt_obj(channel.get("contentDetails"), "contentDetails").get("relatedPlaylists"),
                "relatedPlaylists").get("uploads")
    )  # fmt: skip
    channel_id = req_ident(channel.get("id"), "items[].id")
    handle = text_of(snippet.get("customUrl")) or channel_id
    hidden = stats.get("hiddenSubscriberCount") is True
    return Profile(
        platform_id=channel_id,
        handle=handle,
        display_name=text_of(snippet.get("title")) or None,
        url=f"https://www.youtube.com/channel/{channel_id}",
        followers=None if hidden else as_count(stats.get("subscriberCount")),
        extra={"uploads": uploads} if uploads else {},
    )


def youtube_videos(body: Mapping[str, Any]) -> list[CompetitorPost]:
    """A ``videos.list?part=snippet,statistics`` answer as posts (every one a video)."""
    posts = []
    for raw in arr(body.get("items"), "items"):
        video = obj(raw, "items[]")
        video_id = req_ident(video.get("id"), "items[].id")
        snippet = opt_obj(video.get("snippet"), "items[].snippet")
        stats = opt_obj(video.get("statistics"), "items[].statistics")
        posts.append(
            CompetitorPost(
                platform_post_id=video_id,
                created_at=from_iso(snippet.get("publishedAt"), "items[].snippet.publishedAt"),
                content_type=ContentType.VIDEO,
                likes=_count(stats.get("likeCount")),
                replies=_count(stats.get("commentCount")),
                views=as_count(stats.get("viewCount")),
                url=f"https://www.youtube.com/watch?v={video_id}",
                text=_short(text_of(snippet.get("title"))),
            )
        )
    return posts


def youtube_playlist_ids(body: Mapping[str, Any]) -> tuple[list[str], str | None]:
    """The video ids of a ``playlistItems.list?part=contentDetails`` page and its ``nextPageToken``."""
    ids = [
        req_ident(opt_obj(obj(raw, "items[]").get("contentDetails"), "contentDetails").get("videoId"),
                  "items[].contentDetails.videoId")
        for raw in arr(body.get("items"), "items")
    ]  # fmt: skip
    return ids, ident(body.get("nextPageToken"))


class YouTubeTimeline(JsonApi):
    platform = "youtube"
    COSTS: Mapping[str, int] = {"lookup": 1, "page": 2}  # channels.list; playlistItems.list + videos.list

    def __init__(self, base_url: str, key: str, session: requests.Session | None = None) -> None:
        self.base, self.key = base_url.rstrip("/"), key
        self.http = session or requests.Session()

    def cost(self, what: str) -> int:
        return self.COSTS[what]

    def _get(self, path: str, params: Sequence[tuple[str, str]]) -> dict[str, Any]:
        return self.get_json(f"{self.base}/youtube/v3/{path}", [*params, ("key", self.key)])

    def lookup(self, handle: str, host: str | None, extra: Mapping[str, str] | None = None) -> Profile:
        wanted = handle if handle.startswith("UC") and len(handle) == 24 else None
        params = [("part", "snippet,statistics,contentDetails")]
        params.append(("id", wanted) if wanted else ("forHandle", "@" + handle.removeprefix("@")))
        return youtube_profile(self._get("channels", params))

    def page(self, profile_id: str, extra: Mapping[str, str], token: str | None) -> TimelinePage:
        params = [("part", "contentDetails"), ("playlistId", extra["uploads"]), ("maxResults", "50")]
        if token:
            params.append(("pageToken", token))
        ids, next_token = youtube_playlist_ids(self._get("playlistItems", params))
        if not ids:
            return TimelinePage((), None)
        videos = youtube_videos(self._get("videos", [("part", "snippet,statistics"), ("id", ",".join(ids))]))
        newest_first = sorted(videos, key=lambda p: p.created_at, reverse=True)
        return TimelinePage(tuple(newest_first), next_token)


# --------------------------------------------------------------------------------------- Instagram

IG_PROFILE_FIELDS = "id,username,name,followers_count,media_count"
IG_MEDIA_FIELDS = "id,caption,like_count,comments_count,media_type,media_product_type,timestamp,permalink"
IG_PAGE = 50


def instagram_content_type(media: Mapping[str, Any]) -> ContentType:
    kind = text_of(media.get("media_type")).upper()
    if kind == "VIDEO" or text_of(media.get("media_product_type")).upper() == "REELS":
        return ContentType.VIDEO
    if kind in ("IMAGE", "CAROUSEL_ALBUM"):
        return ContentType.IMAGE
    return ContentType.TEXT


def instagram_media(edge: Mapping[str, Any], limit: int = IG_PAGE) -> TimelinePage:
    """A ``media`` edge (``{data: IG Media[], paging: {cursors: {after}, next?}}``) as posts, and the
    ``after`` cursor of the next page: while the edge names a ``next`` page, or (a nested edge often
    omits ``next``) while the page came full."""
    posts = []
    for raw in arr(edge.get("data"), "media.data"):
        media = obj(raw, "media.data[]")
        posts.append(
            CompetitorPost(
                platform_post_id=req_ident(media.get("id"), "media.data[].id"),
                created_at=from_iso(media.get("timestamp"), "media.data[].timestamp"),
                content_type=instagram_content_type(media),
                likes=_count(media.get("like_count")),
                replies=_count(media.get("comments_count")),
                url=text_of(media.get("permalink")) or None,
                text=_short(text_of(media.get("caption"))),
            )
        )
    paging = opt_obj(edge.get("paging"), "media.paging")
    after = ident(opt_obj(paging.get("cursors"), "media.paging.cursors").get("after"))
    more = bool(posts) and (bool(paging.get("next")) or len(posts) >= limit)
    return TimelinePage(tuple(posts), after if more else None)


def instagram_profile(body: Mapping[str, Any]) -> Profile:
    found = obj(body.get("business_discovery"), "business_discovery")
    username = req_ident(found.get("username"), "business_discovery.username")
    return Profile(
        platform_id=req_ident(found.get("id"), "business_discovery.id"),
        handle=username,
        display_name=text_of(found.get("name")) or None,
        url=f"https://www.instagram.com/{username}/",
        followers=as_count(found.get("followers_count")),
    )


IgCredentials = Callable[[Mapping[str, str]], tuple[str, str]]
"""``(ig user id, access token)`` of the connected account a competitor is read through."""


def connected_instagram(extra: Mapping[str, str]) -> tuple[str, str]:
    """The credentials of the workspace's Instagram account named in ``extra`` (decrypted here)."""
    from chorus.accounts.service import credentials, get_account

    account = get_account(extra["workspace_id"], extra["via_account"])
    creds = credentials(account)
    return creds.account_id, creds.access_token


class InstagramTimeline(JsonApi):
    platform = "instagram"

    def __init__(
        self,
        base_url: str,
        creds: IgCredentials = connected_instagram,
        session: requests.Session | None = None,
    ) -> None:
        self.base, self.creds = base_url.rstrip("/"), creds
        self.http = session or requests.Session()

    def _discover(self, extra: Mapping[str, str] | None, handle: str, fields: str) -> dict[str, Any]:
        if not extra or "via_account" not in extra:
            raise PermanentError("no connected Instagram account to look through", platform=self.platform)
        user_id, token = self.creds(extra)
        params = {"fields": f"business_discovery.username({handle}){{{fields}}}"}
        return self.get_json(f"{self.base}/{user_id}", params, bearer(token))

    def lookup(self, handle: str, host: str | None, extra: Mapping[str, str] | None = None) -> Profile:
        return instagram_profile(self._discover(extra, handle, IG_PROFILE_FIELDS))

    def page(self, profile_id: str, extra: Mapping[str, str], token: str | None) -> TimelinePage:
        edge = f"media.after({token}).limit({IG_PAGE})" if token else f"media.limit({IG_PAGE})"
        body = self._discover(extra, extra["username"], f"{edge}{{{IG_MEDIA_FIELDS}}}")
        found = obj(body.get("business_discovery"), "business_discovery")
        return instagram_media(opt_obj(found.get("media"), "business_discovery.media"))


# ---------------------------------------------------------------------------------------- together


def timelines(settings: CompetitorSettings | None = None) -> dict[str, Timeline]:
    """The platforms competitors can be followed on with this deployment's settings."""
    s = settings or CompetitorSettings()
    from chorus.platforms.meta.messaging import graph_url

    found: dict[str, Timeline] = {
        "bluesky": BlueskyTimeline(s.bluesky_url),
        "mastodon": MastodonTimeline(),
        "instagram": InstagramTimeline(graph_url()),
    }
    if s.x_bearer:
        found["x"] = XTimeline(s.x_url, s.x_bearer)
    if s.youtube_key:
        found["youtube"] = YouTubeTimeline(s.youtube_url, s.youtube_key)
    return found


def daily_allowance(platform: str, settings: CompetitorSettings | None = None) -> int:
    s = settings or CompetitorSettings()
    return int(getattr(s, f"{platform}_daily"))


def newest_first(posts: Sequence[CompetitorPost]) -> list[CompetitorPost]:
    return sorted(posts, key=lambda p: (p.created_at, p.platform_post_id), reverse=True)


def oldest(posts: Sequence[CompetitorPost]) -> datetime | None:
    return min((p.created_at for p in posts), default=None)

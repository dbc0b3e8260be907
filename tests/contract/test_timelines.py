"""Account timelines (an account's own recent posts) against the documented samples in
fixtures/platform_api/publishing/timelines/: every request, the documented answers, paging and errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from chorus.platforms.base import (
    TIMELINE_MAX_PAGES,
    AccountCredentials,
    AuthError,
    PermanentError,
    RateLimited,
    TimelinePost,
    TimelineReader,
    timeline_time,
)
from chorus.platforms.bluesky.metrics import BlueskyMetrics
from chorus.platforms.facebook.metrics import FacebookMetrics
from chorus.platforms.instagram.metrics import InstagramMetrics
from chorus.platforms.linkedin.metrics import LinkedInMetrics
from chorus.platforms.mastodon.metrics import MastodonMetrics
from chorus.platforms.pinterest.metrics import PinterestMetrics
from chorus.platforms.registry import collector
from chorus.platforms.sandbox.publish import SandboxPublisher
from chorus.platforms.threads.metrics import ThreadsMetrics
from chorus.platforms.threads.oauth import API_URL as THREADS_API
from chorus.platforms.x.metrics import XMetrics
from chorus.platforms.youtube.metrics import YouTubeMetrics
from chorus.platforms.youtube.quota import UNITS, MemoryLedger, Quota, quota_day
from tests.support import fixture_bytes, fixture_json

TIMELINES = "platform_api/publishing/timelines"
LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)  # the Bluesky snapshot's normalised times are the epoch


def query(call_index: int) -> dict[str, list[str]]:
    return parse_qs(urlsplit(responses.calls[call_index].request.url).query)


@pytest.mark.parametrize(
    "platform",
    [
        "facebook",
        "instagram",
        "x",
        "mastodon",
        "bluesky",
        "threads",
        "tiktok",
        "youtube",
        "pinterest",
        "sandbox",
    ],
)
def test_every_timeline_collector_is_a_timeline_reader(platform: str) -> None:
    assert isinstance(collector(platform), TimelineReader)


def test_platform_times_are_read_with_any_documented_offset() -> None:
    at = datetime(2021, 3, 23, 16, 59, 18, tzinfo=UTC)
    assert timeline_time("2021-03-23T16:59:18.000Z") == at
    assert timeline_time("2021-03-23T16:59:18+0000") == at  # Graph API
    assert timeline_time("2021-03-23T18:59:18+02:00") == at
    assert timeline_time("not a time") is None
    assert timeline_time("2021-03-23T16:59:18") is None  # no offset: not guessed
    assert timeline_time("2021-03-23T16:59:18", naive_is_utc=True) == at  # a platform known to send UTC
    assert timeline_time(None) is None


# ------------------------------------------------------------------ Mastodon

INSTANCE = "https://mastodon.example"
M_ACCOUNT = "117020565966271181"
M_CREDS = AccountCredentials(
    platform="mastodon", account_id=M_ACCOUNT, access_token="m-token", base_url=INSTANCE
)
M_URL = f"{INSTANCE}/api/v1/accounts/{M_ACCOUNT}/statuses"
M_NEXT = f"{M_URL}?limit=5&max_id=117020580489281910"


def mastodon_page(**kw: object) -> None:
    responses.add(
        responses.GET,
        M_URL,
        body=fixture_bytes(f"{TIMELINES}/mastodon_account_statuses_mastodonpy.json"),
        headers={
            "link": f'<{M_NEXT}>; rel="next", <{M_URL}?limit=5&min_id=117020580518794573>; rel="prev"',
            "x-ratelimit-limit": "300",
            "x-ratelimit-remaining": "299",
        },
        match=[responses.matchers.query_param_matcher({"limit": "40", "exclude_reblogs": "true"})],
        **kw,  # type: ignore[arg-type]
    )


@responses.activate
def test_mastodon_reads_the_newest_statuses_and_follows_the_link_header() -> None:
    # Given the recorded first page (5 statuses, a Link rel=next) and an empty older page
    mastodon_page()
    responses.add(responses.GET, M_NEXT, json=[])
    # When the account's posts since long ago are read
    posts = MastodonMetrics(requests.Session()).recent_posts(M_CREDS, LONG_AGO)
    # Then the first request asked the account's statuses, 40 a page (the maximum), reblogs excluded
    first = responses.calls[0].request
    assert first.headers["Authorization"] == "Bearer m-token"
    assert query(0) == {"limit": ["40"], "exclude_reblogs": ["true"]}
    # And the next page is the Link header's URL as given (max_id), with the token
    assert responses.calls[1].request.url == M_NEXT
    assert responses.calls[1].request.headers["Authorization"] == "Bearer m-token"
    # And each status is a post: id, created_at, text without HTML, url; newest first
    assert posts[0] == TimelinePost(
        "117020580518794573",
        datetime(2026, 8, 1, 13, 52, 34, 108000, tzinfo=UTC),
        "Toot number 9!",
        "http://localhost:3000/@mastodonpy_test/117020580518794573",
    )
    assert [p.text for p in posts] == [f"Toot number {n}!" for n in (9, 8, 7, 6, 5)]


@responses.activate
def test_mastodon_stops_at_the_first_page_reaching_past_since() -> None:
    mastodon_page()
    since = datetime(2026, 8, 1, 13, 52, 33, 800000, tzinfo=UTC)
    posts = MastodonMetrics(requests.Session()).recent_posts(M_CREDS, since)
    assert len(responses.calls) == 1  # the page already reaches before ``since``: no second page
    assert [p.platform_post_id for p in posts] == [
        "117020580518794573",
        "117020580511453871",
        "117020580503743669",
    ]


@responses.activate
def test_mastodon_never_follows_a_next_link_to_another_host() -> None:
    # Given an instance whose Link header points elsewhere: the token must not go there
    responses.add(
        responses.GET,
        M_URL,
        body=fixture_bytes(f"{TIMELINES}/mastodon_account_statuses_mastodonpy.json"),
        headers={"link": '<https://elsewhere.example/api/v1/accounts/1/statuses?max_id=1>; rel="next"'},
    )
    posts = MastodonMetrics(requests.Session()).recent_posts(M_CREDS, LONG_AGO)
    assert len(responses.calls) == 1
    assert len(posts) == 5


@responses.activate
def test_mastodon_reads_at_most_the_page_bound() -> None:
    # Given an instance that always has an older page
    for _ in range(TIMELINE_MAX_PAGES + 2):
        responses.add(
            responses.GET,
            M_URL,
            body=fixture_bytes(f"{TIMELINES}/mastodon_account_statuses_mastodonpy.json"),
            headers={"link": f'<{M_URL}?max_id=1>; rel="next"'},
        )
    MastodonMetrics(requests.Session()).recent_posts(M_CREDS, LONG_AGO)
    assert len(responses.calls) == TIMELINE_MAX_PAGES


@responses.activate
@pytest.mark.parametrize(
    ("status", "fixture", "error"),
    [
        (404, "mastodon_account_statuses_error_404.json", PermanentError),
        (401, "mastodon_account_statuses_error_401_whitelist.json", AuthError),
    ],
)
def test_mastodon_documented_errors_are_mapped(status: int, fixture: str, error: type[Exception]) -> None:
    responses.add(responses.GET, M_URL, status=status, body=fixture_bytes(f"{TIMELINES}/{fixture}"))
    with pytest.raises(error) as raised:
        MastodonMetrics(requests.Session()).recent_posts(M_CREDS, LONG_AGO)
    assert "m-token" not in str(raised.value)


@responses.activate
def test_mastodon_rate_limit_is_a_rate_limit() -> None:
    responses.add(
        responses.GET, M_URL, status=429, json={"error": "Too many requests"}, headers={"Retry-After": "60"}
    )
    with pytest.raises(RateLimited):
        MastodonMetrics(requests.Session()).recent_posts(M_CREDS, LONG_AGO)


# ------------------------------------------------------------------ Bluesky

PDS = "https://pds.example"
B_CREDS = AccountCredentials(platform="bluesky", account_id="user(0)", access_token="b-token", base_url=PDS)
FEED = f"{PDS}/xrpc/app.bsky.feed.getAuthorFeed"


@responses.activate
def test_bluesky_reads_the_author_feed_of_the_account() -> None:
    # Given the AppView's author feed (4 posts of user(0)) with a cursor, then an empty page
    snapshot = fixture_json(f"{TIMELINES}/bluesky_getAuthorFeed_appview_snapshot.json")
    responses.add(responses.GET, FEED, json={**snapshot, "cursor": "c1"})
    responses.add(responses.GET, FEED, json={"feed": []})
    posts = BlueskyMetrics().recent_posts(B_CREDS, LONG_AGO)
    # Then the lexicon's parameters were sent to the account's PDS with its token
    assert query(0) == {"actor": ["user(0)"], "limit": ["100"], "filter": ["posts_with_replies"]}
    assert responses.calls[0].request.headers["Authorization"] == "Bearer b-token"
    assert query(1)["cursor"] == ["c1"]
    # And every feed item is a post of the account: its AT-URI, text and time
    assert {p.platform_post_id for p in posts} == {item["post"]["uri"] for item in snapshot["feed"]}
    first = next(p for p in posts if p.platform_post_id == "record(0)")
    assert first.text == "thanks bob"
    assert first.published_at == datetime(1970, 1, 1, tzinfo=UTC)


@responses.activate
def test_bluesky_skips_reposts_pins_and_other_authors() -> None:
    snapshot = fixture_json(f"{TIMELINES}/bluesky_getAuthorFeed_appview_snapshot.json")
    own, repost, other = (json.loads(json.dumps(snapshot["feed"][0])) for _ in range(3))
    repost["reason"] = {"$type": "app.bsky.feed.defs#reasonRepost"}
    other["post"]["author"]["did"] = "did:plc:someone-else"
    responses.add(responses.GET, FEED, json={"feed": [own, repost, other]})
    posts = BlueskyMetrics().recent_posts(B_CREDS, LONG_AGO)
    assert [p.platform_post_id for p in posts] == ["record(0)"]


@responses.activate
def test_bluesky_errors_are_mapped() -> None:
    responses.add(
        responses.GET, FEED, status=401, json={"error": "ExpiredToken", "message": "Token has expired"}
    )
    with pytest.raises(AuthError):
        BlueskyMetrics().recent_posts(B_CREDS, LONG_AGO)


# ------------------------------------------------------------------ X

X_USER = "2244994945"
X_CREDS = AccountCredentials(platform="x", account_id=X_USER, access_token="x-token", handle="TwitterDev")
TWEETS = f"https://api.x.com/2/users/{X_USER}/tweets"


@responses.activate
def test_x_reads_the_users_tweets_from_since_and_pages_with_next_token() -> None:
    # Given the documented answer (5 tweets, meta.next_token) and a last page without a token
    responses.add(
        responses.GET, TWEETS, body=fixture_bytes(f"{TIMELINES}/x_users_id_tweets_public_metrics_docs.json")
    )
    responses.add(responses.GET, TWEETS, json={"meta": {"result_count": 0}})
    since = datetime(2021, 3, 1, tzinfo=UTC)
    posts = XMetrics().recent_posts(X_CREDS, since)
    # Then the request is documented: start_time, 100 a page, created_at asked, retweets excluded
    assert query(0) == {
        "max_results": ["100"],
        "start_time": ["2021-03-01T00:00:00Z"],
        "tweet.fields": ["created_at"],
        "exclude": ["retweets"],
    }
    assert responses.calls[0].request.headers["Authorization"] == "Bearer x-token"
    assert query(1)["pagination_token"] == ["7140dibdnow9c7btw3w3xyyhxcirw2ov9mjp7gczc93xu"]
    # And the tweets are posts, newest first, with their public URL
    assert posts[0] == TimelinePost(
        "1374405406261268481",
        datetime(2021, 3, 23, 16, 59, 18, tzinfo=UTC),
        "Live now! https://t.co/9BbWekeWq2",
        "https://x.com/TwitterDev/status/1374405406261268481",
    )
    assert len(posts) == 5


@responses.activate
def test_x_rate_limit_carries_the_reset() -> None:
    responses.add(
        responses.GET,
        TWEETS,
        status=429,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        headers={"x-rate-limit-reset": str(int(datetime.now(UTC).timestamp()) + 120)},
    )
    with pytest.raises(RateLimited) as raised:
        XMetrics().recent_posts(X_CREDS, LONG_AGO)
    assert (raised.value.retry_after or 0) > 0


@responses.activate
def test_x_revoked_token_is_an_auth_error() -> None:
    responses.add(
        responses.GET,
        TWEETS,
        status=401,
        json={"title": "Unauthorized", "status": 401, "detail": "Unauthorized"},
    )
    with pytest.raises(AuthError):
        XMetrics().recent_posts(X_CREDS, LONG_AGO)


# ------------------------------------------------------------------ sandbox


@responses.activate
def test_sandbox_lists_the_accounts_posts_since() -> None:
    base = "http://127.0.0.1:9"
    responses.add(
        responses.GET,
        f"{base}/api/accounts/acct-1/posts",
        json={
            "posts": [
                {"id": "a", "text": "old", "created_at": "2026-12-01T10:00:00.000000Z", "url": f"{base}/p/a"},
                {"id": "b", "text": "new", "created_at": "2026-12-02T10:00:00.000000Z", "url": f"{base}/p/b"},
            ]
        },
    )
    creds = AccountCredentials(
        platform="sandbox", account_id="acct-1", access_token="tok-acct-1", base_url=base
    )
    posts = SandboxPublisher(requests.Session()).recent_posts(creds, datetime(2026, 11, 1, tzinfo=UTC))
    assert query(0) == {"since": ["2026-11-01T00:00:00"]}
    assert [p.platform_post_id for p in posts] == ["b", "a"]


# ------------------------------------------------------------------ Facebook, Instagram, Threads (Graph)

GRAPH = "https://graph.facebook.com/v21.0"
PAGE_ID = "19292868552"
FB_CREDS = AccountCredentials(platform="facebook", account_id=PAGE_ID, access_token="page-token")
IG_USER = "17841406338772941"
IG_CREDS = AccountCredentials(platform="instagram", account_id=IG_USER, access_token="ig-token")
SINCE = datetime(2021, 6, 1, tzinfo=UTC)


@responses.activate
def test_facebook_reads_the_pages_published_posts_and_pages_by_cursor() -> None:
    # Given the recorded page feed (5 posts, paging.next and cursors.after) and a last page
    url = f"{GRAPH}/{PAGE_ID}/published_posts"
    responses.add(
        responses.GET, url, body=fixture_bytes(f"{TIMELINES}/facebook_page_feed_fields_python_facebook.json")
    )
    responses.add(responses.GET, url, json={"data": [], "paging": {"cursors": {"before": "b", "after": "a"}}})
    posts = FacebookMetrics(requests.Session()).recent_posts(FB_CREDS, SINCE)
    # Then the request asked the fields a post row needs, since the bound, 100 a page, with the token
    assert query(0) == {
        "fields": ["id,created_time,message,permalink_url"],
        "since": [str(int(SINCE.timestamp()))],
        "limit": ["100"],
    }
    assert responses.calls[0].request.headers["Authorization"] == "Bearer page-token"
    # And the next page is asked by our own URL with the cursor (the token never rides in a URL)
    assert query(1)["after"] == ["after"]
    assert "access_token" not in responses.calls[1].request.url
    # And each post: id, created_time (+0000), message, permalink_url
    feed = fixture_json(f"{TIMELINES}/facebook_page_feed_fields_python_facebook.json")["data"]
    first = next(p for p in posts if p.platform_post_id == "19292868552_10158349356748553")
    assert first.published_at == datetime(2021, 7, 9, 19, 9, 52, tzinfo=UTC)
    assert first.url == "https://www.facebook.com/19292868552/posts/10158349356748553/"
    assert first.text.startswith("Singaporean logistics company Ninja Van")
    assert len(posts) == len([p for p in feed if timeline_time(p["created_time"]) >= SINCE])
    assert [p.published_at for p in posts] == sorted((p.published_at for p in posts), reverse=True)


@responses.activate
def test_facebook_graph_errors_are_mapped() -> None:
    responses.add(
        responses.GET,
        f"{GRAPH}/{PAGE_ID}/published_posts",
        status=400,
        json={"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}},
    )
    with pytest.raises(AuthError) as raised:
        FacebookMetrics(requests.Session()).recent_posts(FB_CREDS, SINCE)
    assert "page-token" not in str(raised.value)


@responses.activate
def test_instagram_reads_the_users_media() -> None:
    url = f"{GRAPH}/{IG_USER}/media"
    responses.add(
        responses.GET, url, body=fixture_bytes(f"{TIMELINES}/instagram_user_media_python_facebook.json")
    )
    responses.add(responses.GET, url, json={"data": []})
    posts = InstagramMetrics(requests.Session()).recent_posts(IG_CREDS, SINCE)
    assert query(0) == {
        "fields": ["id,timestamp,caption,permalink"],
        "since": [str(int(SINCE.timestamp()))],
        "limit": ["100"],
    }
    assert responses.calls[0].request.headers["Authorization"] == "Bearer ig-token"
    media = fixture_json(f"{TIMELINES}/instagram_user_media_python_facebook.json")["data"]
    assert {p.platform_post_id for p in posts} == {m["id"] for m in media}
    first = next(p for p in posts if p.platform_post_id == "17895731045244887")
    assert first.published_at == datetime(2021, 8, 13, 8, 25, 28, tzinfo=UTC)
    assert first.url == "https://www.instagram.com/p/CSgf9BChwVq/"


@responses.activate
def test_instagram_default_answer_without_fields_gives_no_post() -> None:
    # the documented default answer is ids only: no time, so nothing can be placed on the ladder
    responses.add(
        responses.GET,
        f"{GRAPH}/{IG_USER}/media",
        body=fixture_bytes(f"{TIMELINES}/instagram_user_media_docs.json"),
    )
    assert InstagramMetrics(requests.Session()).recent_posts(IG_CREDS, SINCE) == []


@responses.activate
def test_threads_reads_the_profiles_threads() -> None:
    creds = AccountCredentials(platform="threads", account_id="th-1", access_token="th-token")
    url = f"{THREADS_API}/th-1/threads"
    responses.add(
        responses.GET,
        url,
        json={
            "data": [
                {
                    "id": "1",
                    "text": "from the app",
                    "permalink": "https://www.threads.net/@acme/post/abc",
                    "timestamp": "2021-07-01T10:00:00+0000",
                }
            ]
        },
    )
    posts = ThreadsMetrics(requests.Session()).recent_posts(creds, SINCE)
    assert query(0)["fields"] == ["id,timestamp,text,permalink"]
    assert posts == [
        TimelinePost(
            "1",
            datetime(2021, 7, 1, 10, tzinfo=UTC),
            "from the app",
            "https://www.threads.net/@acme/post/abc",
        )
    ]


TIKTOK_LIST = "https://open.tiktokapis.com/v2/video/list/"


@responses.activate
def test_tiktok_lists_the_creators_videos_as_documented_and_pages_by_cursor() -> None:
    from chorus.platforms.tiktok.metrics import LIST_FIELDS, TikTokMetrics

    documented = fixture_json("platform_api/publishing/tiktok/video_list_response.json")
    request = fixture_json("platform_api/publishing/tiktok/video_list_request.json")
    # the documented page (a video without create_time is no post), then one with has_more and a time
    first = json.loads(json.dumps(documented))
    first["data"]["videos"].append({"id": "7300000000000000001", "title": "Autumn menu", "create_time": 1796601600,
                                    "share_url": "https://www.tiktok.com/@cafe/video/7300000000000000001"})  # fmt: skip
    first["data"]["has_more"] = True
    older = {"data": {"videos": [{"id": "7200000000000000001", "video_description": "Summer menu",
                                  "create_time": 1780000000}], "cursor": 1780000000000, "has_more": True},
             "error": {"code": "ok", "message": "", "log_id": "x"}}  # fmt: skip
    responses.add(responses.POST, TIKTOK_LIST, json=first)
    responses.add(responses.POST, TIKTOK_LIST, json=older)
    creds = AccountCredentials(platform="tiktok", account_id="open-1", access_token="act.1")
    since = datetime(2026, 6, 1, tzinfo=UTC)
    found = TikTokMetrics(session=requests.Session()).recent_posts(creds, since)
    # the documented request: POST with max_count, the fields asked for, the bearer token
    sent = responses.calls[0].request
    assert json.loads(sent.body) == request
    assert query(0) == {"fields": [LIST_FIELDS]}
    assert sent.headers["Authorization"] == "Bearer act.1"
    # the next page asks from the answer's cursor, and the page reaching past ``since`` is the last
    assert json.loads(responses.calls[1].request.body) == {
        "max_count": 20,
        "cursor": documented["data"]["cursor"],
    }
    assert len(responses.calls) == 2
    assert found == [
        TimelinePost("7300000000000000001", datetime.fromtimestamp(1796601600, UTC), "Autumn menu",
                     "https://www.tiktok.com/@cafe/video/7300000000000000001")
    ]  # fmt: skip


# ------------------------------------------------------------------ YouTube (uploads playlist)
#
# No fixture exists for these answers (fixtures/platform_api/publishing/youtube/ has none for
# channels.list with contentDetails or for playlistItems.list). The shapes are the Data API v3
# reference's: channels.list (developers.google.com/youtube/v3/docs/channels/list) answers
# ``items[].contentDetails.relatedPlaylists.uploads``; playlistItems.list
# (developers.google.com/youtube/v3/docs/playlistItems/list, 1 quota unit a call, maxResults 0-50) answers
# ``{kind: youtube#playlistItemListResponse, nextPageToken, pageInfo, items[]}``, each item with
# ``snippet`` (publishedAt, title, resourceId.videoId: the recorded page in sns-sdks/python-youtube
# testdata/apidata/playlist_items/playlist_items_paged_1.json) and ``contentDetails`` {videoId,
# videoPublishedAt} (the reference's playlistItem resource).

YT_API = "https://www.googleapis.com/youtube/v3"
YT_CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
YT_UPLOADS = "UU_x5XG1OV2P6uZZ5FSM9Ttw"
YT_CREDS = AccountCredentials(platform="youtube", account_id=YT_CHANNEL, access_token="ya29.yt")
YT_NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
YT_SINCE = datetime(2026, 9, 8, tzinfo=UTC)


def yt_channel(channel_id: str = YT_CHANNEL) -> dict[str, object]:
    return {"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
            "items": [{"kind": "youtube#channel", "id": channel_id,
                       "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": YT_UPLOADS}}}]}  # fmt: skip


def yt_item(video_id: str, published: str | None, title: str) -> dict[str, object]:
    details = {"videoId": video_id, **({"videoPublishedAt": published} if published else {})}
    return {"kind": "youtube#playlistItem", "id": f"item-{video_id}", "contentDetails": details,
            "snippet": {"publishedAt": published or "2026-12-06T10:00:00Z", "channelId": YT_CHANNEL,
                        "title": title, "playlistId": YT_UPLOADS,
                        "resourceId": {"kind": "youtube#video", "videoId": video_id}}}  # fmt: skip


def yt_reader(ledger: MemoryLedger | None = None) -> YouTubeMetrics:
    quota = Quota(ledger or MemoryLedger(), clock=lambda: YT_NOW)
    return YouTubeMetrics(requests.Session(), clock=lambda: YT_NOW, quota=quota)


@responses.activate
def test_youtube_reads_the_uploads_playlist_page_by_page_and_charges_each_call() -> None:
    """No fixture exists for channels.list (contentDetails) or playlistItems.list: the answers are built
    from the Data API v3 reference's resources and python-youtube's recorded playlistItems page."""
    # Given the channel's uploads playlist: a newest page with a next page token, then an older page
    responses.add(responses.GET, f"{YT_API}/channels", json=yt_channel())
    responses.add(responses.GET, f"{YT_API}/playlistItems", json={
        "kind": "youtube#playlistItemListResponse", "nextPageToken": "CDIQAA",
        "pageInfo": {"totalResults": 4, "resultsPerPage": 50},
        "items": [yt_item("vid-new", "2026-12-05T18:30:00Z", "Lemon tart, live"),
                  yt_item("vid-sched", None, "Scheduled: not published yet")]})  # fmt: skip
    responses.add(responses.GET, f"{YT_API}/playlistItems", json={
        "kind": "youtube#playlistItemListResponse", "nextPageToken": "CGQQAA",
        "items": [yt_item("vid-oct", "2026-10-01T08:00:00.000Z", "Pumpkin soup"),
                  yt_item("vid-old", "2026-06-01T08:00:00Z", "Older than the ladder")]})  # fmt: skip
    ledger = MemoryLedger()
    posts = yt_reader(ledger).recent_posts(YT_CREDS, YT_SINCE)
    # Then the channel was asked for its own uploads playlist, with the channel owner's token
    assert query(0) == {"part": ["contentDetails"], "mine": ["true"]}
    assert responses.calls[0].request.headers["Authorization"] == "Bearer ya29.yt"
    # And the playlist was read 50 a page, the next page by the answer's token
    assert query(1) == {"part": ["contentDetails,snippet"], "playlistId": [YT_UPLOADS], "maxResults": ["50"]}
    assert query(2)["pageToken"] == ["CDIQAA"]
    # And the page reaching past ``since`` was the last one read
    assert len(responses.calls) == 3
    # And each call was charged to the project's daily units before it was sent: 3 units
    assert ledger.used(UNITS, quota_day(YT_NOW)) == 3
    # And the published uploads since ``since`` are the posts, newest first; a scheduled one is not
    assert posts == [
        TimelinePost("vid-new", datetime(2026, 12, 5, 18, 30, tzinfo=UTC), "Lemon tart, live",
                     "https://www.youtube.com/watch?v=vid-new"),
        TimelinePost("vid-oct", datetime(2026, 10, 1, 8, tzinfo=UTC), "Pumpkin soup",
                     "https://www.youtube.com/watch?v=vid-oct"),
    ]  # fmt: skip


@responses.activate
def test_youtube_reads_nothing_when_the_answer_is_another_channels() -> None:
    responses.add(responses.GET, f"{YT_API}/channels", json=yt_channel("UC_someone_else"))
    assert yt_reader().recent_posts(YT_CREDS, YT_SINCE) == []
    assert len(responses.calls) == 1  # no playlist of another channel is read


@responses.activate
def test_youtube_never_reads_past_a_spent_budget_and_says_why() -> None:
    # Given a project with one unit left today: the channel read fits, the playlist read does not
    responses.add(responses.GET, f"{YT_API}/channels", json=yt_channel())
    ledger = MemoryLedger()
    ledger.charge(UNITS, quota_day(YT_NOW), 9_999, 10_000)
    with pytest.raises(RateLimited) as raised:
        yt_reader(ledger).recent_posts(YT_CREDS, YT_SINCE)
    # Then the read stops before the call that would exceed the budget, with the reason and the wait
    assert len(responses.calls) == 1
    assert ledger.used(UNITS, quota_day(YT_NOW)) == 10_000
    assert "daily API quota (10,000 units) is used up" in raised.value.message
    assert (raised.value.retry_after or 0) > 0


@responses.activate
def test_youtube_quota_exceeded_from_google_fills_the_budget_for_the_day() -> None:
    responses.add(responses.GET, f"{YT_API}/channels", json=yt_channel())
    responses.add(responses.GET, f"{YT_API}/playlistItems", status=403,
                  json=fixture_json("platform_api/publishing/youtube/error_403_quota_exceeded.json"))  # fmt: skip
    ledger = MemoryLedger()
    with pytest.raises(RateLimited):
        yt_reader(ledger).recent_posts(YT_CREDS, YT_SINCE)
    assert ledger.used(UNITS, quota_day(YT_NOW)) == 10_000  # another client spent it: nothing more today


@responses.activate
def test_youtube_revoked_token_is_an_auth_error() -> None:
    responses.add(responses.GET, f"{YT_API}/channels", status=401, json={"error": {
        "code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED",
        "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError"}]}})  # fmt: skip
    with pytest.raises(AuthError) as raised:
        yt_reader().recent_posts(YT_CREDS, YT_SINCE)
    assert "ya29.yt" not in str(raised.value)


# ------------------------------------------------------------------ Pinterest (the user's pins)
#
# No fixture exists for the pins/list answer. The request is the v5 reference's ``GET /v5/pins``
# (operationId pins/list: bookmark, page_size 1-250 default 25, pin_filter exclude_native|exclude_repins,
# scope pins:read); the answer is the spec's paginated ``{items[], bookmark}`` (as the boards list docs
# sample, fixtures/.../pinterest/boards_list_response_docs_sample.json), each item a Pin as recorded from
# the real API (pin_get_response_recorded_python_pinterest.json: ``created_at`` without an offset).

PIN_API = "https://api.pinterest.com/v5"
PIN_CREDS = AccountCredentials(platform="pinterest", account_id="549755885000", access_token="pina-1")
PIN_SINCE = datetime(2022, 6, 1, tzinfo=UTC)


def pin(pin_id: str, created_at: str, title: str, **extra: object) -> dict[str, object]:
    return {"id": pin_id, "created_at": created_at, "title": title, "description": "", "link": None,
            "board_id": "1022106146619703648", "parent_pin_id": None, **extra}  # fmt: skip


@responses.activate
def test_pinterest_lists_the_users_pins_and_pages_by_bookmark() -> None:
    """No fixture exists for pins/list: the request is the v5 spec's, the answer its ``{items, bookmark}``
    page holding the recorded real Pin (pin_get_response_recorded_python_pinterest.json)."""
    # Given a newest page (a pin made in the app, a pin saved from someone else's) with a bookmark,
    # then the recorded pin on an older page that reaches back past ``since``
    recorded = fixture_json(
        "platform_api/publishing/pinterest/pin_get_response_recorded_python_pinterest.json"
    )
    responses.add(responses.GET, f"{PIN_API}/pins", json={"items": [
        pin("1022106077905930001", "2022-09-01T10:00:00-00:00", "Plum cake"),
        pin("1022106077905930002", "2022-08-20T10:00:00", "Saved from a friend", parent_pin_id="77")],
        "bookmark": "Y2JVSG81V2sxcmNHRkdWbTkzWVZWd1p3PT06"})  # fmt: skip
    responses.add(responses.GET, f"{PIN_API}/pins", json={"items": [
        recorded, pin("1022106077905920000", "2022-05-01T08:00:00", "Before since")], "bookmark": "next"})  # fmt: skip
    posts = PinterestMetrics(requests.Session()).recent_posts(PIN_CREDS, PIN_SINCE)
    # Then the request is the documented list of the token's own pins, repins excluded, 100 a page
    assert query(0) == {"page_size": ["100"], "pin_filter": ["exclude_repins"]}
    assert responses.calls[0].request.headers["Authorization"] == "Bearer pina-1"
    assert query(1)["bookmark"] == ["Y2JVSG81V2sxcmNHRkdWbTkzWVZWd1p3PT06"]
    assert len(responses.calls) == 2  # the page reaching past ``since`` is the last one
    # And each pin of the account's own is a post (a time without an offset is UTC), newest first
    assert posts == [
        TimelinePost("1022106077905930001", datetime(2022, 9, 1, 10, tzinfo=UTC), "Plum cake",
                     "https://www.pinterest.com/pin/1022106077905930001/"),
        TimelinePost("1022106077905927852", datetime(2022, 8, 11, 8, 46, 16, tzinfo=UTC),
                     f"{recorded['title']} {recorded['description']}",
                     "https://www.pinterest.com/pin/1022106077905927852/"),
    ]  # fmt: skip


@responses.activate
def test_pinterest_stops_at_the_last_page() -> None:
    responses.add(responses.GET, f"{PIN_API}/pins",
                  json={"items": [pin("1", "2022-09-01T10:00:00Z", "Only pin")], "bookmark": None})  # fmt: skip
    posts = PinterestMetrics(requests.Session()).recent_posts(PIN_CREDS, PIN_SINCE)
    assert [p.platform_post_id for p in posts] == ["1"]
    assert len(responses.calls) == 1


@responses.activate
def test_pinterest_reads_at_most_the_page_bound() -> None:
    for n in range(TIMELINE_MAX_PAGES + 2):  # an account whose every page has a next one
        responses.add(responses.GET, f"{PIN_API}/pins",
                      json={"items": [pin(str(n), "2022-09-01T10:00:00Z", "Pin")], "bookmark": f"b{n}"})  # fmt: skip
    posts = PinterestMetrics(requests.Session()).recent_posts(PIN_CREDS, PIN_SINCE)
    assert len(responses.calls) == TIMELINE_MAX_PAGES
    assert len(posts) == TIMELINE_MAX_PAGES


@responses.activate
@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"code": 2, "message": "Authentication failed."}, AuthError),
        (
            429,
            fixture_json("platform_api/publishing/pinterest/pins_create_error_429_rate_limit.json"),
            RateLimited,
        ),
    ],
)
def test_pinterest_errors_are_mapped(status: int, body: dict[str, object], error: type[Exception]) -> None:
    responses.add(responses.GET, f"{PIN_API}/pins", status=status, json=body)
    with pytest.raises(error) as raised:
        PinterestMetrics(requests.Session()).recent_posts(PIN_CREDS, PIN_SINCE)
    assert "pina-1" not in str(raised.value)


# ------------------------------------------------------------------ LinkedIn (a page's posts)
#
# No fixture exists for this answer (fixtures/.../linkedin/ has the create request and 201 only). The
# request is the Posts API's "Find Posts by Authors" finder (learn.microsoft.com/linkedin/marketing/
# community-management/shares/posts-api: ``GET /rest/posts?author={encoded URN}&q=author&count=&start=
# &sortBy=LAST_MODIFIED`` with LinkedIn-Version and X-Restli-Protocol-Version: 2.0.0, r_organization_social);
# the answer a Rest.li collection ``{paging: {start, count, total, links}, elements: [Post]}`` (the official
# linkedin-api-python-client, linkedin_api/clients/restli/response.py: CollectionResponse, Paging), each
# Post with the fields the create request documents (author, commentary, visibility, distribution,
# lifecycleState, isReshareDisabledByAuthor) plus id, createdAt, publishedAt, lastModifiedAt (epoch ms)
# and, for a reshare, reshareContext.

LI_ORG = "urn:li:organization:5515715"
LI_POSTS = "https://api.linkedin.com/rest/posts"
LI_CREDS = AccountCredentials(platform="linkedin", account_id=LI_ORG, access_token="AQV-li")
LI_SINCE = datetime(2026, 9, 8, tzinfo=UTC)


def li_post(number: int, at: datetime, text: str = "", **extra: object) -> dict[str, object]:
    ms = int(at.timestamp() * 1000)
    return {"id": f"urn:li:share:69526762450124{number:05d}", "author": LI_ORG, "commentary": text or f"Post {number}",
            "visibility": "PUBLIC", "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False,
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "createdAt": ms, "publishedAt": ms, "lastModifiedAt": ms, "lifecycleStateInfo": {"isEditedByAuthor": False},
            **extra}  # fmt: skip


@responses.activate
def test_linkedin_finds_the_pages_posts_by_author_and_pages_by_start() -> None:
    """No fixture exists for the author finder: the request is the Posts API page's "Find Posts by
    Authors", the answer a Rest.li collection (the official Python client's CollectionResponse/Paging) of
    Posts with the documented fields."""
    newest = datetime(2026, 12, 5, 9, tzinfo=UTC)
    # Given a full first page (50): the page's own posts, a reshare, a draft and another author's post
    first = [li_post(n, newest - timedelta(hours=n)) for n in range(46)]
    first[0]["commentary"] = "Our menu \\(autumn\\) {hashtag|\\#|baking}"
    first += [
        li_post(46, newest, reshareContext={"parent": "urn:li:share:1", "root": "urn:li:share:1"}),
        li_post(47, newest, lifecycleState="DRAFT"),
        li_post(48, newest, author="urn:li:organization:1"),
        li_post(49, datetime(2026, 10, 1, tzinfo=UTC)),
    ]
    responses.add(responses.GET, LI_POSTS, json={"paging": {"start": 0, "count": 50, "links": [
        {"type": "application/json", "rel": "next", "href": "/rest/posts?q=author&start=50&count=50"}]},
        "elements": first})  # fmt: skip
    # And a second page that reaches back past ``since``
    responses.add(responses.GET, LI_POSTS, json={"paging": {"start": 50, "count": 50, "links": []},
        "elements": [li_post(50, datetime(2026, 9, 20, tzinfo=UTC)), li_post(51, datetime(2026, 8, 1, tzinfo=UTC))]})  # fmt: skip
    posts = LinkedInMetrics(requests.Session()).recent_posts(LI_CREDS, LI_SINCE)
    # Then the finder was asked as documented: the author URN percent-encoded, 50 a page from 0
    sent = responses.calls[0].request
    assert (sent.url or "").startswith(f"{LI_POSTS}?author=urn%3Ali%3Aorganization%3A5515715&q=author")
    assert query(0) == {"author": [LI_ORG], "q": ["author"], "count": ["50"], "start": ["0"],
                        "sortBy": ["LAST_MODIFIED"]}  # fmt: skip
    assert sent.headers["Authorization"] == "Bearer AQV-li"
    assert sent.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert sent.headers["LinkedIn-Version"]
    # And the next page starts after the first, and the page reaching past ``since`` is the last
    assert query(1)["start"] == ["50"]
    assert len(responses.calls) == 2
    # And only the page's own published posts since ``since`` are posts, their text as written
    ids = [p.platform_post_id for p in posts]
    assert len(ids) == 48  # 46 + post 49 + post 50; no reshare, draft or other author's post, none too old
    assert {"urn:li:share:6952676245012400046", "urn:li:share:6952676245012400047"}.isdisjoint(ids)
    assert "urn:li:share:6952676245012400048" not in ids
    assert "urn:li:share:6952676245012400051" not in ids
    assert posts[0] == TimelinePost(
        "urn:li:share:6952676245012400000", newest, "Our menu (autumn) #baking",
        "https://www.linkedin.com/feed/update/urn:li:share:6952676245012400000/",
    )  # fmt: skip
    assert posts[-1].platform_post_id == "urn:li:share:6952676245012400050"


@responses.activate
def test_linkedin_stops_at_the_total() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    responses.add(responses.GET, LI_POSTS, json={"paging": {"start": 0, "count": 50, "total": 2},
                                                  "elements": [li_post(1, at), li_post(2, at)]})  # fmt: skip
    posts = LinkedInMetrics(requests.Session()).recent_posts(LI_CREDS, LI_SINCE)
    assert len(posts) == 2
    assert len(responses.calls) == 1


def test_linkedin_reads_no_members_posts() -> None:
    # r_member_social is a closed permission: a member's timeline is not read (and has no statistics)
    member = AccountCredentials(platform="linkedin", account_id="urn:li:person:782bbtaQ", access_token="t")
    with responses.RequestsMock() as rsps:  # any request would fail the test
        assert LinkedInMetrics(requests.Session()).recent_posts(member, LI_SINCE) == []
        assert len(rsps.calls) == 0


@responses.activate
@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, fixture_json("platform_api/publishing/linkedin/error_401_empty_token.json"), AuthError),
        (403, {"message": "Not enough permissions to access: GET-author /posts", "serviceErrorCode": 100,
               "status": 403}, PermanentError),
        (429, {"message": "Resource level throttle limit for calls to this resource is reached.",
               "serviceErrorCode": 101, "status": 429}, RateLimited),
    ],
)  # fmt: skip
def test_linkedin_errors_are_mapped(status: int, body: dict[str, object], error: type[Exception]) -> None:
    responses.add(responses.GET, LI_POSTS, status=status, json=body)
    with pytest.raises(error) as raised:
        LinkedInMetrics(requests.Session()).recent_posts(LI_CREDS, LI_SINCE)
    assert "AQV-li" not in str(raised.value)

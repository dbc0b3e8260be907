"""Contract: a YouTube competitor channel, ``channels.list`` (``forHandle``; ``statistics.subscriberCount``),
the uploads playlist's ``playlistItems.list`` and ``videos.list?part=snippet,statistics``
(``metrics/youtube_videos_list_statistics.json``; errors from ``publishing/youtube/``). Each call costs
one unit of the project's daily quota; a page is two."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from chorus.competitors.model import ContentType
from chorus.competitors.timelines import YouTubeTimeline, youtube_profile, youtube_videos
from chorus.platforms.base import PermanentError, RateLimited
from tests.support import fixture_json

BASE = "https://youtube.example"
VIDEOS: dict[str, Any] = fixture_json("metrics/youtube_videos_list_statistics.json")
# channels.list's documented Channel resource fields (assembled: no recorded answer in the fixtures)
CHANNEL = {
    "kind": "youtube#channelListResponse",
    "items": [{
        "kind": "youtube#channel", "id": "UC_x5XG1OV2P6uZZ5FSM9Ttw",
        "snippet": {"title": "Google for Developers", "customUrl": "@googledevelopers"},
        "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": "UU_x5XG1OV2P6uZZ5FSM9Ttw"}},
        "statistics": {"viewCount": "1", "subscriberCount": "2440000", "hiddenSubscriberCount": False,
                       "videoCount": "6000"},
    }],
}  # fmt: skip


def test_the_documented_video_becomes_a_video_post_with_likes_and_comments() -> None:
    (post,) = youtube_videos(VIDEOS)
    assert post.platform_post_id == "D-lhorsDlUQ"
    assert post.content_type is ContentType.VIDEO
    assert (post.likes, post.replies, post.views) == (190, 32, 7920)
    assert post.engagements == 222
    assert post.text == "What are Actions on Google (Assistant on Air)"
    assert post.created_at.isoformat() == "2019-03-21T20:37:49+00:00"


def test_the_channel_gives_its_subscribers_and_uploads_playlist() -> None:
    profile = youtube_profile(CHANNEL)
    assert (profile.platform_id, profile.handle, profile.followers) == (
        "UC_x5XG1OV2P6uZZ5FSM9Ttw", "@googledevelopers", 2440000)  # fmt: skip
    assert profile.extra == {"uploads": "UU_x5XG1OV2P6uZZ5FSM9Ttw"}
    hidden = {"items": [{**CHANNEL["items"][0], "statistics": {"hiddenSubscriberCount": True}}]}
    assert youtube_profile(hidden).followers is None
    with pytest.raises(PermanentError):
        youtube_profile({"items": []})


@responses.activate
def test_a_page_reads_the_uploads_playlist_then_the_videos_statistics_with_the_key() -> None:
    responses.get(f"{BASE}/youtube/v3/channels", json=CHANNEL)
    responses.get(f"{BASE}/youtube/v3/playlistItems", json={"items": [
        {"contentDetails": {"videoId": "D-lhorsDlUQ", "videoPublishedAt": "2019-03-21T20:37:49Z"}}],
        "nextPageToken": "CDIQAA"})  # fmt: skip
    responses.get(f"{BASE}/youtube/v3/videos", json=VIDEOS)
    timeline = YouTubeTimeline(BASE, "api-key")
    profile = timeline.lookup("googledevelopers", None)
    page = timeline.page(profile.platform_id, profile.extra, None)
    assert [p.platform_post_id for p in page.posts] == ["D-lhorsDlUQ"]
    assert page.next_token == "CDIQAA"
    asked = [parse_qs(urlsplit(c.request.url or "").query) for c in responses.calls]
    assert asked[0]["forHandle"] == ["@googledevelopers"]
    assert asked[1]["playlistId"] == ["UU_x5XG1OV2P6uZZ5FSM9Ttw"]
    assert asked[1]["maxResults"] == ["50"]
    assert asked[2]["id"] == ["D-lhorsDlUQ"]
    assert asked[2]["part"] == ["snippet,statistics"]
    assert all(q["key"] == ["api-key"] for q in asked)
    assert (timeline.cost("lookup"), timeline.cost("page")) == (1, 2)


@responses.activate
def test_the_documented_quota_error_is_rate_limited() -> None:
    responses.get(f"{BASE}/youtube/v3/playlistItems", status=403,
                  json=fixture_json("platform_api/publishing/youtube/error_403_quota_exceeded.json"))  # fmt: skip
    with pytest.raises(RateLimited):
        YouTubeTimeline(BASE, "k").page("UC1", {"uploads": "UU1"}, None)

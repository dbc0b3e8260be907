"""Which adapter plays which platform. Adapters are built lazily, once per process, so a function
that publishes only to Mastodon never imports the others."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chorus.platforms.base import AccountCredentials, MetricsCollector, PublishingAdapter
from chorus.platforms.oauth2 import TokenSet


@dataclass(frozen=True)
class PlatformInfo:
    name: str
    label: str
    publisher: str | None  # "module:Class"
    collector: str | None
    webhooks: bool  # inbound by webhooks (else polled, where it has an inbox)
    # "manual": apps cannot publish there (no publishing API): Chorus reminds a person at the due time
    # and they mark it posted with its URL (chorus.posts.reminders); accounts are added by hand.
    publishing: str = "api"
    # where its profiles and posts live: a manual account's URLs, a post marked posted (a TikTok draft)
    domains: tuple[str, ...] = ()


PLATFORMS: Mapping[str, PlatformInfo] = {
    p.name: p
    for p in (
        PlatformInfo("sandbox", "Sandbox (local only)", "sandbox.publish:SandboxPublisher", "sandbox.publish:SandboxPublisher", False),
        PlatformInfo("mastodon", "Mastodon", "mastodon.publish:MastodonPublisher", "mastodon.metrics:MastodonMetrics", False),
        PlatformInfo("bluesky", "Bluesky", "bluesky.publish:BlueskyPublisher", "bluesky.metrics:BlueskyMetrics", False),
        PlatformInfo("facebook", "Facebook Page", "facebook.publish:FacebookPublisher", "facebook.metrics:FacebookMetrics", True),
        PlatformInfo("instagram", "Instagram", "instagram.publish:InstagramPublisher", "instagram.metrics:InstagramMetrics", True),
        PlatformInfo("x", "X", "x.publish:XPublisher", "x.metrics:XMetrics", True),
        PlatformInfo("linkedin", "LinkedIn", "linkedin.publish:LinkedInPublisher", "linkedin.metrics:LinkedInMetrics", True),
        PlatformInfo("youtube", "YouTube", "youtube.publish:YouTubePublisher", "youtube.metrics:YouTubeMetrics", True),
        PlatformInfo("threads", "Threads", "threads.publish:ThreadsPublisher", "threads.metrics:ThreadsMetrics", True),
        PlatformInfo("pinterest", "Pinterest", "pinterest.publish:PinterestPublisher", "pinterest.metrics:PinterestMetrics", False),
        PlatformInfo("tiktok", "TikTok", "tiktok.publish:TikTokPublisher", "tiktok.metrics:TikTokMetrics", True, domains=("tiktok.com",)),
        PlatformInfo("wechat", "WeChat Official Account", "wechat.publish:WeChatPublisher", "wechat.metrics:WeChatMetrics", True),
        PlatformInfo("whatsapp", "WhatsApp", None, None, True),
        PlatformInfo("weibo", "Weibo (微博)", "weibo.publish:WeiboPublisher", "weibo.metrics:WeiboMetrics", False),
        PlatformInfo("xiaohongshu", "Xiaohongshu (小红书)", None, None, False, "manual", ("xiaohongshu.com", "xhslink.com")),
        PlatformInfo("zhihu", "Zhihu (知乎)", None, None, False, "manual", ("zhihu.com",)),
        PlatformInfo("douyin", "Douyin (抖音)", "douyin.publish:DouyinPublisher", "douyin.metrics:DouyinMetrics", False),
        PlatformInfo("kuaishou", "Kuaishou (快手)", "kuaishou.publish:KuaishouPublisher", "kuaishou.metrics:KuaishouMetrics", False),
    )
}  # fmt: skip

_built: dict[str, Any] = {}


def adapter_class(spec: str) -> type:
    """The class a ``"module:Class"`` spec names, imported, not built (a check reads its attributes)."""
    module_name, cls = spec.split(":")
    found: type = getattr(importlib.import_module(f"chorus.platforms.{module_name}"), cls)
    return found


def _load(spec: str, **kwargs: Any) -> Any:
    return adapter_class(spec)(**kwargs)


# The OAuthApps setting of each platform's API base URL, as its publisher's ``base_url`` takes it (and
# its collector's, below COLLECTOR_PATHS: LinkedIn's metrics take the /rest root).
API_URL_SETTINGS: Mapping[str, str] = {
    "x": "x_api_url", "facebook": "facebook_graph_url", "instagram": "facebook_graph_url",
    "threads": "threads_api_url", "pinterest": "pinterest_api_url", "linkedin": "linkedin_api_url",
    "youtube": "youtube_api_url", "tiktok": "tiktok_api_url", "douyin": "douyin_api_url",
    "kuaishou": "kuaishou_api_url", "weibo": "weibo_api_url", "wechat": "wechat_api_url",
}  # fmt: skip
COLLECTOR_PATHS: Mapping[str, str] = {"linkedin": "/rest"}


def _configured_options(platform: str, path: str = "") -> dict[str, Any]:
    """The sandbox's options; else the platform's API base URL (+ ``path``) when the deployment
    configured one (``CHORUS_LINKEDIN_API_URL``...: ``chorus dev`` and the demo point them at the
    sandbox answering as the platform), else nothing: the adapter's own default."""
    setting = API_URL_SETTINGS.get(platform)
    if setting is None:
        return _options(platform)
    from chorus.accounts.apps import get_apps

    apps = get_apps()
    return {"base_url": getattr(apps, setting).rstrip("/") + path} if setting in apps.model_fields_set else {}


def _upload_options(platform: str) -> dict[str, Any]:
    """A publisher's upload address when the deployment configured one apart from its API's (YouTube's
    ``CHORUS_YOUTUBE_UPLOAD_URL``: the sandbox answering as YouTube), else nothing."""
    if platform != "youtube":
        return {}
    from chorus.accounts.apps import get_apps

    apps = get_apps()
    return {"upload_url": apps.youtube_upload_url} if "youtube_upload_url" in apps.model_fields_set else {}


def _options(platform: str) -> dict[str, Any]:
    if platform != "sandbox":
        return {}
    from chorus.config import get_settings

    settings = get_settings()
    return {"base_url": settings.sandbox_url or None, "timeout_s": settings.sandbox_timeout_s}


def publisher(platform: str) -> PublishingAdapter:
    info = PLATFORMS.get(platform)
    if info is None or info.publisher is None:
        from chorus.platforms.base import PermanentError

        raise PermanentError(f"Chorus cannot publish to {platform} yet", platform=platform)
    key = f"pub:{platform}"
    if key not in _built:
        _built[key] = _load(info.publisher, **_configured_options(platform), **_upload_options(platform))
    adapter: PublishingAdapter = _built[key]
    return adapter


def publishes_by_hand(platform: str, kind: str) -> bool:
    """Whether a post of content ``kind`` (text, image, gif, video) goes out by reminder publishing on
    ``platform``: the platform has no publishing API for apps, or its adapter declares the kind
    manual-only (a ``manual_kinds`` class attribute, read without building the adapter)."""
    info = PLATFORMS.get(platform)
    if info is None:
        return False
    if info.publishing == "manual":
        return True
    if info.publisher is None:
        return False
    return kind in getattr(adapter_class(info.publisher), "manual_kinds", frozenset())


def platform_url_problem(platform: str, url: str) -> str | None:
    """Why ``url`` cannot be an address on ``platform`` (a profile or a post of a manual platform):
    https, no user name, a host on one of its ``domains``. None: it can."""
    from urllib.parse import urlsplit

    info = PLATFORMS.get(platform)
    domains = info.domains if info else ()
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:  # "https://[::1" and the like
        return "must be an https URL"
    if parts.scheme != "https" or not host:
        return "must be an https URL"
    if parts.username or parts.password:
        return "must not carry a user name or password"
    if domains and not any(host == d or host.endswith("." + d) for d in domains):
        return f"must be on {' or '.join(domains)} (an address on {info.label if info else platform})"
    return None


def post_id_in_url(platform: str, url: str) -> str:
    """The platform's own id of the post at ``url`` (a post marked posted by hand), where its adapter says
    how to read it (``post_id_in_url``: a class attribute, a pattern whose first group is the id), so
    metrics and the timeline of posts made elsewhere know it as the post they see; else the URL itself
    (a manual platform's posts are known by their address)."""
    info = PLATFORMS.get(platform)
    pattern = (
        getattr(adapter_class(info.publisher), "post_id_in_url", None) if info and info.publisher else None
    )
    found = pattern.match(url.strip()) if pattern is not None else None
    return found.group(1) if found else url.strip()


def collector(platform: str) -> MetricsCollector | None:
    info = PLATFORMS.get(platform)
    if info is None or info.collector is None:
        return None
    key = f"col:{platform}"
    if key not in _built:
        _built[key] = _load(
            info.collector, **_configured_options(platform, COLLECTOR_PATHS.get(platform, ""))
        )
    found: MetricsCollector = _built[key]
    return found


def refresher(platform: str) -> Callable[[AccountCredentials], TokenSet | None] | None:
    """A function that trades an account's credentials for a new token set (None from it: nothing to
    refresh with), where the platform has one and the deployment has the platform's app credentials
    (X, Facebook, Instagram, Threads, Pinterest; Mastodon's app is registered per instance and stored on
    the account)."""
    from chorus.accounts.refreshers import refresher_for

    return refresher_for(platform)


def reset() -> None:
    _built.clear()


def _register_reset() -> None:
    from chorus.config import register_reset

    register_reset(reset)


_register_reset()

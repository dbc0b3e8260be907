"""The deployment's OAuth app credentials per platform, and where each platform's OAuth endpoints live.

Read lazily from the environment the template gives ApiFunction and PublisherFunction (NoEcho
parameters): ``CHORUS_X_CLIENT_ID`` / ``CHORUS_X_CLIENT_SECRET``, ``CHORUS_FACEBOOK_CLIENT_ID`` /
``CHORUS_FACEBOOK_CLIENT_SECRET`` (the Meta app; Instagram uses it too unless
``CHORUS_INSTAGRAM_CLIENT_ID`` / ``_SECRET`` name another one), ``CHORUS_THREADS_CLIENT_ID`` /
``_SECRET`` (a Meta app with the Threads use case: its Threads app id and secret),
``CHORUS_PINTEREST_CLIENT_ID`` / ``_SECRET``, ``CHORUS_LINKEDIN_CLIENT_ID`` / ``_SECRET``,
``CHORUS_TIKTOK_BUSINESS_CLIENT_ID`` / ``_SECRET`` (the TikTok API for Business app: its App ID and
Secret, for the optional "Enable comments" step of a TikTok account),
``CHORUS_WEIBO_CLIENT_ID`` / ``_SECRET`` (the Weibo app's App Key / App Secret, with its bound safe
domain ``CHORUS_WEIBO_SAFE_DOMAIN`` and the address reported as ``rip``, ``CHORUS_WEIBO_RIP``). Mastodon has no deployment-wide app: one
is registered per instance when an account connects, and its id and secret live in the account's
``extra``. The endpoint URLs default to the platforms' own; tests point them at loopback servers.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_settings import BaseSettings, SettingsConfigDict

from chorus.config import cached

X_API_URL = "https://api.x.com"
X_TOKEN_URL = "https://api.x.com/2/oauth2/token"  # noqa: S105 (an endpoint, not a secret)
GRAPH_URL = "https://graph.facebook.com/v21.0"
FACEBOOK_DIALOG_URL = "https://www.facebook.com/v21.0/dialog/oauth"


@dataclass(frozen=True)
class AppCredentials:
    client_id: str
    client_secret: str | None


class OAuthApps(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHORUS_", extra="ignore")

    x_client_id: str = ""
    x_client_secret: str = ""
    facebook_client_id: str = ""
    facebook_client_secret: str = ""
    instagram_client_id: str = ""
    instagram_client_secret: str = ""
    threads_client_id: str = ""
    threads_client_secret: str = ""
    pinterest_client_id: str = ""
    pinterest_client_secret: str = ""
    linkedin_client_id: str = ""
    linkedin_client_secret: str = ""
    youtube_client_id: str = ""  # a Google Cloud OAuth client (web application) with the YouTube Data API
    youtube_client_secret: str = ""
    tiktok_client_id: str = ""  # TikTok's "client key"
    tiktok_client_secret: str = ""
    tiktok_business_client_id: str = ""  # the TikTok API for Business app's App ID (comments)
    tiktok_business_client_secret: str = ""  # its Secret
    douyin_client_id: str = ""  # CHORUS_DOUYIN_CLIENT_ID: the Douyin app's client_key
    douyin_client_secret: str = ""
    kuaishou_client_id: str = ""  # CHORUS_KUAISHOU_CLIENT_ID: the Kuaishou app_id
    kuaishou_client_secret: str = ""  # the Kuaishou app_secret
    weibo_client_id: str = ""  # the App Key
    weibo_client_secret: str = ""  # the App Secret
    weibo_safe_domain: str = ""  # 安全域名: statuses/share publishes only a status linking under it
    weibo_rip: str = ""  # the operating user's IP reported as rip (the deployment's public address)
    mastodon_client_name: str = "Chorus"
    mastodon_website: str = ""
    x_api_url: str = X_API_URL
    x_token_url: str = X_TOKEN_URL
    facebook_graph_url: str = GRAPH_URL
    facebook_dialog_url: str = FACEBOOK_DIALOG_URL
    # Where connect-time "whoami" calls go (chorus.accounts.ownership); tests point them at loopback.
    threads_api_url: str = "https://graph.threads.net/v1.0"
    # The host of oauth/access_token, access_token and refresh_access_token:
    threads_token_url: str = "https://graph.threads.net"  # noqa: S105 (an endpoint, not a secret)
    threads_authorize_url: str = "https://threads.net/oauth/authorize"
    pinterest_api_url: str = "https://api.pinterest.com/v5"
    pinterest_authorize_url: str = "https://www.pinterest.com/oauth/"
    linkedin_api_url: str = "https://api.linkedin.com"
    linkedin_oauth_url: str = "https://www.linkedin.com/oauth/v2"  # authorization and accessToken
    youtube_api_url: str = "https://www.googleapis.com/youtube/v3"
    youtube_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    youtube_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 (an endpoint, not a secret)
    youtube_upload_url: str = "https://www.googleapis.com/upload/youtube/v3"  # resumable uploads, thumbnails
    tiktok_api_url: str = "https://open.tiktokapis.com"  # API v2 and its oauth/token/
    tiktok_authorize_url: str = "https://www.tiktok.com/v2/auth/authorize/"
    tiktok_business_api_url: str = "https://business-api.tiktok.com/open_api/v1.3"  # comments, tt_user
    tiktok_business_authorize_url: str = "https://business-api.tiktok.com/portal/auth"
    # The business app's revoke endpoint; empty: tt_user/oauth2/revoke/ under tiktok_business_api_url
    tiktok_business_revoke_url: str = ""
    wechat_api_url: str = "https://api.weixin.qq.com"
    douyin_api_url: str = "https://open.douyin.com"  # oauth/* and api/douyin/v1/*
    douyin_authorize_url: str = "https://open.douyin.com/platform/oauth/connect/"
    kuaishou_api_url: str = "https://open.kuaishou.com"  # oauth2/* and openapi/*
    kuaishou_authorize_url: str = "https://open.kuaishou.com/oauth2/authorize"
    weibo_api_url: str = "https://api.weibo.com"  # oauth2/* and 2/*
    # Where the OAuth callback sends the browser once accounts are connected (JSON answer when empty).
    oauth_done_url: str = ""

    def app(self, platform: str) -> AppCredentials | None:
        """The deployment's app for ``platform``; None when it is not configured (or per instance)."""
        if platform == "x" and self.x_client_id:
            return AppCredentials(self.x_client_id, self.x_client_secret or None)
        if platform == "threads" and self.threads_client_id and self.threads_client_secret:
            return AppCredentials(self.threads_client_id, self.threads_client_secret)
        if platform == "pinterest" and self.pinterest_client_id and self.pinterest_client_secret:
            return AppCredentials(self.pinterest_client_id, self.pinterest_client_secret)
        if platform == "linkedin" and self.linkedin_client_id and self.linkedin_client_secret:
            return AppCredentials(self.linkedin_client_id, self.linkedin_client_secret)
        if platform == "youtube" and self.youtube_client_id and self.youtube_client_secret:
            return AppCredentials(self.youtube_client_id, self.youtube_client_secret)
        if platform == "tiktok" and self.tiktok_client_id and self.tiktok_client_secret:
            return AppCredentials(self.tiktok_client_id, self.tiktok_client_secret)
        if (
            platform == "tiktok_business"
            and self.tiktok_business_client_id
            and self.tiktok_business_client_secret
        ):
            return AppCredentials(self.tiktok_business_client_id, self.tiktok_business_client_secret)
        if platform == "weibo" and self.weibo_client_id and self.weibo_client_secret:
            return AppCredentials(self.weibo_client_id, self.weibo_client_secret)
        if platform == "douyin" and self.douyin_client_id and self.douyin_client_secret:
            return AppCredentials(self.douyin_client_id, self.douyin_client_secret)
        if platform == "kuaishou" and self.kuaishou_client_id and self.kuaishou_client_secret:
            return AppCredentials(self.kuaishou_client_id, self.kuaishou_client_secret)
        if platform == "instagram" and self.instagram_client_id and self.instagram_client_secret:
            return AppCredentials(self.instagram_client_id, self.instagram_client_secret)
        if platform in ("facebook", "instagram") and self.facebook_client_id and self.facebook_client_secret:
            return AppCredentials(self.facebook_client_id, self.facebook_client_secret)
        return None


@cached
def get_apps() -> OAuthApps:
    return OAuthApps()

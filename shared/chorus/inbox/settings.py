"""The inbox's configuration: webhook secrets and queue URLs, read lazily from the environment the
template gives the webhook, ingest, poller and replier functions (``NoEcho`` parameters, empty by
default: a platform without its secret refuses its webhooks)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from chorus.config import cached
from chorus.platforms.webhooks import WebhookSecrets


class InboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHORUS_", extra="ignore")

    meta_app_secret: str = ""
    meta_verify_token: str = ""
    threads_app_secret: str = ""
    x_consumer_secret: str = ""
    wechat_token: str = ""
    wechat_encoding_aes_key: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = (
        ""  # with the AppID: the replier's stable access token (customer-service messages)
    )
    tiktok_client_secret: str = ""
    linkedin_client_secret: str = ""
    youtube_hub_secret: str = ""
    ingest_queue_url: str = ""
    reply_queue_url: str = ""
    reply_max_attempts: int = 6
    reply_max_receives: int = 5
    # The Meta app passed App Review for the Human Agent feature: Messenger and Instagram replies may
    # go out tagged HUMAN_AGENT up to 7 days after the person's last message (else 24 hours).
    meta_human_agent: bool = False

    def secrets(self) -> WebhookSecrets:
        return WebhookSecrets(
            meta_app_secret=self.meta_app_secret or None,
            meta_verify_token=self.meta_verify_token or None,
            threads_app_secret=self.threads_app_secret or None,
            x_consumer_secret=self.x_consumer_secret or None,
            wechat_token=self.wechat_token or None,
            wechat_encoding_aes_key=self.wechat_encoding_aes_key or None,
            wechat_app_id=self.wechat_app_id or None,
            tiktok_client_secret=self.tiktok_client_secret or None,
            linkedin_client_secret=self.linkedin_client_secret or None,
            youtube_hub_secret=self.youtube_hub_secret or None,
        )


@cached
def inbox_settings() -> InboxSettings:
    return InboxSettings()


@cached
def webhook_secrets() -> WebhookSecrets:
    return inbox_settings().secrets()

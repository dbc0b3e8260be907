"""Configuration: one pydantic settings model, read lazily from the environment the template sets.

Domain code never reads ``os.environ``; it receives values, or asks ``get_settings()`` at the edge.
Everything that caches configuration or clients registers through ``cached`` so the embedded runtime
(and tests) can reset all of it at once with ``reset_caches()``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

T = TypeVar("T")
_CACHES: list[Any] = []
_RESETS: list[Callable[[], None]] = []


def cached(fn: Callable[[], T]) -> Callable[[], T]:
    """A zero-argument factory computed once per process (per runtime reset), also when a handler's
    threads ask for it at the same moment (boto3's default session is not thread-safe)."""
    once = functools.cache(fn)
    lock = threading.RLock()

    @functools.wraps(fn)
    def wrapped() -> T:
        with lock:
            return once()

    wrapped.cache_clear = once.cache_clear  # type: ignore[attr-defined]
    _CACHES.append(wrapped)
    return wrapped


def register_reset(fn: Callable[[], None]) -> None:
    """Run ``fn`` whenever caches are reset (clients bound to an old endpoint, table bindings)."""
    _RESETS.append(fn)


def reset_caches() -> None:
    for cache in _CACHES:
        cache.cache_clear()
    for fn in _RESETS:
        fn()


class Settings(BaseSettings):
    """Names match the environment variables template.yaml gives every function (prefix CHORUS_)."""

    model_config = SettingsConfigDict(env_prefix="CHORUS_", extra="ignore")

    table: str = "chorus-main"
    metrics_table: str = "chorus-metrics"
    event_bus: str = "chorus"
    event_source: str = "chorus"
    publish_queue_url: str = ""
    ingest_queue_url: str = ""
    metrics_queue_url: str = ""
    reports_queue_url: str = ""
    media_bucket: str = ""
    reports_bucket: str = ""
    kms_key_id: str = ""
    alerts_topic_arn: str = ""
    ws_callback_url: str = ""
    # Sign-in: the Cognito user pool and app client whose tokens the APIs accept (chorus.auth.tokens).
    # The JWKS comes from the issuer unless named (the embedded runtime names moto's own endpoint).
    cognito_user_pool_id: str = ""
    cognito_client_id: str = ""
    cognito_jwks_url: str = ""
    # Invitations: where their links point (the web app's address) and who sends them (SES).
    app_url: str = ""
    mail_from: str = ""
    # Short links (chorus.links): the address GET /l/{code} is served at (the ShortLinkDomain of the
    # template, else the API's own URL; the embedded runtime sets CHORUS_API_URL).
    short_link_base: str = ""
    api_url: str = ""
    stage: str = "prod"
    # True on the embedded runtime only: the guarded fetcher accepts http:// and loopback there.
    embedded: bool = False
    region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    # Where the sandbox platform lives (local only; empty in production, which disables it).
    sandbox_url: str = ""
    sandbox_timeout_s: float = 5.0
    # Read timeout of platform calls that name none (0: chorus.platforms.http.DEFAULT_TIMEOUT's 10 s).
    http_read_timeout_s: float = 0.0
    # Scheduler: how far ahead of due time a target is handed to the publish queue.
    schedule_lookahead_s: int = 90
    # Publisher: retries before a transient failure becomes permanent.
    publish_max_attempts: int = 6
    # Receives of a publish message before SQS moves it to the DLQ (the template's maxReceiveCount).
    publish_max_receives: int = 5


@cached
def get_settings() -> Settings:
    return Settings()

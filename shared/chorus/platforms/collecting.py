"""What the counts collectors of Douyin, Kuaishou and TikTok share: a collector holding its session, its
API's base URL and a clock (:class:`HttpCollector`), and :func:`skipping`, which runs one request of a
collection so that a dead token stops it (``AuthError``, the account re-authorises) while any other
refusal skips only that request (logged as ``post_metrics_skipped``, never a count of zero)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import requests

from chorus.platforms.base import AuthError, PermanentError
from chorus.platforms.facebook.metrics import utc_now

logger = logging.getLogger(__name__)

T = TypeVar("T")


class HttpCollector:
    """A metrics collector's session, base URL (:meth:`api_url` unless another is given) and clock."""

    name: str

    def api_url(self) -> str:
        """The platform's API base URL (read when the collector is made)."""
        raise NotImplementedError

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.session = session or requests.Session()
        self.base_url = (base_url or self.api_url()).rstrip("/")
        self._clock = clock


def skipping(fetch: Callable[[], T], platform: str, **what: Any) -> T | None:
    """``fetch()``'s answer; None (logged with ``what``) when the platform refuses it for another reason
    than a dead token, which raises."""
    try:
        return fetch()
    except AuthError:
        raise
    except PermanentError as exc:
        logger.warning("post_metrics_skipped",
                       extra={"platform": platform, **what, "reason": exc.message, "code": exc.code})  # fmt: skip
        return None

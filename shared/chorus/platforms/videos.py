"""Posts that are one video made in steps: the file uploaded (its parts persisted as they are
confirmed), then the post created from the upload (Douyin, Kuaishou).

:class:`VideoPostPublisher` is the shared shape of such an adapter: the checks (one video, no replies,
thread parts or first comment), the request budget (``OutOfBudget`` continues in a ``"continue"`` step
where the call stopped), and the root created once through ``progress.step`` from the persisted upload;
a root sent without a known answer is verified by the adapter's ``find_published`` before anything is
sent again. :func:`send_parts` sends a file's byte ranges, each read by a ``Range`` request and recorded
as its own part once the platform confirmed it, so a resumed upload never sends a confirmed part again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import requests

from chorus.platforms import parts
from chorus.platforms.base import (
    ROOT,
    AccountCredentials,
    MediaItem,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
)
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, Timeout, requests_budget
from chorus.platforms.http import DEFAULT_TIMEOUT
from chorus.platforms.stepped import SteppedPublisher
from chorus.platforms.uploads import media_range

MEDIA = "media"
"""The progress part holding what the upload gave (a video id, an upload token)."""
UPLOAD = "upload"
"""The progress part holding the upload's plan (JSON: what the platform opened it with, the file's size),
recorded before the first byte is sent so a resumed upload goes on with it."""
CONTINUE_STEP = "continue"
CONTINUE_DELAY_S = 1


def is_video(item: MediaItem) -> bool:
    return item.mime_type.startswith("video/")


def video_of(request: PublishRequest) -> MediaItem:
    """The post's video (checked by :meth:`VideoPostPublisher.refuse`: there is exactly one)."""
    return next(m for m in request.media if is_video(m))


def cover_of(request: PublishRequest) -> MediaItem | None:
    """The image given beside the video as its cover, if any."""
    return next((m for m in request.media if not is_video(m)), None)


def send_parts(
    request: PublishRequest,
    item: MediaItem,
    spans: Sequence[tuple[int, int]],
    part_name: Callable[[int], str],
    send: Callable[[int, bytes], str],
    budget: CallBudget,
    platform: str,
    timeout: Timeout = DEFAULT_TIMEOUT,
) -> None:
    """Send every byte range of ``item`` not yet confirmed, in order: ``send(index, chunk)`` through
    ``progress.step(part_name(index))`` (idempotent: the same range sent again replaces itself)."""
    progress = request.progress
    for index, (first, last) in enumerate(spans):
        if progress.done(part_name(index)) is None:
            budget.spend(timeout, timeout)  # read the range, send it
            chunk = media_range(item, first, last, platform, timeout)[0]
            progress.step(part_name(index), partial(send, index, chunk), idempotent=True)


class VideoPostPublisher(SteppedPublisher):
    """The publishing steps shared by one-video platforms; a subclass gives ``name``, ``label``,
    :meth:`api_url` (its API's base, unless another ``base_url`` is given: a fake platform's in tests)
    and :meth:`upload` / :meth:`create` (and :meth:`check` for its own refusals)."""

    steps = (CONTINUE_STEP,)
    request_budget_s: float = requests_budget(CALL_REQUESTS, DEFAULT_TIMEOUT)
    create_timeout: Timeout = DEFAULT_TIMEOUT
    create_requests: int = 1  # requests the create sends (a cover image read first: 2)
    cover_allowed: bool = False  # an image beside the video is its cover

    def api_url(self) -> str:
        """The platform's API base URL (read when the publisher is made)."""
        raise NotImplementedError

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.session = session or requests.Session()
        self.base_url = (base_url or self.api_url()).rstrip("/")

    def check(self, creds: AccountCredentials) -> None:
        """Refuse for good, before any call, what the account cannot publish."""

    def uploaded(self, creds: AccountCredentials, request: PublishRequest, budget: CallBudget) -> str:
        """What the upload gave (recorded as part ``MEDIA``), the video uploaded once by :meth:`upload`."""
        done = request.progress.done(MEDIA)
        if done is not None:
            return done
        return self.upload(creds, request, video_of(request), request.progress.done(UPLOAD), budget)

    def upload(self, creds: AccountCredentials, request: PublishRequest, item: MediaItem, plan: str | None,
               budget: CallBudget) -> str:  # fmt: skip
        """Upload ``item`` (``plan``: the upload's plan recorded as part ``UPLOAD``, None before it is
        opened) and answer what it gave, recorded as part ``MEDIA``."""
        raise NotImplementedError

    def create(
        self, creds: AccountCredentials, request: PublishRequest, uploaded: str
    ) -> str | tuple[str, str]:
        """Create the post from the upload: its platform id, or ``(id, url)``."""
        raise NotImplementedError

    def refuse(self, creds: AccountCredentials, request: PublishRequest) -> None:
        if request.reply_to or request.thread or request.first_comment:
            raise PermanentError(f"a {self.label} video has no replies, thread parts or first comment here",
                                 platform=self.name)  # fmt: skip
        videos = [m for m in request.media if is_video(m)]
        others = [m for m in request.media if not is_video(m)]
        covered = self.cover_allowed and len(others) == 1 and others[0].mime_type.startswith("image/")
        if len(videos) != 1 or (others and not covered):
            what = (
                "one video (and at most one image, its cover)" if self.cover_allowed else "exactly one video"
            )
            raise PermanentError(f"a {self.label} post is {what}", platform=self.name,
                                 code="video_required")  # fmt: skip
        self.check(creds)

    def run(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PublishResult | PendingStep:
        progress = request.progress
        try:
            if progress.done(ROOT) is None:
                uploaded = progress.done(MEDIA) or ""
                if not parts.unanswered(request, ROOT):  # else the step below raises UnknownOutcome: verified
                    uploaded = self.uploaded(creds, request, budget)
                budget.spend(*[self.create_timeout] * self.create_requests)
                progress.step(ROOT, partial(self.create, creds, request, uploaded))
        except OutOfBudget:
            return PendingStep(CONTINUE_STEP, {}, delay_seconds=CONTINUE_DELAY_S)
        return parts.published(request)

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        return None  # a video post is one part

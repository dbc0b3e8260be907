"""The shape every publishing adapter made of resumable steps shares (LinkedIn, Threads, Facebook, WeChat,
Pinterest, TikTok, Weibo, and Douyin and Kuaishou through
:class:`chorus.platforms.videos.VideoPostPublisher`): refuse for good what the platform cannot publish,
then run the steps within the call's request budget (:mod:`chorus.platforms.budget`); a run that stops
(out of budget, or waiting for the platform to process something) returns a :class:`PendingStep`, and
``continue_publish`` takes back only the steps this adapter returns, with their state
(:func:`chorus.platforms.parts.resumed_state`).

A subclass gives ``name``, ``label``, ``request_budget_s``, ``steps`` and :meth:`run` (and
:meth:`refuse` for its own refusals). Each step creates its parts through ``request.progress``, so a
run after a crash or a lost answer resumes at the first missing part (docs/exactly_once.md)."""

from __future__ import annotations

from chorus.platforms import parts
from chorus.platforms.base import AccountCredentials, PendingStep, PublishRequest, PublishResult
from chorus.platforms.budget import CallBudget


class SteppedPublisher:
    name: str
    label: str  # as people name the platform, in refusals ("LinkedIn")
    request_budget_s: float
    steps: tuple[str, ...]  # the pending steps it returns, the ones continue_publish takes back

    def refuse(self, creds: AccountCredentials, request: PublishRequest) -> None:
        """Refuse for good, before any call, what this platform cannot publish (a PermanentError)."""

    def run(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PublishResult | PendingStep:
        """The steps from where ``request.progress`` and ``state`` say the last run stopped."""
        raise NotImplementedError

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        self.refuse(creds, request)
        return self.run(creds, request, {}, CallBudget(self.request_budget_s))

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        state = parts.resumed_state(step, self.steps, self.name, self.label)
        return self.run(creds, request, state, CallBudget(self.request_budget_s))

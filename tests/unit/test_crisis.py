"""The crisis detector raises once on a real burst of negatives, stays quiet on a normal day, and resolves."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chorus.listening.crisis import (
    Action,
    Decision,
    DetectorConfig,
    DetectorState,
    Severity,
    binomial_sf,
    observe,
    poisson_sf,
)

WINDOW = timedelta(minutes=5)
START = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday, midnight UTC
PER_DAY = 288


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's method; rates here stay small)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def diurnal_rate(at: datetime) -> float:
    """Mentions per 5 minutes: ~2 at 4 a.m., ~40 at 4 p.m."""
    hour = at.hour + at.minute / 60
    return 2 + 38 * (0.5 - 0.5 * math.cos(2 * math.pi * (hour - 4) / 24))


def normal_day(rng: random.Random, days: int, share: float = 0.15) -> Iterator[tuple[datetime, int, int]]:
    """(window_end, negatives, total) for ``days`` of a brand's ordinary traffic."""
    at = START
    for _ in range(days * PER_DAY):
        at += WINDOW
        total = poisson(rng, diurnal_rate(at))
        negatives = sum(1 for _ in range(total) if rng.random() < share)
        yield at, negatives, total


def replay(
    windows: Iterator[tuple[datetime, int, int]], state: DetectorState | None = None
) -> tuple[DetectorState, list[Decision]]:
    current = state or DetectorState()
    decisions = []
    for at, negatives, total in windows:
        current, decision = observe(current, at, negatives, total)
        decisions.append(decision)
    return current, decisions


def steady(
    state: DetectorState, start: datetime, windows: int, negatives: int, total: int
) -> tuple[DetectorState, list[Decision]]:
    return replay(((start + WINDOW * (i + 1), negatives, total) for i in range(windows)), state)


def warmed(negatives: int = 3, total: int = 30, windows: int = PER_DAY) -> tuple[DetectorState, datetime]:
    state, _ = steady(DetectorState(), START, windows, negatives, total)
    assert state.last_window_end is not None
    return state, state.last_window_end


def actions(decisions: list[Decision]) -> list[Action]:
    return [d.action for d in decisions]


# --- the statistics --------------------------------------------------------------------------------


def test_the_poisson_tail_matches_closed_forms() -> None:
    assert poisson_sf(3, 1.0) == pytest.approx(1 - math.exp(-1) * 2.5, rel=1e-12)
    assert poisson_sf(1, 2.0) == pytest.approx(1 - math.exp(-2), rel=1e-12)
    assert poisson_sf(0, 5.0) == 1.0
    assert poisson_sf(2, 0.0) == 0.0
    assert poisson_sf(3000, 4000.0) == pytest.approx(1.0)
    assert 0 < poisson_sf(5000, 4000.0) < 1e-40  # far tail without underflow to a wrong zero


def test_the_binomial_tail_matches_closed_forms() -> None:
    assert binomial_sf(1, 10, 0.1) == pytest.approx(1 - 0.9**10, rel=1e-12)
    assert binomial_sf(10, 10, 0.5) == pytest.approx(0.5**10, rel=1e-9)
    assert binomial_sf(3, 4, 0.5) == pytest.approx(5 / 16, rel=1e-12)
    assert binomial_sf(5, 4, 0.5) == 0.0
    assert binomial_sf(0, 4, 0.5) == 1.0


# --- behaviour -------------------------------------------------------------------------------------


def test_a_replayed_normal_week_raises_nothing() -> None:
    # Given a week of diurnal traffic (2-40 mentions per window, 15 % negative; seeded)
    # When every window is observed
    _, decisions = replay(normal_day(random.Random(20240304), days=7))
    # Then nothing was raised, and the busiest windows were judged, not skipped
    assert Action.RAISE not in actions(decisions)
    assert max(d.negatives for d in decisions) >= 10


def test_a_burst_of_negatives_raises_exactly_once_in_its_window() -> None:
    # Given a day of normal traffic, ending at midnight
    state, _ = replay(normal_day(random.Random(7), days=1))
    at = START + timedelta(days=1)
    # When 45 negatives arrive in the next window, and the burst lasts half an hour
    burst = [(at + WINDOW * (i + 1), 45, 60) for i in range(6)]
    state, during = replay(iter(burst), state)
    # Then the first burst window raises, and the rest continue the same incident
    assert actions(during) == [Action.RAISE] + [Action.CONTINUE] * 5
    assert during[0].window_end == burst[0][0]
    assert len({d.incident_id for d in during}) == 1
    assert during[0].incident_id is not None
    assert during[0].anomalous is True
    assert during[0].p_value < 1e-5
    assert any("raise" in reason for reason in during[0].reasons)


def test_two_angry_posts_at_3am_on_a_zero_baseline_do_not_raise() -> None:
    # Given a monitor that has heard nothing for hours
    state, last = warmed(negatives=0, total=0, windows=36)
    # When two negative posts (the only posts) arrive at 3 a.m.
    state, decision = observe(state, last + WINDOW, 2, 2)
    # Then it is not raised: too few to page anyone, though statistically odd
    assert decision.action is Action.CONTINUE
    assert decision.anomalous is False
    assert any(reason.startswith("not: 2 negatives vs minimum 10") for reason in decision.reasons)
    assert state.incident is None


def test_severity_grows_with_the_burst_and_escalates_without_raising_again() -> None:
    # Given a warmed baseline of 3 negatives per window
    state, last = warmed()
    # When the burst grows window over window
    counts = [20, 60, 200]
    state, decisions = replay(
        iter([(last + WINDOW * (i + 1), n, n + 30) for i, n in enumerate(counts)]), state
    )
    # Then one raise, severity rising to critical, each rise flagged as an escalation
    assert actions(decisions) == [Action.RAISE, Action.CONTINUE, Action.CONTINUE]
    severities = [d.severity for d in decisions]
    assert severities == [Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
    assert [d.escalated for d in decisions] == [False, True, True]
    assert state.incident is not None
    assert state.incident.peak_severity is Severity.CRITICAL
    assert state.incident.peak_negatives == 200


def test_a_bigger_single_burst_is_more_severe() -> None:
    ranks = []
    for burst in (15, 40, 120, 400):
        state, last = warmed()
        _, decision = observe(state, last + WINDOW, burst, burst + 30)
        assert decision.action is Action.RAISE
        assert decision.severity is not None
        ranks.append(decision.severity.rank)
    assert ranks == sorted(ranks)
    assert ranks[0] < ranks[-1]


def test_the_incident_resolves_after_enough_quiet_windows_and_can_raise_again() -> None:
    config = DetectorConfig()
    state, last = warmed()
    state, first = observe(state, last + WINDOW, 60, 80)
    assert first.action is Action.RAISE
    # When traffic is back to normal for the configured number of windows
    state, quiet = steady(state, last + WINDOW, config.quiet_windows_to_resolve, 3, 30)
    # Then only the last quiet window resolves, and the state forgets the incident
    assert actions(quiet) == [Action.CONTINUE] * (config.quiet_windows_to_resolve - 1) + [Action.RESOLVE]
    assert quiet[-1].incident_id == first.incident_id
    assert state.incident is None
    # And a new burst later is a new incident
    _, again = observe(state, last + WINDOW * (config.quiet_windows_to_resolve + 2), 60, 80)
    assert again.action is Action.RAISE
    assert again.incident_id != first.incident_id


def test_a_quiet_window_inside_an_incident_restarts_the_count_when_it_flares_again() -> None:
    state, last = warmed()
    state, _ = observe(state, last + WINDOW, 60, 80)
    state, quiet = steady(state, last + WINDOW, 4, 3, 30)
    state, flare = observe(state, last + WINDOW * 6, 50, 70)
    state, after = steady(state, last + WINDOW * 6, 5, 3, 30)
    assert Action.RESOLVE not in [*actions(quiet), flare.action, *actions(after)]
    assert flare.action is Action.CONTINUE
    assert state.incident is not None


def test_a_viral_launch_at_the_usual_mix_is_not_a_crisis() -> None:
    # Given 3 negatives in 30 mentions per window (10 %)
    state, last = warmed()
    # When volume multiplies by ten at the same mix
    _, decision = observe(state, last + WINDOW, 30, 300)
    # Then the mix test holds it back (the negative count alone would have raised)
    assert decision.action is Action.CONTINUE
    assert any(
        reason.startswith("not: negative share") or reason.startswith("not: mix")
        for reason in decision.reasons
    )


def test_a_new_monitor_only_learns_during_warm_up() -> None:
    _, decisions = steady(DetectorState(), START, 5, 50, 60)
    assert Action.RAISE not in actions(decisions)
    assert any("warming up" in r for r in decisions[0].reasons)


def test_a_replayed_window_is_ignored() -> None:
    state, last = warmed()
    raised_state, raised = observe(state, last + WINDOW, 60, 80)
    again_state, again = observe(raised_state, last + WINDOW, 60, 80)
    assert raised.action is Action.RAISE
    assert again.action is Action.CONTINUE
    assert again_state == raised_state
    assert "already observed" in again.reasons[0]


def test_a_gap_in_the_data_does_not_lower_the_baseline() -> None:
    state, last = warmed()
    after_gap, decision = observe(state, last + timedelta(hours=6), 3, 30)
    assert decision.action is Action.CONTINUE
    assert after_gap.negative_rate == pytest.approx(state.negative_rate, rel=0.05)


def test_a_burst_does_not_become_the_new_baseline() -> None:
    state, last = warmed()
    after, _ = steady(state, last, 6, 60, 80)
    assert after.negative_rate < 2 * state.negative_rate


def test_the_state_survives_serialisation_mid_incident() -> None:
    # Given an open incident
    state, last = warmed()
    state, _ = observe(state, last + WINDOW, 60, 80)
    # When the state goes through JSON (a DynamoDB item) and back
    stored = json.loads(json.dumps(state.to_dict()))
    restored = DetectorState.from_dict(stored)
    # Then it is the same state and decides the same way
    assert restored == state
    assert observe(restored, last + WINDOW * 2, 70, 90)[1] == observe(state, last + WINDOW * 2, 70, 90)[1]
    assert DetectorState.from_dict(None) == DetectorState()


def test_a_decision_serialises_with_its_numbers() -> None:
    state, last = warmed()
    _, decision = observe(state, last + WINDOW, 60, 80)
    body = json.loads(json.dumps(decision.to_dict()))
    assert body["action"] == "raise"
    assert body["negatives"] == 60
    assert body["severity"] in {"medium", "high", "critical"}
    assert body["window_end"].endswith("Z")
    assert body["reasons"]


@pytest.mark.parametrize(("negatives", "total"), [(-1, 3), (4, 3), (1, -1)])
def test_impossible_counts_are_refused(negatives: int, total: int) -> None:
    with pytest.raises(ValueError, match=r"negative|exceed"):
        observe(DetectorState(), START, negatives, total)


def test_a_naive_window_end_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        observe(DetectorState(), datetime(2024, 1, 1), 0, 0)

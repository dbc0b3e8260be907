"""Crisis early warning: is the volume of negative mentions above its own normal, right now?

The alerts function feeds :func:`observe` one closed window at a time (5-minute buckets by default) for
each workspace, and for each monitor it watches: the number of negative mentions and the number of all
mentions in that window. :func:`observe` is pure: it never reads the clock (``window_end`` is its
clock), never logs, never does I/O. It returns the new :class:`DetectorState` (a small dict once
serialised: one DynamoDB item per key) and a :class:`Decision` — ``raise``, ``continue`` or
``resolve`` — with the numbers and the reasons behind it.

How it decides
--------------
* **Baseline** — an exponentially weighted moving average (EWMA) of negatives per window (and of all
  mentions), half-life 30 minutes by default, so it follows the day's rhythm (quiet nights, busy
  afternoons) without storing history. In an anomalous window (or an elevated one while an incident
  is open) the EWMA's input is clipped at
  ``baseline + 3·sqrt(baseline)`` and its half-life stretched to 2 hours (a robust EWMA): a burst
  barely moves it, so the detector does not learn the crisis as the new normal, while a lasting
  change of level is still absorbed over hours.
  The first hour (``warmup_windows``) only learns (a running mean) and never raises: a brand-new
  monitor has no normal yet.
* **Test** — with baseline ``λ`` (never below ``baseline_floor``), the window is *anomalous* when all of
  - the Poisson upper tail ``P(X >= observed | λ) < alpha`` (1e-5): the count is very unlikely under
    the normal rate. Mention counts are counts, often small (0-5 per window at night), where z-scores
    on a mean and a standard deviation mislead; the Poisson tail is exact for small counts and has no
    parameters to learn beyond the rate;
  - ``observed >= min_count`` (10): two angry posts at 3 a.m. on a zero baseline are "significant"
    but not a crisis;
  - ``observed >= min_ratio · λ`` (2x): on a very large baseline a 10 % rise is significant but not
    news;
  - the negative share of all mentions ``>= min_share`` (25 %), and the mix has changed: the binomial
    tail ``P(Binomial(total, usual share) >= observed) < share_alpha`` (1e-3). A viral launch that
    multiplies all mentions, negatives included, at the usual mix is not a crisis; a crisis changes
    the mix. This test also absorbs the EWMA's lag on the morning ramp, where volume rises but the mix
    does not (it is skipped while warming up, when there is no usual share yet).
* **Incident** — the first anomalous window raises (once); later anomalous windows continue the open
  incident (``escalated`` when the severity goes up, so alerts can page again at a higher level);
  ``quiet_windows_to_resolve`` (6 = 30 minutes) consecutive quiet windows resolve it. "Quiet" uses a
  looser test than raising (hysteresis: ``p >= resolve_alpha`` (1 %) or fewer than half of
  ``min_count``), so an incident does not flap open/closed around the threshold.
* **Severity** — from how far above the baseline (``ratio = observed / λ``: <3 low, <6 medium,
  <12 high, else critical), one level up for overwhelming evidence (``p < 1e-20``: a large excess in
  absolute numbers, what a big brand's 2.5x looks like) and one up for fast growth (at least 3x the
  previous window), capped by volume (under 3x``min_count`` at most medium, under 10x``min_count``
  at most high) so that a handful of posts on a tiny baseline is never "critical".
* **Windows** — one call per closed window. A window at or before the last one observed is ignored
  (at-least-once delivery replays it); a gap (no data for some windows, e.g. a poller outage) is not
  taken as zero mentions: the baseline is left as it was.

Alternatives considered
-----------------------
* Fixed thresholds ("alert at 50 negatives per hour"): simple, but each workspace and monitor has its
  own normal; one number is either deaf for big brands or noisy for small ones.
* z-score of the count against an EWMA mean and variance: Gaussian assumptions fail at the small counts
  typical of a 5-minute window; the Poisson tail is exact there. (Real counts are over-dispersed; the
  ``min_ratio`` and ``min_count`` floors absorb that. Tracking an EWMA variance and switching to a
  negative-binomial tail is the natural next step if false alarms show up.)
* CUSUM / GLR change detection: better at small, persistent shifts; crises are abrupt and large, and
  the per-window test reacts within one window. CUSUM would fit in the same small state if needed.
* Seasonal baselines (Holt-Winters, hour-of-week profiles), Twitter's S-H-ESD / AnomalyDetection,
  Bayesian change points: need days of history or batch recomputation and more state; the one-hour
  half-life and the mix test already follow the daily rhythm: on a simulated diurnal brand (2-80
  mentions per window, 15 % negative) the defaults raise about once in 90 days by chance and catch
  ~94 % of bursts of +25 negatives in the burst window itself (``bench/bench_crisis.py``).
* Managed services (Amazon Lookout for Metrics, being retired; CloudWatch anomaly detection on a custom
  metric): per-metric cost for every workspace x monitor, and no control over the rules above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    RAISE = "raise"  # an incident opens: alert
    CONTINUE = "continue"  # nothing new (an open incident stays open, or all is normal)
    RESOLVE = "resolve"  # the open incident closes


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITIES.index(self)


_SEVERITIES = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


@dataclass(frozen=True)
class DetectorConfig:
    window: timedelta = timedelta(minutes=5)
    half_life_windows: float = 6.0  # EWMA half-life: 6 windows = 30 minutes at 5 minutes
    elevated_half_life_windows: float = 24.0  # ... and 2 hours in elevated windows (inputs clipped too)
    warmup_windows: int = 12  # learn only (never raise) for the first hour of a new key
    alpha: float = 1e-5  # Poisson upper-tail p-value below which a window is anomalous
    min_count: int = 10  # fewest negatives in a window that can raise
    min_ratio: float = 2.0  # observed / baseline at least this
    min_share: float = 0.25  # negatives / all mentions at least this
    share_alpha: float = 1e-3  # the mix test: P(Binomial(total, usual share) >= negatives) below this
    min_usual_share: float = 0.05  # the usual share is taken as at least this (a clean record proves little)
    baseline_floor: float = 1.0  # negatives per window assumed at least (a zero rate proves nothing)
    clip_sigmas: float = 3.0  # a window moves the baseline by at most baseline + this·sqrt(baseline)
    resolve_alpha: float = 1e-2  # a window is quiet when p >= this (or few negatives)
    quiet_windows_to_resolve: int = 6
    growth_bump: float = 3.0  # a window this many times the previous one raises the severity a level
    overwhelming_log10_p: float = 20.0  # p < 10^-this raises the severity a level

    @property
    def smoothing(self) -> float:
        """EWMA weight of the newest window for the configured half-life."""
        return 1.0 - math.pow(0.5, 1.0 / self.half_life_windows)

    @property
    def elevated_smoothing(self) -> float:
        return 1.0 - math.pow(0.5, 1.0 / self.elevated_half_life_windows)


DEFAULT_CONFIG = DetectorConfig()


@dataclass(frozen=True)
class Incident:
    id: str
    opened_at: datetime  # end of the window that raised it
    severity: Severity  # of the latest anomalous window
    peak_severity: Severity
    peak_negatives: int
    quiet_windows: int = 0
    windows: int = 1  # windows since it opened


@dataclass(frozen=True)
class DetectorState:
    """Everything the detector remembers for one key (workspace, or workspace + monitor)."""

    last_window_end: datetime | None = None
    negative_rate: float = 0.0  # EWMA negatives per window
    total_rate: float = 0.0  # EWMA mentions per window
    windows_seen: int = 0
    previous_negatives: int = 0
    incident: Incident | None = None

    def to_dict(self) -> dict[str, Any]:
        incident = self.incident
        return {
            "v": 1,
            "last_window_end": _iso(self.last_window_end) if self.last_window_end else None,
            "negative_rate": self.negative_rate,
            "total_rate": self.total_rate,
            "windows_seen": self.windows_seen,
            "previous_negatives": self.previous_negatives,
            "incident": None
            if incident is None
            else {
                "id": incident.id,
                "opened_at": _iso(incident.opened_at),
                "severity": incident.severity.value,
                "peak_severity": incident.peak_severity.value,
                "peak_negatives": incident.peak_negatives,
                "quiet_windows": incident.quiet_windows,
                "windows": incident.windows,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DetectorState:
        """The state stored by :meth:`to_dict`; ``None`` or ``{}`` is a fresh state."""
        if not data:
            return cls()
        raw = data.get("incident")
        incident = (
            None
            if not raw
            else Incident(
                id=str(raw["id"]),
                opened_at=_parse(str(raw["opened_at"])),
                severity=Severity(raw["severity"]),
                peak_severity=Severity(raw["peak_severity"]),
                peak_negatives=int(raw["peak_negatives"]),
                quiet_windows=int(raw.get("quiet_windows", 0)),
                windows=int(raw.get("windows", 1)),
            )
        )
        last = data.get("last_window_end")
        return cls(
            last_window_end=_parse(str(last)) if last else None,
            negative_rate=float(data.get("negative_rate", 0.0)),
            total_rate=float(data.get("total_rate", 0.0)),
            windows_seen=int(data.get("windows_seen", 0)),
            previous_negatives=int(data.get("previous_negatives", 0)),
            incident=incident,
        )


@dataclass(frozen=True)
class Decision:
    """What one window means, with every number behind it (for the alert text and the audit trail)."""

    action: Action
    window_end: datetime
    negatives: int
    total: int
    baseline: float  # expected negatives per window (after the floor)
    ratio: float  # negatives / baseline
    p_value: float  # P(X >= negatives | Poisson(baseline))
    share: float  # negatives / total (0 when total is 0)
    usual_share: float | None  # the EWMA share, None while warming up
    growth: float  # (negatives + 1) / (previous window's negatives + 1)
    anomalous: bool
    severity: Severity | None = None  # of this window, when anomalous
    escalated: bool = False  # an open incident's severity went above its previous peak
    incident_id: str | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "window_end": _iso(self.window_end),
            "negatives": self.negatives,
            "total": self.total,
            "baseline": round(self.baseline, 4),
            "ratio": round(self.ratio, 4),
            "p_value": self.p_value,
            "share": round(self.share, 4),
            "usual_share": None if self.usual_share is None else round(self.usual_share, 4),
            "growth": round(self.growth, 4),
            "anomalous": self.anomalous,
            "severity": self.severity.value if self.severity else None,
            "escalated": self.escalated,
            "incident_id": self.incident_id,
            "reasons": list(self.reasons),
        }


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- Poisson tail -----------------------------------------------------------------------------------


def log_poisson_sf(k: int, lam: float) -> float:
    """``ln P(X >= k)`` for ``X ~ Poisson(lam)``, accurate far into the tail (no underflow to -inf
    before ~1e-300 matters: the log is returned)."""
    if k <= 0:
        return 0.0
    if lam <= 0:
        return -math.inf
    log_term = -lam + k * math.log(lam) - math.lgamma(k + 1)  # ln P(X = k)
    if k > lam:  # upper tail: P(X=k) * (1 + lam/(k+1) + lam^2/((k+1)(k+2)) + ...)
        total, term, j = 1.0, 1.0, k
        while term > 1e-17 * total:
            j += 1
            term *= lam / j
            total += term
        return log_term + math.log(total)
    # k <= lam: P(X >= k) = 1 - P(X <= k-1), summing P(X=k-1), P(X=k-2), ... downwards in relative terms
    top = log_term + math.log(k / lam)  # ln P(X = k-1)
    total, term, j = 1.0, 1.0, k - 1
    while j > 0 and term > 1e-17 * total:
        term *= j / lam
        total += term
        j -= 1
    cdf = math.exp(top + math.log(total))
    return math.log(max(1.0 - cdf, 1e-300))


def poisson_sf(k: int, lam: float) -> float:
    """``P(X >= k)`` for ``X ~ Poisson(lam)``."""
    return math.exp(log_poisson_sf(k, lam))


def binomial_sf(k: int, n: int, p: float) -> float:
    """``P(X >= k)`` for ``X ~ Binomial(n, p)`` (summed in log space from ``k`` up, or 1 - the rest)."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)

    def log_pmf(j: int) -> float:
        return math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * log_p + (n - j) * log_q

    if k > n * p:  # upper tail: terms fall from k upwards
        total, term = 0.0, 1.0
        for j in range(k, n + 1):
            term = math.exp(log_pmf(j) - log_pmf(k))
            total += term
            if term < 1e-17 * total:
                break
        return min(1.0, math.exp(log_pmf(k) + math.log(total)))
    below = sum(math.exp(log_pmf(j)) for j in range(k))
    return max(0.0, 1.0 - below)


# --- the detector -----------------------------------------------------------------------------------


def _severity(
    ratio: float, log10_p: float, growth: float, negatives: int, config: DetectorConfig
) -> tuple[Severity, list[str]]:
    level = 0 if ratio < 3 else 1 if ratio < 6 else 2 if ratio < 12 else 3
    notes = [f"severity from ratio {ratio:.1f}: {_SEVERITIES[level].value}"]
    if -log10_p >= config.overwhelming_log10_p:
        level += 1
        notes.append(f"p < 1e-{config.overwhelming_log10_p:g}: one level up")
    if growth >= config.growth_bump:
        level += 1
        notes.append(f"grew {growth:.1f}x on the previous window: one level up")
    cap = 1 if negatives < 3 * config.min_count else 2 if negatives < 10 * config.min_count else 3
    if level > cap:
        notes.append(f"{negatives} negatives: capped at {_SEVERITIES[cap].value}")
    return _SEVERITIES[min(level, cap, 3)], notes


def observe(
    state: DetectorState,
    window_end: datetime,
    negatives: int,
    total: int,
    config: DetectorConfig = DEFAULT_CONFIG,
) -> tuple[DetectorState, Decision]:
    """Take one closed window's counts; return the new state and what to do.

    ``negatives`` is the number of mentions labelled negative in the window ending at ``window_end``
    (an aware datetime), ``total`` the number of all mentions in it. Raises ``ValueError`` for
    impossible counts or a naive datetime.
    """
    if window_end.tzinfo is None:
        raise ValueError("window_end must be timezone-aware")
    if negatives < 0 or total < 0:
        raise ValueError("counts must not be negative")
    if negatives > total:
        raise ValueError("negatives cannot exceed total mentions")

    lam = max(state.negative_rate, config.baseline_floor)
    log_p = log_poisson_sf(negatives, lam)
    p_value = math.exp(log_p)
    log10_p = log_p / math.log(10)
    ratio = negatives / lam
    share = negatives / total if total else 0.0
    warm = state.windows_seen >= config.warmup_windows
    usual_share = state.negative_rate / state.total_rate if warm and state.total_rate > 0 else None
    growth = (negatives + 1) / (state.previous_negatives + 1)

    if state.last_window_end is not None and window_end <= state.last_window_end:
        return state, Decision(
            action=Action.CONTINUE,
            window_end=window_end,
            negatives=negatives,
            total=total,
            baseline=lam,
            ratio=ratio,
            p_value=p_value,
            share=share,
            usual_share=usual_share,
            growth=growth,
            anomalous=False,
            incident_id=state.incident.id if state.incident else None,
            reasons=(f"window ending {_iso(window_end)} already observed: ignored",),
        )

    checks = [
        (negatives >= config.min_count, f"{negatives} negatives vs minimum {config.min_count}"),
        (p_value < config.alpha, f"p={p_value:.2e} vs alpha {config.alpha:g} (baseline {lam:.2f})"),
        (ratio >= config.min_ratio, f"ratio {ratio:.2f} vs minimum {config.min_ratio:g}"),
        (share >= config.min_share, f"negative share {share:.0%} vs minimum {config.min_share:.0%}"),
    ]
    if usual_share is not None:
        mix_p = binomial_sf(negatives, total, max(usual_share, config.min_usual_share))
        checks.append(
            (
                mix_p < config.share_alpha,
                f"mix p={mix_p:.2e} vs {config.share_alpha:g} (usual share {usual_share:.0%})",
            )
        )
    anomalous = all(ok for ok, _ in checks)
    reasons = [("ok: " if ok else "not: ") + text for ok, text in checks]
    if not warm:
        reasons.append(f"warming up ({state.windows_seen + 1}/{config.warmup_windows} windows): never raises")
        anomalous = False

    severity: Severity | None = None
    if anomalous:
        severity, notes = _severity(ratio, log10_p, growth, negatives, config)
        reasons.extend(notes)

    elevated = negatives >= max(1, config.min_count // 2) and p_value < config.resolve_alpha
    clip = anomalous or (state.incident is not None and elevated)
    new_state = _learn(state, window_end, negatives, total, lam, clip, config)
    action, incident, escalated, notes = _track(
        state.incident, window_end, negatives, anomalous, elevated, severity, config
    )
    new_state = replace(new_state, incident=None if action is Action.RESOLVE else incident)
    incident_id = incident.id if incident else None
    reasons[:0] = notes
    return new_state, Decision(
        action=action,
        window_end=window_end,
        negatives=negatives,
        total=total,
        baseline=lam,
        ratio=ratio,
        p_value=p_value,
        share=share,
        usual_share=usual_share,
        growth=growth,
        anomalous=anomalous,
        severity=severity,
        escalated=escalated,
        incident_id=incident_id,
        reasons=tuple(reasons),
    )


def _track(
    incident: Incident | None,
    window_end: datetime,
    negatives: int,
    anomalous: bool,
    elevated: bool,
    severity: Severity | None,
    config: DetectorConfig,
) -> tuple[Action, Incident | None, bool, list[str]]:
    """Open, continue or close the incident: (action, incident after this window, escalated, notes)."""
    if incident is None:
        if anomalous and severity is not None:
            opened = Incident(
                id=f"crisis-{window_end.astimezone(UTC):%Y%m%dT%H%M%SZ}",
                opened_at=window_end,
                severity=severity,
                peak_severity=severity,
                peak_negatives=negatives,
            )
            return Action.RAISE, opened, False, ["raise: negatives far above their baseline"]
        return Action.CONTINUE, None, False, []
    if anomalous or elevated:
        escalated = severity is not None and severity.rank > incident.peak_severity.rank
        ongoing = replace(
            incident,
            severity=severity or incident.severity,
            peak_severity=severity if (severity is not None and escalated) else incident.peak_severity,
            peak_negatives=max(incident.peak_negatives, negatives),
            quiet_windows=0,
            windows=incident.windows + 1,
        )
        return (
            Action.CONTINUE,
            ongoing,
            escalated,
            ["incident open: still elevated" + (", escalated" if escalated else "")],
        )
    quiet = incident.quiet_windows + 1
    ongoing = replace(incident, quiet_windows=quiet, windows=incident.windows + 1)
    if quiet >= config.quiet_windows_to_resolve:
        return Action.RESOLVE, ongoing, False, [f"resolve: {quiet} quiet windows in a row"]
    return (
        Action.CONTINUE,
        ongoing,
        False,
        [f"incident open: quiet window {quiet}/{config.quiet_windows_to_resolve}"],
    )


def _learn(
    state: DetectorState,
    window_end: datetime,
    negatives: int,
    total: int,
    lam: float,
    clip: bool,
    config: DetectorConfig,
) -> DetectorState:
    """The baseline after this window: a running mean while warming up, then an EWMA whose input is
    clipped (and slowed) in burst windows, so a burst is not learnt as normal."""
    weight = max(1.0 / (state.windows_seen + 1), config.smoothing)
    neg_in, tot_in = float(negatives), float(total)
    if clip:
        weight = config.elevated_smoothing
        neg_cap = lam + config.clip_sigmas * math.sqrt(lam)
        tot_base = max(state.total_rate, 1.0)
        tot_cap = tot_base + config.clip_sigmas * math.sqrt(tot_base)
        neg_in, tot_in = min(neg_in, neg_cap), min(tot_in, tot_cap)
    return replace(
        state,
        last_window_end=window_end,
        negative_rate=state.negative_rate + weight * (neg_in - state.negative_rate),
        total_rate=state.total_rate + weight * (tot_in - state.total_rate),
        windows_seen=state.windows_seen + 1,
        previous_negatives=negatives,
    )

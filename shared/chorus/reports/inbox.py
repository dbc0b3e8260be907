"""The report's inbox section from the inbox's own counters (:mod:`chorus.inbox.stats`).

* **volume**: inbound messages written in the period (the account's own replies are not counted);
* **sentiment share**: those inbound messages by their sentiment label (unknown: no text, or a language
  the analyser cannot judge);
* **median first-response time**: the median, in seconds, of the first-response times of the
  conversations whose first response was written in the period (a conversation opened late in one
  period and answered in the next counts in the next);
* **the team** (reports of the whole workspace only: a person's counters span every account): per
  member (and API key) who did anything in the period, the conversations they closed, the replies they
  sent from Chorus, the median of the first responses they gave, and the share of service-level
  targets that ended with them (their first responses, their closes) met in time.

Counters are UTC days, like the metrics rollups: a report in another zone covers the UTC days with the
same dates as its local days. A report whose accounts had no inbox activity in either period has no
inbox section.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

from chorus.inbox.stats import CounterReader, InboxCounters
from chorus.reports.builder import InboxStats
from chorus.reports.model import Period, SentimentShare, TeamRow


def team_of(workspace_id: str) -> list[tuple[str, str]]:
    """Who may have done something in the inbox: each member (``user:<id>``, named by e-mail) and each
    API key (``key:<id>``, named by its name)."""
    from chorus.auth.members import members_of
    from chorus.auth.workspaces import list_api_keys

    people = [(f"user:{m.user_id}", m.email or f"user:{m.user_id}") for m in members_of(workspace_id)]
    return people + [(f"key:{k.key_id}", f"API key {k.name}") for k in list_api_keys(workspace_id)]


class StoredInboxStats:
    """The builder's :class:`~chorus.reports.builder.InboxStatsSource` over the stored counters."""

    def __init__(
        self,
        reader: CounterReader | None = None,
        *,
        whole_workspace: bool = False,
        team: Callable[[str], list[tuple[str, str]]] = team_of,
    ) -> None:
        """``whole_workspace``: the report covers every account of the workspace, so the workspace's
        own counters are read (one partition; they also hold accounts removed since), and the team's."""
        self.reader = reader or CounterReader()
        self.whole_workspace = whole_workspace
        self.team = team

    def team_rows(self, workspace_id: str, period: Period) -> tuple[TeamRow, ...]:
        rows = []
        for person, name in self.team(workspace_id):
            found = self.reader.read_person(workspace_id, person, period.start, period.end)
            if not (found.closed or found.outbound or found.sla_ended):
                continue
            rows.append(
                TeamRow(
                    person=person,
                    name=name,
                    handled=found.closed,
                    replies=found.outbound,
                    median_first_response_seconds=_median(found.first_response_s),
                    sla_met=found.sla_met / found.sla_ended if found.sla_ended else None,
                )
            )
        return tuple(sorted(rows, key=lambda r: (-r.handled, -r.replies, r.name)))

    @property
    def items_read(self) -> int:
        return self.reader.items_read

    def inbox_stats(self, workspace_id: str, period: Period, account_ids: Sequence[str]) -> InboxStats | None:
        if not account_ids:
            return None
        previous = period.previous()
        accounts = None if self.whole_workspace else account_ids
        now = self.reader.read(workspace_id, accounts, period.start, period.end)
        then = self.reader.read(workspace_id, accounts, previous.start, previous.end)
        if not _active(now) and not _active(then):
            return None
        return InboxStats(
            volume=now.inbound,
            sentiment=SentimentShare(
                positive=now.sentiment["positive"],
                negative=now.sentiment["negative"],
                neutral=now.sentiment["neutral"],
                unknown=now.sentiment["unknown"],
            ),
            median_first_response_seconds=_median(now.first_response_s),
            previous_volume=then.inbound,
            previous_median_first_response_seconds=_median(then.first_response_s),
            team=self.team_rows(workspace_id, period) if self.whole_workspace else (),
        )


def _active(counters: InboxCounters) -> bool:
    return bool(counters.inbound or counters.outbound or counters.first_response_s)


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None

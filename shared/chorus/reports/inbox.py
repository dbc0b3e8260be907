"""The report's inbox section from the inbox's own counters (:mod:`chorus.inbox.stats`).

* **volume**: inbound messages written in the period (the account's own replies are not counted);
* **sentiment share**: those inbound messages by their sentiment label (unknown: no text, or a language
  the analyser cannot judge);
* **median first-response time**: the median, in seconds, of the first-response times of the
  conversations whose first response was written in the period (a conversation opened late in one
  period and answered in the next counts in the next).

Counters are UTC days, like the metrics rollups: a report in another zone covers the UTC days with the
same dates as its local days. A report whose accounts had no inbox activity in either period has no
inbox section.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from chorus.inbox.stats import CounterReader, InboxCounters
from chorus.reports.builder import InboxStats
from chorus.reports.model import Period, SentimentShare


class StoredInboxStats:
    """The builder's :class:`~chorus.reports.builder.InboxStatsSource` over the stored counters."""

    def __init__(self, reader: CounterReader | None = None, *, whole_workspace: bool = False) -> None:
        """``whole_workspace``: the report covers every account of the workspace, so the workspace's
        own counters are read (one partition; they also hold accounts removed since)."""
        self.reader = reader or CounterReader()
        self.whole_workspace = whole_workspace

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
        )


def _active(counters: InboxCounters) -> bool:
    return bool(counters.inbound or counters.outbound or counters.first_response_s)


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None

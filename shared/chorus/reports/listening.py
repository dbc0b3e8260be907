"""The report's share of voice and sentiment overrides, from listening (:mod:`chorus.listening.service`).

Listening keeps one counter item per monitor and UTC day, so a year's share of voice reads one item per
brand/competitor monitor and day, never the mentions. Like the rest of the report, the period's local
days are read as the UTC days with the same dates.
"""

from __future__ import annotations

from chorus.reports.builder import ListeningStats
from chorus.reports.model import Period


class StoredListening:
    """The builder's :class:`~chorus.reports.builder.ListeningSource` over listening's service."""

    def listening_stats(self, workspace_id: str, period: Period) -> ListeningStats | None:
        from chorus.listening.service import overrides_count, share_of_voice

        return ListeningStats(
            shares=share_of_voice(workspace_id, period.start, period.end),
            overrides=overrides_count(workspace_id, period.start, period.end),
        )

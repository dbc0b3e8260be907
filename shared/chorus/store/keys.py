"""DynamoDB key builders: every key is made here, never inline.

Single-table layout of the main table (pk/sk, plus sparse GSIs):
  WS#<ws>            / META                       workspace
  WS#<ws>            / KEY#<key_id>               API key (hash only)
  WS#<ws>            / ACCOUNT#<account_id>       connected social account
  WS#<ws>            / POST#<post_id>             post
  WS#<ws>            / TARGET#<post_id>#<acct>    one (post, account) publish target
  WS#<ws>            / WSCONN#<connection_id>     live WebSocket connection
  SYS                / SCHEDULER                  scheduler watermark
GSI1 (due index, sparse): gsi1pk = DUE#<YYYY-MM-DDTHH:MM> (UTC minute bucket), gsi1sk = <due iso>#<target>
"""

from __future__ import annotations

from datetime import UTC, datetime


def workspace_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}"


def workspace_meta_sk() -> str:
    return "META"


def api_key_sk(key_id: str) -> str:
    return f"KEY#{key_id}"


def account_sk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def post_sk(post_id: str) -> str:
    return f"POST#{post_id}"


def target_sk(post_id: str, account_id: str) -> str:
    return f"TARGET#{post_id}#{account_id}"


def target_prefix(post_id: str) -> str:
    return f"TARGET#{post_id}#"


def connection_sk(connection_id: str) -> str:
    return f"WSCONN#{connection_id}"


def system_pk() -> str:
    return "SYS"


def due_bucket(at: datetime) -> str:
    """The minute bucket of the due index a target due at ``at`` lives in."""
    return "DUE#" + at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def due_sort_key(at: datetime, target_id: str) -> str:
    return f"{iso(at)}#{target_id}"


def iso(at: datetime) -> str:
    """UTC ISO-8601 with milliseconds: sorts lexically in time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)

"""DynamoDB key builders: every key is made here, never inline.

Single-table layout of the main table (pk/sk, plus sparse GSIs):
  WS#<ws>            / META                       workspace
  WS#<ws>            / KEY#<key_id>               API key (hash only)
  WS#<ws>            / MEMBER#<user_id>           a person's role in the workspace
  USER#<user_id>     / WS#<ws>                    the same membership, listed by person (GET /me)
  WS#<ws>            / INVITE#<invitation_id>     invitation (hash of its secret only)
  AUDIT#<ws>         / <time>#<entry_id>          audit log entry (never updated; TTL ends it)
  WS#<ws>            / ACCOUNT#<account_id>       connected social account
  WS#<ws>            / GRANTWARN#<acct>#<grant>   an account's second grant until its expiry is warned
  WS#<ws>            / POST#<post_id>             post
  WS#<ws>            / TARGET#<post_id>#<acct>    one (post, account) publish target
  WS#<ws>            / WSCONN#<connection_id>     live WebSocket connection
  SYS                / SCHEDULER                  scheduler watermark
  WS#<ws>            / SHORT#<post>#<acct>#<n>    the short link of a post's n-th link for one account
  LINK#<code>        / LINK                       what GET /l/{code} reads (one GetItem)
  WS#<ws>            / CAMPAIGN#<campaign_id>     campaign
  WS#<ws>            / CONV#<campaign>#<event>    a conversion, once per order/event id
GSI1 (due index, sparse): gsi1pk = QUEUED#|MANUAL#<YYYY-MM-DDTHH:MM> (UTC minute), gsi1sk = <due iso>#<target>
      (DUE#: scheduled targets written before session 9, read until they are gone);
      TOKENWARN#<YYYY-MM-DD> / <warn iso>#<ws>#<account>: an account whose token cannot be refreshed,
      until its owner was warned of the expiry (chorus.accounts.expiry); the same for a GRANTWARN item
      (a second grant's refresh token that ends)
GSI2 (sparse): CAL#<ws> / <time>#<post> (calendar), PACCT#<platform>#<id> / <ws>#<account> (webhook routing),
      PAUSED#<ws> / <target> (targets held while publishing is paused)
GSI3 (due keys, sparse, KEYS_ONLY): gsi3pk = DUE#<YYYY-MM-DDTHH:MM>, gsi3sk = <due iso>#<target>: a scheduled
      target's due minute; the claim and the published write leave it (chorus.store.posts.index_fields)
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime


def workspace_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}"


def workspace_meta_sk() -> str:
    return "META"


def api_key_sk(key_id: str) -> str:
    return f"KEY#{key_id}"


def member_sk(user_id: str) -> str:
    return f"MEMBER#{user_id}"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def user_workspace_sk(workspace_id: str) -> str:
    return f"WS#{workspace_id}"


def invitation_sk(invitation_id: str) -> str:
    return f"INVITE#{invitation_id}"


def audit_pk(workspace_id: str) -> str:
    return f"AUDIT#{workspace_id}"


def audit_sk(at: datetime, entry_id: str) -> str:
    return f"{iso(at)}#{entry_id}"


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


def short_link_sk(post_id: str, account_id: str, n: int) -> str:
    return f"SHORT#{post_id}#{account_id}#{n:02d}"


def short_links_prefix(post_id: str) -> str:
    return f"SHORT#{post_id}#"


def link_pk(code: str) -> str:
    return f"LINK#{code}"


def link_sk() -> str:
    return "LINK"


def campaign_sk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def conversion_sk(campaign_id: str, event_id: str) -> str:
    return f"CONV#{campaign_id}#{event_id}"


def conversions_prefix(campaign_id: str) -> str:
    return f"CONV#{campaign_id}#"


def system_pk() -> str:
    return "SYS"


def due_bucket(at: datetime, prefix: str = "DUE") -> str:
    """The minute bucket of a due index a target lives in: DUE# while scheduled (gsi3), QUEUED# while a
    message the publisher sent for it should be in flight (gsi1): the scheduler finds lost ones in
    either without a table scan."""
    return f"{prefix}#" + at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def token_warning_bucket(at: datetime) -> str:
    """The day bucket of the expiry-warning index an account waits in until its owner is warned."""
    return "TOKENWARN#" + at.astimezone(UTC).strftime("%Y-%m-%d")


def token_warning_sk(at: datetime, workspace_id: str, account_id: str) -> str:
    return f"{iso(at)}#{workspace_id}#{account_id}"


def grant_warning_sk(account_id: str, grant: str) -> str:
    return f"GRANTWARN#{account_id}#{grant}"


def calendar_pk(workspace_id: str) -> str:
    return f"CAL#{workspace_id}"


def calendar_sk(at: datetime, post_id: str) -> str:
    return f"{iso(at)}#{post_id}"


def paused_pk(workspace_id: str) -> str:
    return f"PAUSED#{workspace_id}"


def platform_account_pk(platform: str, platform_account_id: str) -> str:
    return f"PACCT#{platform}#{platform_account_id}"


def oauth_state_pk(state: str) -> str:
    """The state is a bearer secret its caller holds: only its hash names the item."""
    return f"OAUTH#{hashlib.sha256(state.encode()).hexdigest()}"


def media_prefix(workspace_id: str) -> str:
    """Where a workspace's uploads live in the media bucket; a post may only name keys under it."""
    return f"{workspace_id}/media/"


def target_id(post_id: str, account_id: str) -> str:
    """The publish target's id: also the idempotency key handed to platforms."""
    return f"{post_id}.{account_id}"


def due_sort_key(at: datetime, target_id: str) -> str:
    return f"{iso(at)}#{target_id}"


def iso(at: datetime) -> str:
    """UTC ISO-8601 with milliseconds: sorts lexically in time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def to_millis(at: datetime) -> datetime:
    """``at`` in UTC, cut to the millisecond :func:`iso` writes (a sort key's, a message's due time)."""
    return at.astimezone(UTC).replace(microsecond=at.microsecond // 1000 * 1000)


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)

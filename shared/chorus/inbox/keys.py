"""Key builders of the inbox's items in the main table (never inline f-strings elsewhere).

WS#<ws> / CONV#<conv>                            conversation (gsi2: INBOX#<ws> / <last activity>#<conv>;
                                                 gsi1, while an SLA alert is to come: SLADUE#<UTC hour> /
                                                 <alert time>#<ws>#<conv>#<stage>, chorus.inbox.sla)
WS#<ws> / MSG#<conv>#<time>#<msg>                one message of a conversation, in time order
WS#<ws> / INMSG#<platform>#<platform msg id>     dedupe marker (written with attribute_not_exists)
WS#<ws> / NOTE#<conv>#<time>#<note>              internal note on a conversation
WS#<ws> / REPLY#<reply>                          a reply sent from the inbox (its own state machine)
WS#<ws> / SAVEDREPLY#<id>                        saved reply (canned answer)
WS#<ws> / INBOXRULES                             the workspace's routing rules (keyword -> tag/assign/priority)
WS#<ws> / INBOXSLA                               the workspace's service levels (chorus.inbox.sla)
WS#<ws> / PRESENCE#<conv>#<user>                 someone has the conversation open (expires)
WS#<ws> / PPOST#<account>#<platform post id>     link: a published target's platform post -> Chorus post
WS#<ws> / POLLCUR#<account>                      poll cursor of an account (gsi2: POLL#<platform> / <ws>#<acct>)
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from chorus.store.keys import iso


def _short(*parts: str, size: int = 20) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:size]


def conversation_id(account_id: str, conversation_ref: str) -> str:
    """Deterministic: every delivery of a thread's messages lands in one conversation, without a lookup."""
    return "cv_" + _short(account_id, conversation_ref)


def message_id(platform: str, platform_message_id: str) -> str:
    return "m_" + _short(platform, platform_message_id)


def conversation_sk(conversation: str) -> str:
    return f"CONV#{conversation}"


def message_sk(conversation: str, at: datetime, message: str) -> str:
    return f"MSG#{conversation}#{iso(at)}#{message}"


def message_prefix(conversation: str) -> str:
    return f"MSG#{conversation}#"


def dedupe_sk(platform: str, platform_message_id: str) -> str:
    return f"INMSG#{platform}#{platform_message_id}"


def note_sk(conversation: str, at: datetime, note: str) -> str:
    return f"NOTE#{conversation}#{iso(at)}#{note}"


def note_prefix(conversation: str) -> str:
    return f"NOTE#{conversation}#"


def reply_sk(reply: str) -> str:
    return f"REPLY#{reply}"


def replies_index_pk(workspace_id: str, conversation: str) -> str:
    """gsi2 partition of one conversation's replies (a thread reads its own, not the workspace's)."""
    return f"REPLIES#{workspace_id}#{conversation}"


def saved_reply_sk(saved: str) -> str:
    return f"SAVEDREPLY#{saved}"


def rules_sk() -> str:
    return "INBOXRULES"


def sla_sk() -> str:
    return "INBOXSLA"


def presence_sk(conversation: str, user: str) -> str:
    return f"PRESENCE#{conversation}#{user}"


def presence_prefix(conversation: str) -> str:
    return f"PRESENCE#{conversation}#"


def post_link_sk(account_id: str, platform_post_id: str) -> str:
    return f"PPOST#{account_id}#{platform_post_id}"


def poll_cursor_sk(account_id: str) -> str:
    return f"POLLCUR#{account_id}"


def inbox_index_pk(workspace_id: str) -> str:
    return f"INBOX#{workspace_id}"


def inbox_index_sk(last_activity: datetime, conversation: str) -> str:
    return f"{iso(last_activity)}#{conversation}"


def poll_index_pk(platform: str) -> str:
    return f"POLL#{platform}"


def poll_index_sk(workspace_id: str, account_id: str) -> str:
    return f"{workspace_id}#{account_id}"

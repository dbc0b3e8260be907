"""Which conversations a caller may see: a member limited to some accounts sees only theirs (others
answer 404, as if absent), everyone else all of the workspace's."""

from __future__ import annotations

from chorus.auth.keys import Principal
from chorus.errors import NotFound
from chorus.inbox.store import get_conversation


def require_conversation(principal: Principal, conversation_id: str) -> None:
    """NotFound unless ``conversation_id`` belongs to one of the caller's accounts (free when the caller
    sees every account: nothing is read)."""
    if principal.accounts is None:
        return
    conv = get_conversation(principal.workspace_id, conversation_id)
    if conv is None or not principal.sees_account(conv.account_id):
        raise NotFound(f"conversation {conversation_id} not found")

"""Who may change the content library: contributors and above (viewers read it)."""

from __future__ import annotations

from chorus.auth.keys import Principal
from chorus.auth.roles import Role, at_least
from chorus.errors import Forbidden


def may_change(principal: Principal) -> None:
    if not at_least(principal.role, Role.CONTRIBUTOR):
        raise Forbidden("viewers cannot change the content library")

"""Roles of an API key within its workspace, from most to least powerful."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"  # composes, schedules and approves
    CONTRIBUTOR = "contributor"  # composes; posts need approval
    VIEWER = "viewer"  # reads only


_RANK = {Role.OWNER: 5, Role.ADMIN: 4, Role.EDITOR: 3, Role.CONTRIBUTOR: 2, Role.VIEWER: 1}


def at_least(role: Role, minimum: Role) -> bool:
    return _RANK[role] >= _RANK[minimum]


def can_approve(role: Role) -> bool:
    return at_least(role, Role.EDITOR)


def needs_approval(role: Role) -> bool:
    return role is Role.CONTRIBUTOR

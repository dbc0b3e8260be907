"""Roles of an API key within its workspace, from most to least powerful."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"  # composes, schedules and approves
    CONTRIBUTOR = "contributor"  # composes; posts need approval
    VIEWER = "viewer"  # reads only


class Scope(StrEnum):
    """What an API key may change (every scope reads the workspace, as a viewer would)."""

    READ = "read"  # reads only
    PUBLISH = "publish"  # posts, media, the queue, the calendar, pausing publishing
    INBOX = "inbox"  # conversations, replies, saved replies
    REPORTS = "reports"  # reports, their schedules, goals


_RANK = {Role.OWNER: 5, Role.ADMIN: 4, Role.EDITOR: 3, Role.CONTRIBUTOR: 2, Role.VIEWER: 1}


def at_least(role: Role, minimum: Role) -> bool:
    return _RANK[role] >= _RANK[minimum]


def lesser(a: Role, b: Role) -> Role:
    return a if _RANK[a] <= _RANK[b] else b


def can_approve(role: Role) -> bool:
    return at_least(role, Role.EDITOR)


def needs_approval(role: Role) -> bool:
    return role is Role.CONTRIBUTOR


# The role matrix: the least role each HTTP route needs (None: public, no key). The views ask for the
# same role (``principal(Role.X)``); tests/integration/test_roles.py checks every route of template.yaml
# against this table on the embedded runtime, and that docs/security.md shows this very table.
# Some routes check more inside: a contributor's post waits for approval, an admin cannot revoke an
# owner's key nor issue a key above its own role, an OAuth callback needs the key that started it.
ROUTE_ROLES: dict[tuple[str, str], Role | None] = {
    ("GET", "/health"): None,
    ("GET", "/openapi.json"): None,
    ("GET", "/workspace"): Role.VIEWER,
    ("PATCH", "/workspace"): Role.ADMIN,
    ("GET", "/members"): Role.VIEWER,
    ("PATCH", "/members/{user_id}"): Role.ADMIN,
    ("DELETE", "/members/{user_id}"): Role.VIEWER,  # anyone may leave; removing another needs admin
    ("GET", "/invitations"): Role.ADMIN,
    ("POST", "/invitations"): Role.ADMIN,
    ("DELETE", "/invitations/{invitation_id}"): Role.ADMIN,
    ("GET", "/audit"): Role.ADMIN,
    ("GET", "/keys"): Role.ADMIN,
    ("POST", "/keys"): Role.ADMIN,
    ("DELETE", "/keys/{key_id}"): Role.ADMIN,
    ("GET", "/accounts"): Role.VIEWER,
    ("POST", "/accounts"): Role.ADMIN,
    ("GET", "/accounts/{account_id}"): Role.VIEWER,
    ("DELETE", "/accounts/{account_id}"): Role.ADMIN,
    ("GET", "/accounts/connect/{platform}"): Role.ADMIN,
    ("GET", "/oauth/callback/{platform}"): Role.ADMIN,
    ("GET", "/posts"): Role.VIEWER,
    ("POST", "/posts"): Role.CONTRIBUTOR,
    ("POST", "/posts/import"): Role.CONTRIBUTOR,
    ("GET", "/posts/import/{job_id}"): Role.VIEWER,
    ("GET", "/posts/{post_id}"): Role.VIEWER,
    ("GET", "/posts/{post_id}/changes"): Role.VIEWER,
    ("PUT", "/posts/{post_id}"): Role.CONTRIBUTOR,
    ("DELETE", "/posts/{post_id}"): Role.CONTRIBUTOR,
    ("POST", "/posts/{post_id}/approve"): Role.EDITOR,
    ("POST", "/posts/{post_id}/reject"): Role.EDITOR,
    ("POST", "/posts/{post_id}/retry"): Role.EDITOR,
    ("POST", "/posts/{post_id}/targets/{account_id}/posted"): Role.CONTRIBUTOR,
    ("GET", "/notifications"): Role.VIEWER,
    ("POST", "/notifications/{notification_id}/read"): Role.VIEWER,
    ("POST", "/notifications/read"): Role.VIEWER,  # many of one's own at once ("mark all read")
    ("POST", "/media"): Role.CONTRIBUTOR,
    ("GET", "/calendar"): Role.VIEWER,
    ("GET", "/queue/slots"): Role.VIEWER,
    ("PUT", "/queue/slots"): Role.EDITOR,
    ("GET", "/publishing"): Role.VIEWER,
    ("POST", "/publishing/pause"): Role.EDITOR,
    ("POST", "/publishing/resume"): Role.EDITOR,
    ("GET", "/inbox"): Role.VIEWER,
    ("GET", "/inbox/rules"): Role.VIEWER,
    ("PUT", "/inbox/rules"): Role.ADMIN,
    ("GET", "/inbox/sla"): Role.VIEWER,
    ("PUT", "/inbox/sla"): Role.ADMIN,
    ("DELETE", "/inbox/sla"): Role.ADMIN,
    ("POST", "/inbox/{conversation_id}/presence"): Role.VIEWER,
    ("GET", "/inbox/{conversation_id}"): Role.VIEWER,
    ("POST", "/inbox/{conversation_id}/assign"): Role.CONTRIBUTOR,
    ("POST", "/inbox/{conversation_id}/tags"): Role.CONTRIBUTOR,
    ("POST", "/inbox/{conversation_id}/status"): Role.CONTRIBUTOR,
    ("POST", "/inbox/{conversation_id}/priority"): Role.CONTRIBUTOR,
    ("POST", "/inbox/{conversation_id}/notes"): Role.CONTRIBUTOR,
    ("POST", "/inbox/{conversation_id}/reply"): Role.CONTRIBUTOR,
    ("PUT", "/inbox/{conversation_id}/messages/{message_id}/sentiment"): Role.EDITOR,
    ("GET", "/saved_replies"): Role.VIEWER,
    ("POST", "/saved_replies"): Role.EDITOR,
    ("DELETE", "/saved_replies/{saved_id}"): Role.EDITOR,
    ("GET", "/monitors"): Role.VIEWER,
    ("POST", "/monitors"): Role.EDITOR,
    ("DELETE", "/monitors/{monitor_id}"): Role.EDITOR,
    ("GET", "/listening/mentions"): Role.VIEWER,
    ("PUT", "/listening/mentions/{mention_id}/sentiment"): Role.EDITOR,
    ("GET", "/listening/series"): Role.VIEWER,
    ("GET", "/listening/share-of-voice"): Role.VIEWER,
    ("GET", "/listening/settings"): Role.VIEWER,
    ("PUT", "/listening/settings"): Role.ADMIN,
    ("GET", "/incidents"): Role.VIEWER,
    ("POST", "/incidents/{incident_id}/acknowledge"): Role.EDITOR,
    ("POST", "/incidents/{incident_id}/resolve"): Role.EDITOR,
    ("GET", "/reports"): Role.VIEWER,
    ("GET", "/reports/jobs/{job_id}"): Role.VIEWER,
    ("GET", "/reports/schedules"): Role.VIEWER,
    ("PUT", "/reports/schedules"): Role.EDITOR,
    ("GET", "/goals"): Role.VIEWER,
    ("PUT", "/goals"): Role.EDITOR,
    ("GET", "/insights/best-times"): Role.VIEWER,
    ("GET", "/l/{code}"): None,  # a short link: redirected for anyone (chorus.links)
    ("GET", "/pixel/{token}"): None,  # a campaign's conversion pixel: its token is the credential
    ("GET", "/links/settings"): Role.VIEWER,
    ("PUT", "/links/settings"): Role.ADMIN,
    ("PATCH", "/links/{code}"): Role.EDITOR,
    ("GET", "/links/report"): Role.VIEWER,
    ("GET", "/posts/{post_id}/links"): Role.VIEWER,
    ("GET", "/campaigns"): Role.VIEWER,
    ("POST", "/campaigns"): Role.EDITOR,
    ("GET", "/campaigns/{campaign_id}"): Role.VIEWER,
    ("PATCH", "/campaigns/{campaign_id}"): Role.EDITOR,
    ("DELETE", "/campaigns/{campaign_id}"): Role.EDITOR,
    ("GET", "/campaigns/{campaign_id}/conversions"): Role.VIEWER,
    ("POST", "/campaigns/{campaign_id}/conversions"): Role.CONTRIBUTOR,
    ("GET", "/campaigns/{campaign_id}/report"): Role.VIEWER,
    ("GET", "/templates"): Role.VIEWER,
    ("POST", "/templates"): Role.CONTRIBUTOR,
    ("GET", "/templates/{template_id}"): Role.VIEWER,
    ("PUT", "/templates/{template_id}"): Role.CONTRIBUTOR,
    ("DELETE", "/templates/{template_id}"): Role.CONTRIBUTOR,
    ("POST", "/templates/{template_id}/render"): Role.VIEWER,
    ("GET", "/hashtag-groups"): Role.VIEWER,
    ("POST", "/hashtag-groups"): Role.CONTRIBUTOR,
    ("GET", "/hashtag-groups/{group_id}"): Role.VIEWER,
    ("PUT", "/hashtag-groups/{group_id}"): Role.CONTRIBUTOR,
    ("DELETE", "/hashtag-groups/{group_id}"): Role.CONTRIBUTOR,
    ("GET", "/media"): Role.VIEWER,
    ("GET", "/media/{media_id}"): Role.VIEWER,
    ("PATCH", "/media/{media_id}"): Role.CONTRIBUTOR,
    ("DELETE", "/media/{media_id}"): Role.CONTRIBUTOR,
    ("GET", "/competitors"): Role.VIEWER,
    ("POST", "/competitors"): Role.EDITOR,
    ("GET", "/competitors/{competitor_id}"): Role.VIEWER,
    ("DELETE", "/competitors/{competitor_id}"): Role.EDITOR,
    ("GET", "/reports/benchmark"): Role.VIEWER,
}

# Routes of a signed-in person rather than of a workspace: a Cognito token, no workspace named (their
# workspaces, creating one, accepting an invitation, signing out everywhere). API keys are refused there.
USER_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/me"),
        ("POST", "/me/sign-out"),
        ("POST", "/workspaces"),
        ("POST", "/invitations/accept"),
    }
)

# What a scoped API key may change, by the route's first path segment; every scope reads (GET).
_SCOPE_OF_AREA = {
    "posts": Scope.PUBLISH,
    "media": Scope.PUBLISH,
    "templates": Scope.PUBLISH,  # the content library is the composer's
    "hashtag-groups": Scope.PUBLISH,
    "calendar": Scope.PUBLISH,
    "queue": Scope.PUBLISH,
    "publishing": Scope.PUBLISH,
    "notifications": Scope.READ,  # marking one's own notification read changes nothing of the workspace
    "inbox": Scope.INBOX,
    "saved_replies": Scope.INBOX,
    "reports": Scope.REPORTS,
    "goals": Scope.REPORTS,
    "links": Scope.PUBLISH,
    "campaigns": Scope.PUBLISH,
    "competitors": Scope.REPORTS,  # whom the benchmark report compares the workspace with
}


def route_scope(method: str, path: str) -> Scope | None:
    """The scope a key needs for ``method path`` (a route template); None: only a key without scopes
    (members, keys, accounts, monitors, settings: administration is never delegated to a scoped key)."""
    if method.upper() in ("GET", "HEAD", "OPTIONS"):
        return Scope.READ
    return _SCOPE_OF_AREA.get(path.strip("/").split("/")[0])


def scope_allows(scopes: frozenset[Scope] | None, method: str, path: str) -> bool:
    if scopes is None:
        return True
    needed = route_scope(method, path)
    return needed is not None and (needed is Scope.READ or needed in scopes)

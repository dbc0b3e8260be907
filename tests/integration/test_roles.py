"""The role matrix, route by route, on the embedded runtime: the table in ``chorus.auth.roles`` covers
every route of template.yaml, each route lets the roles the table names through (not 403) and refuses the
ones below (403), and docs/security.md shows that same table. Also: who may revoke which key, and what
revoking a key does to the WebSocket connections it opened; what connecting an account over the API
stores."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from chorus.auth import members
from chorus.auth.keys import parse_key
from chorus.auth.roles import ROUTE_ROLES, USER_ROUTES, Role, at_least, route_scope
from tests.integration.harness import Chorus, closed_within

REPO = Path(__file__).resolve().parents[2]
ROLES = [Role.OWNER, Role.ADMIN, Role.EDITOR, Role.CONTRIBUTOR, Role.VIEWER]
PARAMS = {"platform": "x"}  # a path parameter the route checks before anything else
# What each route is sent (an empty body of a type it takes: the role is checked before the body)
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/posts/import"): {"data": b"", "headers": {"Content-Type": "text/csv"}},
}


def new_keys(chorus: Chorus) -> dict[Role, str]:
    """A fresh workspace with one key of each role."""
    _, owner = chorus.workspace("Roles")
    made = {Role.OWNER: owner}
    for role in ROLES[1:]:
        answer = chorus.call("POST", "/keys", owner, json={"name": role.value, "role": role.value})
        assert answer.status_code == 201, answer.text
        made[role] = answer.json()["key"]
    return made


@dataclass
class Callers:
    """One credential per role in one workspace, and the workspace to name with a sign-in token."""

    workspace: str | None
    credentials: dict[Role, str]


def new_people(chorus: Chorus, limited_to: set[str] | None = None) -> Callers:
    """A workspace of people signed in with the pool's tokens: its owner created it (POST /workspaces),
    the others are members with one role each (limited to ``limited_to`` accounts, when given)."""
    tag = uuid.uuid4().hex[:8]
    owner = chorus.person(f"owner-{tag}@roles.test")
    made = chorus.call("POST", "/workspaces", owner.id_token, json={"name": "Roles"})
    assert made.status_code == 201, made.text
    workspace = made.json()["id"]
    tokens = {Role.OWNER: owner.id_token}
    for role in ROLES[1:]:
        person = chorus.person(f"{role.value}-{tag}@roles.test")
        members.add_member(workspace, person.user_id, person.email, role, limited_to)
        tokens[role] = person.id_token
    return Callers(workspace, tokens)


def key_id(key: str) -> str:
    parsed = parse_key(key)
    assert parsed is not None
    return parsed.key_id


def template_routes() -> set[tuple[str, str]]:
    from chorus.local.template import Template

    api = Template.load(REPO / "template.yaml").resources["ApiFunction"]["Properties"]["Events"]
    return {
        (e["Properties"]["Method"].upper(), e["Properties"]["Path"])
        for e in api.values()
        if e["Type"] == "Api"
    }


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAMS.get(m.group(1), f"no-such-{m.group(1)}"), path)


def test_the_role_table_names_every_route_of_the_template_and_no_other() -> None:
    assert set(ROUTE_ROLES) | USER_ROUTES == template_routes()
    assert not set(ROUTE_ROLES) & USER_ROUTES


@pytest.mark.parametrize("credential", ["api key", "sign-in token", "sign-in token, limited to one account"])
def test_every_route_lets_the_roles_of_the_table_through_and_refuses_the_others(
    chorus: Chorus, credential: str
) -> None:
    # Given one caller of each role: API keys, or people signed in with Cognito tokens (some limited to
    # one account: a restriction of accounts never changes what a role may do)
    if credential == "api key":
        callers = Callers(None, new_keys(chorus))
    else:
        callers = new_people(chorus, {"acct-only"} if "limited" in credential else None)
    wrong: list[str] = []
    for (method, path), least in sorted(ROUTE_ROLES.items(), key=lambda r: (r[0][1], r[0][0])):
        if method == "DELETE" and path in ("/keys/{key_id}", "/members/{user_id}"):
            continue  # revoking and removing: tested with real keys and members (made-up ids answer 404)
        for role in ROLES:
            # When each role calls the route (an empty JSON body: the role is checked before the body)
            answer = chorus.call(
                method,
                concrete(path),
                callers.credentials[role],
                callers.workspace,
                **BODIES.get((method, path), {"json": {}}),
            )
            allowed = least is None or at_least(role, least)
            # Then roles at or above the table's are never refused for their role; the others get 403
            if (answer.status_code == 403) == allowed:
                wrong.append(f"{method} {path} as {role}: {answer.status_code} {answer.text[:160]}")
    assert wrong == [], "\n".join(wrong)


def test_public_routes_need_no_key_and_every_other_route_refuses_a_missing_one(chorus: Chorus) -> None:
    for (method, path), least in ROUTE_ROLES.items():
        answer = chorus.call(method, concrete(path), json={})
        assert (answer.status_code == 401) == (least is not None), f"{method} {path}: {answer.status_code}"
    # And the routes of people refuse no credential and an API key alike
    _, owner_key = chorus.workspace("People routes")
    for method, path in USER_ROUTES:
        for key in (None, owner_key):
            answer = chorus.call(method, path, key, json={})
            assert answer.status_code == 401, f"{method} {path}: {answer.status_code}"
            assert answer.headers["Content-Type"] == "application/problem+json"


def docs_matrix() -> dict[tuple[str, str], list[str]]:
    text = (REPO / "docs" / "security.md").read_text()
    rows: dict[tuple[str, str], list[str]] = {}
    for line in text.splitlines():
        m = re.match(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/\S*)` \|(.*)\|$", line)
        if m:
            rows[(m.group(1), m.group(2))] = [c.strip() for c in m.group(3).split("|")]
    return rows


def test_docs_security_md_shows_the_code_s_role_table() -> None:
    def scope(method: str, path: str) -> str:
        needed = route_scope(method, path)
        return needed.value if needed else "an unscoped key"

    expected = {
        route: ["public"] * 5 + ["—"]
        if least is None
        else [*("✓" if at_least(r, least) else "—" for r in ROLES), scope(*route)]
        for route, least in ROUTE_ROLES.items()
    }
    expected.update({route: ["any signed-in person"] for route in USER_ROUTES})
    assert docs_matrix() == expected


def test_an_admin_cannot_revoke_an_owner_s_key_nor_an_editor_an_admin_s(chorus: Chorus) -> None:
    keys = new_keys(chorus)
    # When an admin revokes the owner's key
    refused = chorus.call("DELETE", f"/keys/{key_id(keys[Role.OWNER])}", keys[Role.ADMIN])
    # Then it is refused and the owner's key still works
    assert refused.status_code == 403, refused.text
    assert chorus.call("GET", "/keys", keys[Role.OWNER]).status_code == 200
    # And an editor revokes nothing, not even a viewer's key
    assert chorus.call("DELETE", f"/keys/{key_id(keys[Role.VIEWER])}", keys[Role.EDITOR]).status_code == 403
    # While an admin revokes an editor's key, and an owner another admin's
    assert chorus.call("DELETE", f"/keys/{key_id(keys[Role.EDITOR])}", keys[Role.ADMIN]).status_code == 204
    assert chorus.call("DELETE", f"/keys/{key_id(keys[Role.ADMIN])}", keys[Role.OWNER]).status_code == 204
    assert chorus.call("GET", "/workspace", keys[Role.EDITOR]).status_code == 401
    assert chorus.call("GET", "/workspace", keys[Role.ADMIN]).status_code == 401


def test_revoking_a_key_closes_the_websocket_connections_it_opened_at_once(chorus: Chorus) -> None:
    keys = new_keys(chorus)
    url = chorus.rt.ws_url + "/?key={}"
    # Given a viewer's two live connections and the owner's one
    viewer_sockets = [connect(url.format(keys[Role.VIEWER]), legacy=True) for _ in range(2)]
    owner_socket = connect(url.format(keys[Role.OWNER]), legacy=True)
    sockets: list[Any] = [*viewer_sockets, owner_socket]
    try:
        # When the owner revokes the viewer's key
        answer = chorus.call("DELETE", f"/keys/{key_id(keys[Role.VIEWER])}", keys[Role.OWNER])
        assert answer.status_code == 204, answer.text
        # Then both of the viewer's connections are closed at once, not when they expire in two hours
        assert all(closed_within(s, 30.0) for s in viewer_sockets)
        # And the owner's stays open, and the revoked key cannot open a new one
        assert not closed_within(owner_socket, 0.3)
        with pytest.raises(Exception, match=r"401|403"):
            connect(url.format(keys[Role.VIEWER]), legacy=True)
    finally:
        for s in sockets:
            s.close()


def test_a_post_cannot_name_another_workspace_s_upload(chorus: Chorus) -> None:
    # Given two workspaces, each with an upload of its own
    mine, theirs = new_keys(chorus), new_keys(chorus)
    account = chorus.sandbox_account(mine[Role.OWNER], handle="brand-media")
    uploads = [
        chorus.call(
            "POST", "/media", k[Role.EDITOR], json={"filename": "a.png", "mime_type": "image/png", "size": 10}
        )
        for k in (mine, theirs)
    ]
    assert [u.status_code for u in uploads] == [201, 201]
    own_key, other_key = (u.json()["key"] for u in uploads)

    def draft(media_key: str) -> Any:
        media = [{"key": media_key, "mime_type": "image/png", "size": 10}]
        return chorus.call(
            "POST",
            "/posts",
            mine[Role.EDITOR],
            json={"text": "hi", "accounts": [account], "mode": "draft", "media": media},
        )

    # When a post names the other workspace's upload, or climbs out of its own prefix
    for foreign in (other_key, own_key.split("/media/")[0] + "/media/../../" + other_key):
        refused = draft(foreign)
        # Then it is refused naming the media key
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "media[0].key"
    # And its own upload is accepted
    assert draft(own_key).status_code == 201


def test_connecting_over_the_api_stores_the_account_the_platform_names(chorus: Chorus) -> None:
    keys = new_keys(chorus)

    def connect(body: dict[str, str]) -> Any:
        return chorus.call("POST", "/accounts", keys[Role.ADMIN], json={"platform": "sandbox", **body})

    # When an admin names an account with a token the sandbox says is another one's
    refused = connect({"platform_account_id": "brand-a", "access_token": "tok-brand-b"})
    # Then it is refused, naming the account, and nothing is connected
    assert refused.status_code == 403, refused.text
    assert refused.json()["errors"][0]["field"] == "platform_account_id"
    # And a token the platform does not know names the token
    unknown = connect({"platform_account_id": "brand-a", "access_token": "not-a-sandbox-token"})
    assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (400, "access_token")
    assert chorus.call("GET", "/accounts", keys[Role.ADMIN]).json()["accounts"] == []
    # While the token alone connects the account it belongs to, whatever handle was typed
    made = connect({"access_token": "tok-brand-b", "handle": "typed"})
    assert made.status_code == 201, made.text
    assert (made.json()["platform_account_id"], made.json()["handle"]) == ("brand-b", "brand-b")

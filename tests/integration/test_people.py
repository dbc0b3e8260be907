"""People and teams on the embedded runtime, with the template's Cognito user pool on moto: real sign-up,
sign-in, JWTs verified against the pool's JWKS, invitations e-mailed through SES, members with a role in
many workspaces, removal that holds from the next request (API and WebSocket), sign-out everywhere, keys
that belong to members, accounts a member may see, and the audit log."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
import requests
from websockets.sync.client import connect

from tests.integration.harness import Chorus, Person, closed_within

MAIL_FROM = "invitations@chorus.test"
APP_URL = "https://app.chorus.test"


@pytest.fixture(scope="module")
def chorus() -> Iterator[Chorus]:
    c = Chorus(parameters={"MailFrom": MAIL_FROM, "AppUrl": APP_URL})
    yield c
    c.close()


def email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}@people.test"


def new_workspace(chorus: Chorus, owner: Person, name: str = "Agency") -> str:
    made = chorus.call("POST", "/workspaces", owner.id_token, json={"name": name, "timezone": "Europe/Paris"})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def sent_invitation_token(chorus: Chorus, to: str) -> str:
    """The token of the last invitation SES was asked to send to ``to`` (moto keeps what it was sent)."""
    data = requests.get(f"{chorus.rt.endpoint}/moto-api/data.json", timeout=30).json()
    for message in reversed(data.get("ses", {}).get("RawMessage", [])):
        if to in message.get("destinations", []) or to in str(message.get("raw_data", "")):
            raw = str(message["raw_data"])
            found = re.findall(r"token=(inv_[A-Za-z0-9_-]+)", _decoded(raw))
            if found:
                return found[0]
    raise AssertionError(f"no invitation was e-mailed to {to}")


def _decoded(raw: str) -> str:
    """The text parts of a MIME message (base64 in SES's raw message)."""
    import email as mime

    parsed = mime.message_from_string(raw)
    texts = [
        str(p.get_payload(decode=True), "utf-8")
        for p in parsed.walk()
        if p.get_content_type() == "text/plain"
    ]
    return "\n".join(texts)


def invite(
    chorus: Chorus, admin: Person, workspace: str, to: str, role: str, **extra: Any
) -> requests.Response:
    return chorus.call(
        "POST", "/invitations", admin.id_token, workspace, json={"email": to, "role": role, **extra}
    )


def join(chorus: Chorus, admin: Person, workspace: str, role: str, **extra: Any) -> Person:
    """A new person invited by ``admin`` who signs up and accepts (the whole flow)."""
    address = email(role)
    assert invite(chorus, admin, workspace, address, role, **extra).status_code == 201
    person = chorus.person(address)
    accepted = chorus.call(
        "POST", "/invitations/accept", person.id_token, json={"token": sent_invitation_token(chorus, address)}
    )
    assert accepted.status_code == 201, accepted.text
    return person


def audit(chorus: Chorus, admin: Person, workspace: str, **filters: str) -> list[dict[str, Any]]:
    answer = chorus.call("GET", "/audit", admin.id_token, workspace, params={"limit": "100", **filters})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["entries"])


# ---------------------------------------------------------------------------- sign-in and workspaces


def test_a_person_signs_up_creates_a_workspace_and_works_in_it_with_the_pool_s_tokens(chorus: Chorus) -> None:
    # Given a person who signed up and signed in with the user pool
    ana = chorus.person(email("ana"))
    # When she creates a workspace
    workspace = new_workspace(chorus, ana)
    # Then GET /me lists it with her role, and the API answers her ID and access tokens alike
    me = chorus.call("GET", "/me", ana.id_token).json()
    assert me["user_id"] == ana.user_id
    assert me["email"] == ana.email
    assert [(w["workspace_id"], w["name"], w["role"]) for w in me["workspaces"]] == [
        (workspace, "Agency", "owner")
    ]
    for token in (ana.id_token, ana.access_token):
        answer = chorus.call("GET", "/workspace", token, workspace)
        assert answer.status_code == 200, answer.text
        assert answer.json()["timezone"] == "Europe/Paris"
    # And a request that names no workspace is refused, naming the header
    unnamed = chorus.call("GET", "/workspace", ana.id_token)
    assert unnamed.status_code == 403
    assert "X-Chorus-Workspace" in unnamed.json()["detail"]


def test_a_person_switches_between_workspaces_and_is_refused_where_not_a_member(chorus: Chorus) -> None:
    # Given a manager with two client workspaces, and a workspace of someone else
    ana, bo = chorus.person(email("ana")), chorus.person(email("bo"))
    first, second = new_workspace(chorus, ana, "Client A"), new_workspace(chorus, ana, "Client B")
    foreign = new_workspace(chorus, bo, "Not hers")
    # When she renames each through the same token, switching the workspace header
    for workspace, name in ((first, "Client A (EU)"), (second, "Client B (US)")):
        answer = chorus.call("PATCH", "/workspace", ana.id_token, workspace, json={"name": name})
        assert answer.status_code == 200, answer.text
    # Then each changed apart
    assert chorus.call("GET", "/workspace", ana.id_token, first).json()["name"] == "Client A (EU)"
    assert chorus.call("GET", "/workspace", ana.id_token, second).json()["name"] == "Client B (US)"
    assert sorted(w["name"] for w in chorus.call("GET", "/me", ana.id_token).json()["workspaces"]) == [
        "Client A (EU)",
        "Client B (US)",
    ]
    # And the workspace she is no member of refuses her (403, a problem body), reads and writes alike
    for method in ("GET", "PATCH"):
        refused = chorus.call(method, "/workspace", ana.id_token, foreign, json={"name": "mine"})
        assert refused.status_code == 403, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
    assert chorus.call("GET", "/workspace", bo.id_token, foreign).json()["name"] == "Not hers"


def _forged(claims: dict[str, Any], key: Any = None) -> str:
    """A token signed with the key moto signs the pool's tokens with (as an attacker never could)."""
    from moto.utilities.utils import load_resource

    private = load_resource("cognitoidp/resources/jwks-private.json")
    signing = jwt.PyJWK(private, algorithm="RS256").key if key is None else key
    return jwt.encode(claims, signing, algorithm="RS256", headers={"kid": "dummy"})


def test_expired_tampered_and_foreign_tokens_are_refused_with_a_401_problem(chorus: Chorus) -> None:
    ana = chorus.person(email("ana"))
    workspace = new_workspace(chorus, ana)
    claims = jwt.decode(ana.id_token, options={"verify_signature": False})
    now = int(time.time())
    header, payload, signature = ana.id_token.split(".")
    raised = json.loads(base64.urlsafe_b64decode(payload + "=="))
    raised["email"] = "someone-else@people.test"
    tampered_payload = base64.urlsafe_b64encode(json.dumps(raised).encode()).decode().rstrip("=")
    cases = {
        "expired": _forged({**claims, "iat": now - 7200, "exp": now - 3600}),
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "another pool": _forged({**claims, "iss": claims["iss"].rsplit("/", 1)[0] + "/us-east-1_other"}),
        "another app client": _forged({**claims, "aud": "someone-elses-client"}),
        "a refresh-kind token": _forged({**claims, "token_use": "refresh"}),
        "unsigned": jwt.encode({**claims}, None, algorithm="none"),  # type: ignore[arg-type]
        "not a token": "eyJhbGciOi.garbage.here",
    }
    for case, token in cases.items():
        # When the API is called with it
        answer = chorus.call("GET", "/workspace", token, workspace)
        # Then it is a 401 problem body, whatever was wrong
        assert answer.status_code == 401, (case, answer.text)
        assert answer.headers["Content-Type"] == "application/problem+json", case
        assert answer.json()["title"] == "Unauthorized", case
    # While the same claims, still valid and signed by the pool, pass
    assert chorus.call("GET", "/workspace", _forged(claims), workspace).status_code == 200


def test_a_refreshed_token_works_and_signing_out_everywhere_ends_every_token(chorus: Chorus) -> None:
    from chorus.auth.pool import default_pool

    pool = default_pool()
    assert pool is not None
    ana = chorus.person(email("ana"))
    workspace = new_workspace(chorus, ana)
    # Given tokens from a refresh (a second device)
    assert ana.refresh_token is not None
    time.sleep(1.1)  # the tokens of a new session are issued a second later than the old ones
    second = pool.refresh(ana.refresh_token)
    assert chorus.call("GET", "/workspace", second.id_token, workspace).status_code == 200
    # When she signs out everywhere (with her access token: the pool's global sign-out takes it)
    assert chorus.call("POST", "/me/sign-out", ana.id_token).status_code == 422  # an ID token cannot
    out = chorus.call("POST", "/me/sign-out", ana.access_token)
    assert out.status_code == 200, out.text
    # Then every token issued until now is refused, refreshing fails, and a new sign-in works
    for token in (ana.id_token, ana.access_token, second.id_token, second.access_token):
        assert chorus.call("GET", "/workspace", token, workspace).status_code == 401
    with pytest.raises(Exception, match="refresh token was refused"):
        pool.refresh(ana.refresh_token)
    time.sleep(1.1)
    again = pool.sign_in(ana.email, "Correct-Horse-9-battery")
    assert chorus.call("GET", "/workspace", again.id_token, workspace).status_code == 200


# ---------------------------------------------------------------------------- invitations and members


def test_an_invitation_is_e_mailed_accepted_once_by_its_address_and_adds_the_member(chorus: Chorus) -> None:
    ana = chorus.person(email("ana"))
    workspace = new_workspace(chorus, ana)
    # When she invites a client's marketing lead as an editor
    address = email("lead")
    made = invite(chorus, ana, workspace, address.upper(), "editor")
    assert made.status_code == 201, made.text
    assert made.json()["email"] == address
    assert made.json()["state"] == "pending"
    assert "token" not in made.text
    assert "inv_" not in made.text
    token = sent_invitation_token(chorus, address)
    # Then someone signed in with another address cannot use the link
    stranger = chorus.person(email("stranger"))
    refused = chorus.call("POST", "/invitations/accept", stranger.id_token, json={"token": token})
    assert refused.status_code == 403
    assert address in refused.json()["detail"]
    # While the invited person, new to the pool, signs up and accepts
    lead = chorus.person(address)
    accepted = chorus.call("POST", "/invitations/accept", lead.id_token, json={"token": token})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["role"] == "editor"
    assert accepted.json()["workspace_id"] == workspace
    # And works there as an editor (schedules, cannot manage members)
    assert chorus.call("GET", "/workspace", lead.id_token, workspace).status_code == 200
    assert chorus.call("PATCH", "/workspace", lead.id_token, workspace, json={"name": "x"}).status_code == 403
    # And the link works once, and a forged secret is unknown
    again = chorus.call("POST", "/invitations/accept", lead.id_token, json={"token": token})
    assert again.status_code == 409
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    assert (
        chorus.call("POST", "/invitations/accept", lead.id_token, json={"token": forged}).status_code == 404
    )
    listed = chorus.call("GET", "/invitations", ana.id_token, workspace).json()["invitations"]
    assert [(i["email"], i["state"]) for i in listed] == [(address, "accepted")]


def test_an_existing_person_accepts_and_an_admin_cannot_invite_above_their_role(chorus: Chorus) -> None:
    ana = chorus.person(email("ana"))
    workspace = new_workspace(chorus, ana)
    admin = join(chorus, ana, workspace, "admin")
    # An admin invites an existing person (already in the pool, with a workspace of their own)
    existing = chorus.person(email("existing"))
    new_workspace(chorus, existing, "Their own")
    assert invite(chorus, admin, workspace, existing.email, "viewer").status_code == 201
    token = sent_invitation_token(chorus, existing.email)
    assert (
        chorus.call("POST", "/invitations/accept", existing.id_token, json={"token": token}).status_code
        == 201
    )
    assert sorted(w["role"] for w in chorus.call("GET", "/me", existing.id_token).json()["workspaces"]) == [
        "owner",
        "viewer",
    ]
    # But an admin cannot invite an owner, an editor invites nobody, a member cannot be invited twice
    assert invite(chorus, admin, workspace, email("boss"), "owner").status_code == 403
    editor = join(chorus, ana, workspace, "editor")
    assert invite(chorus, editor, workspace, email("friend"), "viewer").status_code == 403
    assert invite(chorus, ana, workspace, existing.email, "editor").status_code == 409
    # And a revoked invitation cannot be accepted
    late = email("late")
    made = invite(chorus, ana, workspace, late, "viewer").json()
    assert (
        chorus.call("DELETE", f"/invitations/{made['invitation_id']}", ana.id_token, workspace).status_code
        == 200
    )
    person = chorus.person(late)
    token = sent_invitation_token(chorus, late)
    assert (
        chorus.call("POST", "/invitations/accept", person.id_token, json={"token": token}).status_code == 409
    )


def test_an_expired_invitation_is_refused(chorus: Chorus) -> None:
    from chorus.store import keys
    from chorus.store.models import InvitationItem

    ana = chorus.person(email("ana"))
    workspace = new_workspace(chorus, ana)
    address = email("slow")
    made = invite(chorus, ana, workspace, address, "viewer").json()
    # Given the invitation's week has passed
    item = InvitationItem.get(keys.workspace_pk(workspace), keys.invitation_sk(made["invitation_id"]))
    item.update(actions=[InvitationItem.valid_until.set(item.created_at)])
    person = chorus.person(address)
    refused = chorus.call(
        "POST", "/invitations/accept", person.id_token, json={"token": sent_invitation_token(chorus, address)}
    )
    assert refused.status_code == 409
    assert "expired" in refused.json()["detail"]
    assert (
        chorus.call("GET", "/invitations", ana.id_token, workspace).json()["invitations"][0]["state"]
        == "expired"
    )


def test_a_removed_member_loses_access_at_once_api_websocket_and_keys(chorus: Chorus) -> None:
    ana = chorus.person(email("ana"))
    workspace = new_workspace(chorus, ana)
    bo = join(chorus, ana, workspace, "admin")
    # Given Bo works signed in, with a live WebSocket and an API key of his own
    socket = connect(f"{chorus.rt.ws_url}/?token={bo.id_token}&workspace={workspace}", legacy=True)
    made = chorus.call(
        "POST", "/keys", bo.id_token, workspace, json={"name": "bo's script", "role": "editor"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["member_id"] == bo.user_id
    bo_key = made.json()["key"]
    assert chorus.call("GET", "/posts", bo_key).status_code == 200
    try:
        # When Ana removes him
        removed = chorus.call("DELETE", f"/members/{bo.user_id}", ana.id_token, workspace)
        assert removed.status_code == 204, removed.text
        # Then his next request is refused, his key with it, and his live connection is closed now
        assert chorus.call("GET", "/workspace", bo.id_token, workspace).status_code == 403
        assert chorus.call("GET", "/posts", bo_key).status_code == 401
        assert closed_within(socket, 30.0)
        with pytest.raises(Exception, match=r"401|403"):
            connect(f"{chorus.rt.ws_url}/?token={bo.id_token}&workspace={workspace}", legacy=True)
        assert workspace not in [
            w["workspace_id"] for w in chorus.call("GET", "/me", bo.id_token).json()["workspaces"]
        ]
    finally:
        socket.close()


def test_the_last_owner_can_neither_leave_nor_be_demoted(chorus: Chorus) -> None:
    ana = chorus.person(email("ana"))
    workspace = new_workspace(chorus, ana)
    bo = join(chorus, ana, workspace, "admin")
    # The only owner cannot demote herself nor leave
    demoted = chorus.call("PATCH", f"/members/{ana.user_id}", ana.id_token, workspace, json={"role": "admin"})
    assert demoted.status_code == 409
    assert "last owner" in demoted.json()["detail"]
    assert chorus.call("DELETE", f"/members/{ana.user_id}", ana.id_token, workspace).status_code == 409
    # An admin can neither demote nor remove an owner, nor make himself one
    assert (
        chorus.call(
            "PATCH", f"/members/{ana.user_id}", bo.id_token, workspace, json={"role": "viewer"}
        ).status_code
        == 403
    )
    assert (
        chorus.call(
            "PATCH", f"/members/{bo.user_id}", bo.id_token, workspace, json={"role": "owner"}
        ).status_code
        == 403
    )
    # Once she makes Bo an owner, she may leave; then Bo is the last one
    promoted = chorus.call("PATCH", f"/members/{bo.user_id}", ana.id_token, workspace, json={"role": "owner"})
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "owner"
    assert chorus.call("DELETE", f"/members/{ana.user_id}", ana.id_token, workspace).status_code == 204
    assert chorus.call("DELETE", f"/members/{bo.user_id}", bo.id_token, workspace).status_code == 409
    assert [m["role"] for m in chorus.call("GET", "/members", bo.id_token, workspace).json()["members"]] == [
        "owner"
    ]


def test_api_keys_of_members_carry_scopes_and_expiry_and_never_more_than_their_member(chorus: Chorus) -> None:
    ana = chorus.person(email("ana"))
    workspace = new_workspace(chorus, ana)
    bo = join(chorus, ana, workspace, "admin")

    def key(body: dict[str, Any]) -> str:
        made = chorus.call("POST", "/keys", bo.id_token, workspace, json={"name": "k", **body})
        assert made.status_code == 201, made.text
        return str(made.json()["key"])

    read_only = key({"role": "admin", "scopes": ["read"]})
    inbox_only = key({"role": "editor", "scopes": ["inbox"]})
    admin_key = key({"role": "admin"})
    past = chorus.call(
        "POST",
        "/keys",
        bo.id_token,
        workspace,
        json={"name": "k", "role": "viewer", "valid_until": "2020-01-01T00:00:00Z"},
    )
    assert past.status_code == 422
    assert past.json()["errors"][0]["field"] == "valid_until"
    # A read-only key reads and changes nothing; an inbox key cannot publish nor administer
    assert chorus.call("GET", "/posts", read_only).status_code == 200
    assert chorus.call("POST", "/posts", read_only, json={"text": "hi", "accounts": ["a"]}).status_code == 403
    assert (
        chorus.call("POST", "/posts", inbox_only, json={"text": "hi", "accounts": ["a"]}).status_code == 403
    )
    assert chorus.call("POST", "/keys", inbox_only, json={"name": "x", "role": "viewer"}).status_code == 403
    # A key of an admin made owner-level is capped: when Bo is demoted to viewer, so is his admin key
    assert chorus.call("GET", "/keys", admin_key).status_code == 200
    assert (
        chorus.call(
            "PATCH", f"/members/{bo.user_id}", ana.id_token, workspace, json={"role": "viewer"}
        ).status_code
        == 200
    )
    assert chorus.call("GET", "/keys", admin_key).status_code == 403
    # And an expired key is refused
    from chorus.store import keys as store_keys
    from chorus.store.models import ApiKeyItem

    parsed = admin_key.split("_")
    item = ApiKeyItem.get(store_keys.workspace_pk(workspace), store_keys.api_key_sk(parsed[2]))
    item.update(actions=[ApiKeyItem.valid_until.set(datetime.now(UTC))])
    assert chorus.call("GET", "/posts", admin_key).status_code == 401


# ---------------------------------------------------------------------------- accounts a member may see


def test_a_member_limited_to_some_accounts_sees_and_uses_only_those(chorus: Chorus) -> None:
    ana = chorus.person(email("ana"))
    workspace = new_workspace(chorus, ana)
    ana_key = chorus.call(
        "POST", "/keys", ana.id_token, workspace, json={"name": "setup", "role": "owner"}
    ).json()["key"]
    mine, theirs = chorus.sandbox_account(ana_key, "client-a"), chorus.sandbox_account(ana_key, "client-b")
    # Given an editor of the agency limited to client A's account
    ed = join(chorus, ana, workspace, "editor", accounts=[mine])
    for account, text in ((mine, "for A"), (theirs, "for B")):
        made = chorus.call(
            "POST", "/posts", ana_key, json={"text": text, "accounts": [account], "mode": "draft"}
        )
        assert made.status_code == 201, made.text
    both = chorus.call(
        "POST", "/posts", ana_key, json={"text": "for both", "accounts": [mine, theirs], "mode": "draft"}
    )
    both_id = both.json()["posts"][0]["id"] if "posts" in both.json() else both.json()["id"]
    # Then the lists show only A's
    listed = chorus.call("GET", "/accounts", ed.id_token, workspace).json()["accounts"]
    assert [a["id"] for a in listed] == [mine]
    posts = chorus.call("GET", "/posts", ed.id_token, workspace).json()["posts"]
    assert sorted(p["content"]["text"] for p in posts) == ["for A", "for both"]
    assert all(p["accounts"] == [mine] for p in posts)
    # And B's account is as if absent; composing for it is refused naming the field
    assert chorus.call("GET", f"/accounts/{theirs}", ed.id_token, workspace).status_code == 404
    refused = chorus.call(
        "POST", "/posts", ed.id_token, workspace, json={"text": "x", "accounts": [theirs], "mode": "draft"}
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "accounts"
    # And a post that also targets B cannot be changed by her
    assert chorus.call("DELETE", f"/posts/{both_id}", ed.id_token, workspace).status_code == 403
    # Reports name only her accounts; asking for B's is refused
    assert (
        chorus.call("GET", "/reports", ed.id_token, workspace, params={"accounts": theirs}).status_code == 403
    )
    # When the restriction is lifted, she sees both
    lifted = chorus.call(
        "PATCH", f"/members/{ed.user_id}", ana.id_token, workspace, json={"all_accounts": True}
    )
    assert lifted.status_code == 200
    assert lifted.json()["accounts"] is None
    assert len(chorus.call("GET", "/accounts", ed.id_token, workspace).json()["accounts"]) == 2


# ---------------------------------------------------------------------------- the audit log


def test_every_action_writes_exactly_one_audit_entry_and_a_refusal_is_recorded_as_refused(
    chorus: Chorus,
) -> None:
    ana = chorus.person(email("ana"))
    workspace = new_workspace(chorus, ana)
    bo = join(chorus, ana, workspace, "viewer")
    key = chorus.call("POST", "/keys", ana.id_token, workspace, json={"name": "ops", "role": "admin"}).json()
    account = chorus.sandbox_account(key["key"], "brand-audit")
    post = chorus.call(
        "POST", "/posts", key["key"], json={"text": "now!", "accounts": [account], "mode": "now"}
    )
    assert post.status_code == 201, post.text
    draft = chorus.call(
        "POST", "/posts", key["key"], json={"text": "later", "accounts": [account], "mode": "draft"}
    ).json()
    # (a contributor's posts wait for approval: one approved, one rejected)
    contributor = join(chorus, ana, workspace, "contributor")
    proposed = [
        chorus.call(
            "POST",
            "/posts",
            contributor.id_token,
            workspace,
            json={"text": t, "accounts": [account], "scheduled_at": "2031-01-01T09:00:00Z"},
        ).json()
        for t in ("approve me", "reject me")
    ]
    approve = {"version": proposed[0]["version"]}
    assert (
        chorus.call("POST", f"/posts/{proposed[0]['id']}/approve", key["key"], json=approve).status_code
        == 200
    )
    reject = {"comment": "off brand"}
    assert (
        chorus.call("POST", f"/posts/{proposed[1]['id']}/reject", key["key"], json=reject).status_code == 200
    )
    chorus.call("DELETE", f"/posts/{draft['id']}", key["key"])
    chorus.call("POST", "/publishing/pause", ana.id_token, workspace, json={"reason": "crisis"})
    chorus.call("POST", "/publishing/resume", ana.id_token, workspace, json={"release": "hold"})
    chorus.call("PATCH", "/workspace", ana.id_token, workspace, json={"audit_retention_days": 90})
    refused = chorus.call("DELETE", f"/keys/{key['key_id']}", bo.id_token, workspace)
    assert refused.status_code == 403
    chorus.call("DELETE", f"/keys/{key['key_id']}", ana.id_token, workspace)
    chorus.call("DELETE", f"/accounts/{account}", ana.id_token, workspace)
    chorus.call("PATCH", f"/members/{bo.user_id}", ana.id_token, workspace, json={"role": "editor"})
    chorus.call("DELETE", f"/members/{bo.user_id}", ana.id_token, workspace)
    # Then the log holds each action once, newest first, with actor, target and outcome
    entries = audit(chorus, ana, workspace)
    seen = [(e["action"], e["outcome"]) for e in reversed(entries)]
    expected = [
        ("workspace.created", "ok"),
        ("member.signed_in", "ok"),  # Ana's session, the first time it acted here
        ("member.invited", "ok"),
        ("member.joined", "ok"),
        ("key.created", "ok"),
        ("account.connected", "ok"),
        ("post.published_now", "ok"),
        ("member.invited", "ok"),  # the contributor
        ("member.joined", "ok"),
        ("member.signed_in", "ok"),  # the contributor's session
        ("post.approved", "ok"),
        ("post.rejected", "ok"),
        ("post.deleted", "ok"),
        ("publishing.paused", "ok"),
        ("publishing.resumed", "ok"),
        ("settings.changed", "ok"),
        ("member.signed_in", "ok"),  # Bo's session, the first time it acted here
        ("key.revoked", "refused"),
        ("key.revoked", "ok"),
        ("account.disconnected", "ok"),
        ("member.changed", "ok"),
        ("member.removed", "ok"),
    ]
    assert seen == expected, seen
    by_action = {(e["action"], e["outcome"]): e for e in entries}
    assert by_action[("key.revoked", "refused")]["actor"] == f"user:{bo.user_id}"
    assert by_action[("key.revoked", "refused")]["status"] == 403
    assert by_action[("key.created", "ok")]["target"] == f"key:{key['key_id']}"
    assert by_action[("post.published_now", "ok")]["actor"] == f"key:{key['key_id']}"
    assert by_action[("member.changed", "ok")]["detail"] == '{"role": "editor"}'
    assert all(e["workspace_id"] == workspace for e in entries)
    # And no token or key is in it, filters work, and the log cannot be edited through the API
    assert key["key"] not in json.dumps(entries)
    assert ana.id_token not in json.dumps(entries)
    member_actions = [e["action"] for e in audit(chorus, ana, workspace, action="member.")]
    assert member_actions == [e["action"] for e in entries if e["action"].startswith("member.")]
    assert len(member_actions) == 9
    assert {e["outcome"] for e in audit(chorus, ana, workspace, outcome="refused")} == {"refused"}
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert chorus.call(method, "/audit", ana.id_token, workspace, json={}).status_code in (403, 404, 405)
    # Only owners and admins read it
    viewer = join(chorus, ana, workspace, "viewer")
    assert chorus.call("GET", "/audit", viewer.id_token, workspace).status_code == 403

"""What changed since the last approval (``GET /posts/{id}/changes``) on the embedded runtime: the version
approved is kept with the approval, and a post that comes back for approval shows its text word by word
per account variant, media added and removed, accounts and time moved."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.harness import Chorus

A = {"mime_type": "image/jpeg", "url": "https://cdn.example/spring/a.jpg", "alt_text": "a tulip"}
B = {"mime_type": "image/jpeg", "url": "https://cdn.example/spring/b.jpg", "alt_text": "a daffodil"}


@pytest.fixture
def tenant(chorus: Chorus) -> dict[str, str]:
    ws, key = chorus.workspace("Changes")
    one = chorus.sandbox_account(key, handle=f"shop-{ws}")
    two = chorus.sandbox_account(key, handle=f"shop-eu-{ws}")
    made = chorus.call("POST", "/keys", key, json={"name": "intern", "role": "contributor"})
    viewer = chorus.call("POST", "/keys", key, json={"name": "board", "role": "viewer"})
    assert made.status_code == viewer.status_code == 201, made.text
    return {"ws": ws, "editor": key, "contributor": made.json()["key"], "viewer": viewer.json()["key"],
            "one": one, "two": two}  # fmt: skip


def changes(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    answer = chorus.call("GET", f"/posts/{post_id}/changes", key)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def joined(runs: list[dict[str, str]], keep: str) -> str:
    return "".join(r["text"] for r in runs if r["op"] in ("same", keep))


def content(found: dict[str, Any], account_id: str | None) -> dict[str, Any]:
    return next(c for c in found["contents"] if c["account_id"] == account_id)


def test_a_post_back_for_approval_shows_what_changed_since_the_version_approved(
    chorus: Chorus, tenant: dict[str, str]
) -> None:
    one, two, editor, contributor = tenant["one"], tenant["two"], tenant["editor"], tenant["contributor"]
    first = {
        "text": "Spring sale starts Monday at noon",
        "accounts": [one, two],
        "variants": {two: {"text": "Spring sale: Monday, 12:00 CET"}},
        "media": [A],
        "scheduled_at": "2031-03-03T09:00:00Z",
    }
    created = chorus.call("POST", "/posts", contributor, json=first)
    assert created.status_code == 201, created.text
    post = created.json()
    assert post["status"] == "pending_approval"

    # Never approved: no baseline, all of it is new
    fresh = changes(chorus, editor, post["id"])
    assert fresh["approved"] is None
    assert fresh["changed"] is True
    assert content(fresh, None)["text"] == [{"op": "added", "text": first["text"]}]
    assert [m["url"] for m in content(fresh, None)["media_added"]] == [A["url"]]

    # Approved as version 1: nothing differs from it
    assert chorus.call("POST", f"/posts/{post['id']}/approve", editor, json={"version": 1}).status_code == 200
    same = changes(chorus, editor, post["id"])
    assert same["approved"]["version"] == 1
    assert same["approved"]["by"]
    assert same["changed"] is False
    assert same["scheduled_at"]["moved"] is False
    assert all(r["op"] == "same" for c in same["contents"] for r in c["text"])

    # The contributor edits it: other day, other picture, the variant reworded, an hour later
    second = {
        **first,
        "text": "Spring sale starts Tuesday at noon",
        "variants": {two: {"text": "Spring sale: Tuesday, 12:00 CET", "media": [B]}},
        "media": [B],
        "scheduled_at": "2031-03-04T10:00:00Z",
        "version": 1,
    }
    edited = chorus.call("PUT", f"/posts/{post['id']}", contributor, json=second)
    assert edited.status_code == 200, edited.text
    assert (edited.json()["status"], edited.json()["version"]) == ("pending_approval", 2)

    found = changes(chorus, editor, post["id"])
    assert (found["version"], found["approved"]["version"], found["changed"]) == (2, 1, True)
    base = content(found, None)
    assert base["text"] == [
        {"op": "same", "text": "Spring sale starts "},
        {"op": "removed", "text": "Monday"},
        {"op": "added", "text": "Tuesday"},
        {"op": "same", "text": " at noon"},
    ]
    assert [m["name"] for m in base["media_added"]] == ["b.jpg"]
    assert [m["name"] for m in base["media_removed"]] == ["a.jpg"]
    variant = content(found, two)
    assert joined(variant["text"], "removed") == "Spring sale: Monday, 12:00 CET"
    assert joined(variant["text"], "added") == "Spring sale: Tuesday, 12:00 CET"
    assert [m["name"] for m in variant["media_added"]] == ["b.jpg"]  # a variant has its own media:
    assert variant["media_removed"] == []  # this one had none before
    assert found["scheduled_at"]["moved"] is True
    assert found["scheduled_at"]["before"].startswith("2031-03-03T09:00")
    assert found["scheduled_at"]["after"].startswith("2031-03-04T10:00")
    assert found["accounts_added"] == found["accounts_removed"] == []
    # anyone who may read the post may read its changes
    assert changes(chorus, tenant["viewer"], post["id"]) == found

    # A rejection keeps the baseline; an approval of a version not seen saves nothing
    rejected = chorus.call("POST", f"/posts/{post['id']}/reject", editor, json={"comment": "keep Monday"})
    assert rejected.status_code == 200
    assert changes(chorus, editor, post["id"])["approved"]["version"] == 1
    third = {**second, "text": "Spring sale starts Monday at noon", "accounts": [one], "variants": {},
             "version": 2}  # fmt: skip
    assert chorus.call("PUT", f"/posts/{post['id']}", contributor, json=third).status_code == 200
    stale = chorus.call("POST", f"/posts/{post['id']}/approve", editor, json={"version": 2})
    assert stale.status_code == 409
    back = changes(chorus, editor, post["id"])
    assert back["approved"]["version"] == 1
    assert back["accounts_removed"] == [two]
    assert all(r["op"] == "same" for r in content(back, None)["text"])  # back to Monday
    assert [c["account_id"] for c in back["contents"]] == [None]  # no variant of an account gone

    # Approving version 3 makes it the new baseline
    assert chorus.call("POST", f"/posts/{post['id']}/approve", editor, json={"version": 3}).status_code == 200
    latest = changes(chorus, editor, post["id"])
    assert (latest["approved"]["version"], latest["changed"]) == (3, False)


def test_changes_of_an_unknown_or_foreign_post_are_not_found(chorus: Chorus, tenant: dict[str, str]) -> None:
    other_ws, other_key = chorus.workspace("Elsewhere")
    account = chorus.sandbox_account(other_key, handle=f"other-{other_ws}")
    theirs = chorus.call(
        "POST", "/posts", other_key, json={"text": "x", "accounts": [account], "mode": "draft"}
    )
    assert theirs.status_code == 201
    for post_id in ("nope", theirs.json()["id"]):
        answer = chorus.call("GET", f"/posts/{post_id}/changes", tenant["editor"])
        assert answer.status_code == 404, answer.text
        assert answer.json()["status"] == 404
    assert chorus.call("GET", f"/posts/{theirs.json()['id']}/changes").status_code == 401


def test_the_author_is_told_of_the_decision_in_their_notifications(
    chorus: Chorus, tenant: dict[str, str]
) -> None:
    contributor, editor = tenant["contributor"], tenant["editor"]
    body = {
        "text": "Our   autumn\nrange",
        "accounts": [tenant["one"]],
        "scheduled_at": "2031-09-01T07:00:00Z",
    }
    made = chorus.call("POST", "/posts", contributor, json=body).json()
    chorus.call("POST", f"/posts/{made['id']}/approve", editor, json={"version": 1, "comment": "Lovely"})
    other = chorus.call("POST", "/posts", contributor, json={**body, "text": "Too loud"}).json()
    chorus.call("POST", f"/posts/{other['id']}/reject", editor, json={"comment": "Tone it down"})
    notes = chorus.call("GET", "/notifications", contributor).json()["notifications"]
    assert [(n["topic"], n["post_id"], n["read"]) for n in notes] == [
        ("post_rejected", other["id"], False),
        ("post_approved", made["id"], False),
    ]
    assert notes[1]["subject"] == "Post approved: Our autumn range"
    assert "It goes out at 2031-09-01 07:00 (UTC)." in notes[1]["text"]
    assert "Comment: Lovely" in notes[1]["text"]
    assert "Comment: Tone it down" in notes[0]["text"]
    assert chorus.call("GET", "/notifications", editor).json()["notifications"] == []  # the decider's list


def test_a_post_waiting_for_approval_is_announced_to_those_who_may_approve_it(chorus: Chorus) -> None:
    from chorus.auth.members import add_member
    from chorus.auth.roles import Role

    n = uuid.uuid4().hex[:8]
    ana = chorus.person(f"ana-{n}@example.com")
    ws = chorus.call("POST", "/workspaces", ana.id_token, json={"name": "Review", "timezone": "UTC"}).json()[
        "id"
    ]

    def account(handle: str) -> str:
        body = {
            "platform": "sandbox",
            "platform_account_id": f"{handle}-{n}",
            "access_token": f"tok-{handle}-{n}",
            "handle": handle,
        }
        answer = chorus.call("POST", "/accounts", ana.id_token, workspace=ws, json=body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    shop, blog = account("shop"), account("blog")
    people = {name: chorus.person(f"{name}-{n}@example.com") for name in ("ed", "narrow", "vi", "cid")}
    add_member(ws, people["ed"].user_id, people["ed"].email, Role.EDITOR)
    add_member(ws, people["narrow"].user_id, people["narrow"].email, Role.EDITOR, {blog})  # not the shop's
    add_member(ws, people["vi"].user_id, people["vi"].email, Role.VIEWER)
    add_member(ws, people["cid"].user_id, people["cid"].email, Role.CONTRIBUTOR)

    def notes(token: str) -> list[dict[str, Any]]:
        return list(chorus.call("GET", "/notifications", token, workspace=ws).json()["notifications"])

    cid = people["cid"].id_token
    body = {"text": "Winter menu", "accounts": [shop], "scheduled_at": "2031-12-01T09:00:00Z"}
    made = chorus.call("POST", "/posts", cid, workspace=ws, json=body).json()
    assert made["status"] == "pending_approval"
    for reader in (ana.id_token, people["ed"].id_token):
        [note] = notes(reader)
        assert (note["topic"], note["post_id"]) == ("approval_requested", made["id"])
        assert note["subject"] == "Waiting for your approval: Winter menu"
        assert note["text"].startswith(
            f'cid-{n}@example.com asks for your approval of "Winter menu" (version 1)'
        )
    assert notes(people["narrow"].id_token) == notes(people["vi"].id_token) == notes(cid) == []

    # An edit sends it back: announced again, for the new version; the decision goes to the author
    edited = chorus.call(
        "PUT", f"/posts/{made['id']}", cid, workspace=ws, json={**body, "text": "Winter menu!"}
    )
    assert edited.json()["version"] == 2
    assert [n["subject"] for n in notes(ana.id_token)] == [
        "Waiting for your approval: Winter menu!",
        "Waiting for your approval: Winter menu",
    ]
    approved = chorus.call("POST", f"/posts/{made['id']}/approve", people["ed"].id_token, workspace=ws,
                           json={"version": 2})  # fmt: skip
    assert approved.status_code == 200
    [told] = notes(cid)
    assert told["topic"] == "post_approved"
    assert f"by ed-{n}@example.com" in told["text"]
    # an owner's own post waits for no one and tells no one
    chorus.call("POST", "/posts", ana.id_token, workspace=ws, json={**body, "text": "From the owner"})
    assert len(notes(people["ed"].id_token)) == 2

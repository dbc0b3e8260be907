"""Every route but health and webhooks needs a key, and a key sees only its own workspace."""

from __future__ import annotations

import re

import pytest

from tests.integration.harness import REPO, Chorus


def test_health_answers_without_a_key(chorus: Chorus) -> None:
    answer = chorus.call("GET", "/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"


@pytest.mark.parametrize(
    "header", [None, "Bearer nonsense", "Basic abc", "Bearer chk_ws0000000000_aaaaaaaa_" + "x" * 43]
)
def test_a_request_without_a_valid_key_gets_401_with_a_problem_body(
    chorus: Chorus, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    answer = chorus.call("GET", "/workspace", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["status"] == 401


def test_a_key_of_workspace_a_cannot_read_workspace_b(chorus: Chorus) -> None:
    _, key_a = chorus.workspace("A")
    _, key_b = chorus.workspace("B")
    account_b = chorus.sandbox_account(key_b, "b-brand")
    post_b = chorus.call(
        "POST", "/posts", key_b, json={"text": "B only", "accounts": [account_b], "mode": "draft"}
    )
    assert post_b.status_code == 201
    assert chorus.call("GET", f"/posts/{post_b.json()['id']}", key_a).status_code == 404
    assert chorus.call("GET", f"/accounts/{account_b}", key_a).status_code == 404
    # A cannot even target B's account
    attempt = chorus.call(
        "POST", "/posts", key_a, json={"text": "hijack", "accounts": [account_b], "mode": "draft"}
    )
    assert attempt.status_code == 404


def test_a_revoked_key_is_refused(chorus: Chorus) -> None:
    _, owner = chorus.workspace("Keys")
    made = chorus.call("POST", "/keys", owner, json={"name": "ci", "role": "viewer"}).json()
    assert chorus.call("GET", "/workspace", made["key"]).status_code == 200
    assert chorus.call("DELETE", f"/keys/{made['key_id']}", owner).status_code == 204
    assert chorus.call("GET", "/workspace", made["key"]).status_code == 401


def test_a_viewer_cannot_create_posts_and_a_bad_body_names_the_field(chorus: Chorus) -> None:
    _, owner = chorus.workspace("Roles")
    account = chorus.sandbox_account(owner, "roles-brand")
    viewer = chorus.call("POST", "/keys", owner, json={"name": "boss", "role": "viewer"}).json()["key"]
    assert chorus.call("POST", "/posts", viewer, json={"text": "x", "accounts": [account]}).status_code == 403
    too_long = chorus.call(
        "POST", "/posts", owner, json={"text": "x" * 501, "accounts": [account], "mode": "now"}
    )
    assert too_long.status_code == 422
    error = too_long.json()["errors"][0]
    assert error["field"] == f"accounts[{account}].text"
    assert error["rule"] == "text.too_long"
    missing = chorus.call("POST", "/posts", owner, json={"text": "no accounts"})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "accounts"
    broken = chorus.call(
        "POST", "/posts", owner, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["field"] == "body"


def test_every_chalice_route_is_declared_in_the_template_and_back(chorus: Chorus) -> None:
    from chorus.local.template import Template

    app = chorus.rt.functions["ApiFunction"].load()
    declared = set()
    api_fn = Template.load(REPO / "template.yaml").resources["ApiFunction"]["Properties"]
    for event in api_fn["Events"].values():
        declared.add((event["Properties"]["Path"], event["Properties"]["Method"].upper()))
    routed = {(path, method) for path, methods in app.routes.items() for method in methods}
    assert routed == declared
    assert all(re.match(r"^/[a-z/{}_.-]*$", p) for p, _ in routed)


def test_chorus_workspace_create_prints_an_owner_key_that_works(
    chorus: Chorus, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from chorus.cli import main

    # --aws: act on the stack the environment points at (here the embedded runtime's)
    assert main(["workspace", "create", "From the CLI", "--timezone", "Asia/Shanghai", "--aws"]) == 0
    printed = json.loads(capsys.readouterr().out)
    answer = chorus.call("GET", "/workspace", printed["api_key"])
    assert answer.status_code == 200
    assert answer.json()["timezone"] == "Asia/Shanghai"
    from chorus.auth.keys import parse_key
    from chorus.store import keys
    from chorus.store.models import ApiKeyItem

    # the key's secret is URL-safe base64, "_" included: read it as the API does, not by splitting
    parsed = parse_key(printed["api_key"])
    assert parsed is not None
    stored = ApiKeyItem.get(keys.workspace_pk(printed["workspace_id"]), keys.api_key_sk(parsed.key_id))
    assert parsed.secret not in stored.secret_hash  # only a hash is stored
    assert stored.role == "owner"

"""Which requests the audit log records, and as what (``chorus.auth.audit``)."""

from __future__ import annotations

from chorus.auth import audit
from chorus.auth.roles import ROUTE_ROLES, USER_ROUTES


def test_every_action_of_the_table_is_a_route_of_the_api() -> None:
    assert set(audit.ACTIONS) <= set(ROUTE_ROLES) | USER_ROUTES


def test_a_post_is_published_now_only_when_it_asked_for_it_and_did_not_wait_for_approval() -> None:
    now = {"mode": "now"}
    assert audit.action_of("POST", "/posts", now, {"status": "queued"}) == "post.published_now"
    assert audit.action_of("POST", "/posts", now, {"status": "pending_approval"}) is None
    assert audit.action_of("POST", "/posts", {"mode": "schedule"}, {"status": "scheduled"}) is None
    assert audit.action_of("GET", "/posts", None) is None


def test_targets_name_the_route_s_parameter_or_the_answer_s_id_and_details_never_a_secret() -> None:
    assert audit.target_of({"key_id": "k1"}, None, "/keys/{key_id}") == "key:k1"
    assert audit.target_of({}, {"key_id": "k2", "key": "chk_secret"}, "/keys") == "key:k2"
    assert audit.target_of({"platform": "x"}, {"id": "acct1"}, "/oauth/callback/{platform}") == "oauth:acct1"
    detail = audit.detail_of({"role": "admin", "access_token": "tok", "password": "p", "key": "chk_x"})
    assert detail == '{"role": "admin"}'


def test_refusals_are_refused_and_other_errors_failed() -> None:
    assert [audit.outcome_of(s) for s in (200, 201, 204, 401, 403, 409, 404, 422)] == [
        "ok", "ok", "ok", "refused", "refused", "refused", "failed", "failed",
    ]  # fmt: skip

"""The audit trail at the HTTP edge: after each answer, the request that is an action of the audit log
(``chorus.auth.audit.ACTIONS``) is recorded once, with its caller, target and outcome."""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Request, Response
from chalicelib.web import caller
from chorus.auth import audit
from chorus.auth.keys import Principal
from chorus.auth.workspaces import audit_retention
from chorus.observability import logger


def _json(raw: Any) -> dict[str, Any] | None:
    if isinstance(raw, dict):
        return raw
    try:
        data = json.loads(raw) if raw else None
    except (ValueError, TypeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def record_action(request: Request, route: str, response: Response) -> None:
    who = caller()
    if who is None or (request.method.upper(), route) not in audit.ACTIONS:
        return  # most requests are no action: neither body is parsed for them
    body = _json(request.raw_body) if request.method != "GET" else None
    answer = _json(response.body)
    action = audit.action_of(request.method, route, body, answer)
    if action is None:
        return
    if isinstance(who, Principal):
        workspace_id, actor = who.workspace_id, who.actor
    else:  # a person on a route of people: the workspace is the one the answer names
        workspace_id, actor = (
            (answer or {}).get("workspace_id") or (answer or {}).get("id"),
            f"user:{who.user_id}",
        )
        if not isinstance(workspace_id, str) or response.status_code >= 400:
            return  # no workspace of theirs to record it in (an invitation refused before it was read)
    try:
        audit.record(
            workspace_id,
            actor,
            action,
            target=audit.target_of(request.uri_params or {}, answer, route),
            outcome=audit.outcome_of(response.status_code),
            status=response.status_code,
            detail=audit.detail_of(body),
            retention_days=audit_retention(workspace_id),
        )
    except Exception:  # the action happened: a lost audit entry is logged, never a failed answer
        logger.exception("audit entry not written", action=action, workspace_id=workspace_id)

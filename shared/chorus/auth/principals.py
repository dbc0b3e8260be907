"""Who is calling: ``Authorization: Bearer <API key | Cognito ID or access token>`` -> a principal.

An API key names its workspace itself (``chk_<ws>_...``: one GetItem, and a second for its member when
it belongs to one). A person's token names no workspace: the request does (``X-Chorus-Workspace``, or
the WebSocket's ``workspace`` query parameter), and their membership there is read on every request.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist

from chorus.auth import members
from chorus.auth.keys import Principal, parse_key, secret_matches
from chorus.auth.tokens import Identity, TokenVerifier, looks_like_jwt
from chorus.errors import Forbidden, Unauthorized
from chorus.store import keys
from chorus.store.models import ApiKeyItem, bind

WORKSPACE_HEADER = "x-chorus-workspace"


def bearer(authorization: str | None) -> str:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("missing Authorization: Bearer <API key or sign-in token>")
    return authorization[7:].strip()


def authenticate(
    authorization: str | None, workspace_id: str | None, verifier: TokenVerifier | None
) -> Principal:
    """The caller of a workspace route; Unauthorized (401) or Forbidden (403, not a member)."""
    token = bearer(authorization)
    if looks_like_jwt(token):
        return members.principal_for(identify_token(token, verifier), workspace_id)
    principal = authenticate_key(token)
    if workspace_id and workspace_id != principal.workspace_id:
        raise Forbidden(f"this API key belongs to workspace {principal.workspace_id}, not {workspace_id}")
    return principal


def identify(authorization: str | None, verifier: TokenVerifier | None) -> Identity:
    """The signed-in person of a route of people (``GET /me``...): API keys are refused there."""
    token = bearer(authorization)
    if not looks_like_jwt(token):
        raise Unauthorized("this route needs a sign-in token (Cognito), not an API key")
    return identify_token(token, verifier)


def identify_token(token: str, verifier: TokenVerifier | None) -> Identity:
    if verifier is None:
        raise Unauthorized("sign-in is not configured on this deployment; use an API key")
    return verifier.verify(token)


def authenticate_key(token: str) -> Principal:
    parsed = parse_key(token)
    if parsed is None:
        raise Unauthorized("malformed API key")
    bind()
    try:
        item = ApiKeyItem.get(keys.workspace_pk(parsed.workspace_id), keys.api_key_sk(parsed.key_id))
    except DoesNotExist as exc:
        raise Unauthorized("unknown API key") from exc
    if item.revoked or not secret_matches(parsed.secret, item.secret_hash):
        raise Unauthorized("invalid API key")
    return members.key_principal(item, datetime.now(UTC))

"""Chorus HTTP API (Chalice). Deployed by template.yaml as ``ApiFunction`` (Handler ``app.app``);
every route here is declared as an Api event there, and a test keeps the two lists equal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, Request, Response
from chalicelib import (
    accounts,
    campaigns,
    inbox,
    library,
    links,
    listening,
    people,
    posts,
    reminders,
    reports,
    workspaces,
)
from chalicelib import competitors as competitor_routes
from chalicelib.trail import record_action
from chalicelib.web import (
    PUBLIC_PREFIXES,
    HttpProblem,
    as_problem,
    ok,
    problem,
    set_identity,
    set_principal,
)
from chorus.auth.principals import WORKSPACE_HEADER, authenticate, identify
from chorus.auth.roles import USER_ROUTES, scope_allows
from chorus.auth.tokens import default_verifier
from chorus.errors import ChorusError, Forbidden
from chorus.observability import logger

# configure_logs=False: Chalice would add its own handler to the "chorus" logger, beside Powertools'
# (which carries the redacting filter): every line twice, the second unredacted.
app = Chalice(app_name="chorus", configure_logs=False)
app.api.binary_types.append("application/pdf")  # the benchmark report answers a PDF inline
app.register_blueprint(workspaces.bp)
app.register_blueprint(accounts.bp)
app.register_blueprint(posts.bp)
app.register_blueprint(listening.bp)
app.register_blueprint(inbox.bp)
app.register_blueprint(reports.bp)
app.register_blueprint(people.bp)
app.register_blueprint(links.bp)
app.register_blueprint(campaigns.bp)
app.register_blueprint(library.bp)
app.register_blueprint(competitor_routes.bp)
app.register_blueprint(reminders.bp)


@app.middleware("http")
def authenticate_and_translate_errors(
    event: Request, get_response: Callable[[Request], Response]
) -> Response:
    """Every route but the public ones (``web.PUBLIC_PREFIXES``: health, the OpenAPI document, webhooks)
    needs a caller: a person's sign-in token on the routes of people (``USER_ROUTES``), else an API key
    or a sign-in token with the workspace named, checked against the key's scopes. Domain errors and
    Chalice's own refusals (415, 405, its 500) become JSON problem bodies naming the field."""
    path = event.context.get("resourcePath", "")
    try:
        response = answer(event, get_response, path)
        record_action(event, path, response)
        return response
    finally:
        set_principal(None)
        set_identity(None)


def answer(event: Request, get_response: Callable[[Request], Response], path: str) -> Response:
    try:
        admit(event.method, path, event.headers)
    except ChorusError as error:
        logger.info("request refused", path=path, status=error.status)
        return problem(error)
    try:
        return as_problem(get_response(event))
    except ChorusError as error:
        return problem(error)
    except Exception:
        logger.exception("request failed", path=path)
        return problem(HttpProblem(500, "Internal error", "an internal error occurred; it is logged"))


def admit(method: str, path: str, headers: Any) -> None:
    if path.startswith(PUBLIC_PREFIXES):
        return
    authorization = headers.get("authorization")
    if (method, path) in USER_ROUTES:
        set_identity(identify(authorization, default_verifier()))
        return
    who = authenticate(authorization, headers.get(WORKSPACE_HEADER), default_verifier())
    set_principal(who)
    if not scope_allows(who.scopes, method, path):
        raise Forbidden(
            f"this API key's scopes ({', '.join(sorted(who.scopes or ()))}) do not allow {method} {path}"
        )


@app.route("/health", methods=["GET"])
def health() -> Response:
    return ok({"status": "ok", "service": "chorus"})


@app.route("/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    """The OpenAPI 3.1 document of this API (public: it describes the routes, never any data)."""
    from chalicelib.openapi import document

    return ok(document(app))


__all__ = ["app"]

"""HTTP edge helpers shared by every blueprint: the caller's principal, typed bodies, problem answers."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chalice.app import Blueprint, Request, Response
from chorus.auth.keys import Principal
from chorus.auth.roles import Role, at_least
from chorus.errors import BadRequest, ChorusError, FieldError, Forbidden, ValidationFailed
from chorus.observability import logger
from chorus.store.keys import iso

M = TypeVar("M", bound=BaseModel)

_principal: ContextVar[Principal | None] = ContextVar("chorus_principal", default=None)

PUBLIC_PREFIXES = ("/health", "/webhooks/")  # an OAuth callback needs the key that started it


def set_principal(principal: Principal | None) -> None:
    _principal.set(principal)


def principal(minimum: Role = Role.VIEWER) -> Principal:
    """The authenticated caller; Forbidden when its role is below ``minimum``."""
    found = _principal.get()
    if found is None:  # the middleware guarantees this never happens on a private route
        raise Forbidden("no authenticated principal")
    if not at_least(found.role, minimum):
        raise Forbidden(f"this needs the {minimum} role or higher; the key is {found.role}")
    return found


def body(request: Request, model: type[M]) -> M:
    raw = request.raw_body or b"{}"
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON", [FieldError("body", str(exc), "json")]) from exc
    return parse(model, data)


def parse(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(p) for p in e["loc"]) or "body", e["msg"], e["type"])
            for e in exc.errors()
        ]
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors) from exc


def query(request: Request) -> dict[str, str]:
    return dict(request.query_params or {})


def problem(error: ChorusError) -> Response:
    return Response(
        body=json.dumps(error.problem()),
        status_code=error.status,
        headers={"Content-Type": "application/problem+json"},
    )


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    return str(value)


def ok(data: Any, status: int = 200) -> Response:
    return Response(
        body=json.dumps(data, default=_encode),
        status_code=status,
        headers={"Content-Type": "application/json"},
    )


def route(bp: Blueprint, path: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``bp.route`` whose view turns domain errors into JSON problem bodies (Chalice would answer 500)."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            except ChorusError as error:
                if error.status >= 500:
                    logger.exception("request failed", path=path)
                return problem(error)

        bp.route(path, **options)(guarded)
        return guarded

    return register

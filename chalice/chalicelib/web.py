"""HTTP edge helpers shared by every blueprint: the caller's principal, typed bodies, problem answers.

Bodies are read here and only here: ``body()`` parses ``raw_body`` as JSON whatever ``Content-Type`` the
client claims (curl's ``-d`` says ``application/x-www-form-urlencoded``), so every route is registered
with ``content_types=["*/*"]`` and Chalice never answers 415 for a JSON route. Whatever Chalice still
answers by itself (415 on a route that names its types, 405, its own 400 and 500) is turned into the same
RFC 9457 problem body as a domain error by ``as_problem``."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chalice.app import Blueprint, ChaliceViewError, Request, Response
from chorus.auth.keys import Principal
from chorus.auth.roles import Role, at_least
from chorus.auth.tokens import Identity
from chorus.errors import BadRequest, ChorusError, FieldError, Forbidden, ValidationFailed
from chorus.observability import logger
from chorus.store.keys import iso

M = TypeVar("M", bound=BaseModel)

_principal: ContextVar[Principal | None] = ContextVar("chorus_principal", default=None)
_identity: ContextVar[Identity | None] = ContextVar("chorus_identity", default=None)

# No key on these; an OAuth callback needs the key that started the flow. A short link (/l/) is
# followed by anyone; a conversion pixel (/pixel/) carries its own signed token (chorus.campaigns).
PUBLIC_PREFIXES = ("/health", "/openapi.json", "/webhooks/", "/l/", "/pixel/")


def set_principal(principal: Principal | None) -> None:
    _principal.set(principal)


def set_identity(identity: Identity | None) -> None:
    _identity.set(identity)


def caller() -> Principal | Identity | None:
    """Whoever the middleware admitted (a workspace principal, or a person on a route of people)."""
    return _principal.get() or _identity.get()


def identity() -> Identity:
    """The signed-in person of a route of people (``chorus.auth.roles.USER_ROUTES``)."""
    found = _identity.get()
    if found is None:  # the middleware guarantees this never happens on such a route
        raise Forbidden("no signed-in person")
    return found


def principal(minimum: Role = Role.VIEWER) -> Principal:
    """The authenticated caller; Forbidden when its role is below ``minimum``."""
    found = _principal.get()
    if found is None:  # the middleware guarantees this never happens on a private route
        raise Forbidden("no authenticated principal")
    if not at_least(found.role, minimum):
        raise Forbidden(f"this needs the {minimum} role or higher; the caller is {found.role}")
    return found


def body(request: Request, model: type[M]) -> M:
    """The request body as ``model``: JSON whatever the Content-Type header says (an empty body is ``{}``)."""
    raw = request.raw_body or b"{}"
    try:
        data = json.loads(raw)
    except ValueError as exc:  # UnicodeDecodeError too: a body that is not UTF-8
        raise BadRequest("the body is not valid JSON", [FieldError("body", str(exc), "json")]) from exc
    except RecursionError as exc:
        raise BadRequest(
            "the body nests too deeply", [FieldError("body", "too deeply nested", "json")]
        ) from exc
    try:  # "\ud800" is valid JSON but not Unicode text: DynamoDB (UTF-8) could not store it
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        why = "a string holds a lone surrogate (\\ud800-\\udfff), not Unicode text"
        raise BadRequest(f"body: {why}", [FieldError("body", why, "unicode")]) from exc
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


def within_bytes(data: BaseModel, limit: int, field: str = "body") -> None:
    """A 422 naming ``field`` when ``data`` is over ``limit`` bytes as JSON: what one DynamoDB item
    (400 KB with its other attributes) can hold, where the model's own field bounds do not add up."""
    size = len(data.model_dump_json().encode())
    if size > limit:
        raise ValidationFailed.on(field, f"at most {limit} bytes as JSON; this is {size}", "max_size")


def query(request: Request) -> dict[str, str]:
    return dict(request.query_params or {})


def problem(error: ChorusError) -> Response:
    return Response(
        body=json.dumps(error.problem()),
        status_code=error.status,
        headers={"Content-Type": "application/problem+json"},
    )


class HttpProblem(ChorusError):
    """A refusal of the HTTP layer itself (wrong method, media type, no such route, an internal error)."""

    def __init__(self, status: int, title: str, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail, errors)
        self.status = status
        self.title = title

    def problem(self) -> dict[str, Any]:
        answer = super().problem()
        answer["type"] = f"https://chorus.dev/problems/{self.title.replace(' ', '')}"
        return answer


#: Chalice's own error codes -> (title, the field the problem names, its rule).
_CHALICE_CODES: dict[int, tuple[str, str, str]] = {
    400: ("Bad request", "body", "invalid"),
    404: ("Not found", "path", "route"),
    405: ("Method not allowed", "method", "method"),
    415: ("Unsupported media type", "Content-Type", "media_type"),
    500: ("Internal error", "request", "internal"),
}


def as_problem(response: Response) -> Response:
    """``response`` unchanged, unless it is one of Chalice's own ``{"Code", "Message"}`` error answers:
    then the same refusal as a problem body naming the field (415 names the Content-Type header)."""
    data = response.body
    if response.status_code < 400 or not isinstance(data, dict) or set(data) != {"Code", "Message"}:
        return response
    status = response.status_code
    title, field, rule = _CHALICE_CODES.get(status, ("Error", "request", str(data["Code"])))
    detail = str(data["Message"])
    if status == 415:
        detail += "; send the body as JSON with -H 'Content-Type: application/json'"
    elif status == 500:
        detail = "an internal error occurred; it is logged with the request id"
    error = HttpProblem(status, title, detail, [FieldError(field, detail, rule)])
    answer = problem(error)
    for name, value in response.headers.items():  # Allow on 405, CORS headers
        if name.lower() != "content-type":
            answer.headers[name] = value
    return answer


def view_error(error: ChaliceViewError) -> Response:
    """A Chalice view error (``BadRequestError`` and its kin) raised by a view, as a problem body."""
    status = int(getattr(error, "STATUS_CODE", 500))
    title, field, rule = _CHALICE_CODES.get(status, ("Error", "request", type(error).__name__))
    return problem(HttpProblem(status, title, str(error), [FieldError(field, str(error), rule)]))


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
    """``bp.route`` whose view turns domain errors into JSON problem bodies (Chalice would answer 500).

    Any Content-Type is accepted unless the route names its own ``content_types``: ``body()`` reads JSON
    from the raw body whatever the header claims."""
    options.setdefault("content_types", ["*/*"])

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            except ChorusError as error:
                if error.status >= 500:
                    logger.exception("request failed", path=path)
                return problem(error)
            except ChaliceViewError as error:
                return view_error(error)

        bp.route(path, **options)(guarded)
        return guarded

    return register

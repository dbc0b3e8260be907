"""Domain errors, and the API's JSON problem body (RFC 9457) they become at the HTTP edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    rule: str = "invalid"


class ChorusError(Exception):
    status = 500
    title = "Internal error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    @classmethod
    def on(cls, field_name: str, message: str, rule: str = "invalid") -> Self:
        """The error about one field: ``detail`` is "<field>: <message>", ``errors`` names the field."""
        return cls(f"{field_name}: {message}", [FieldError(field_name, message, rule)])

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://chorus.dev/problems/{type(self).__name__}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message, "rule": e.rule} for e in self.errors]
        return body


class BadRequest(ChorusError):
    status = 400
    title = "Bad request"


class ValidationFailed(ChorusError):
    status = 422
    title = "Validation failed"


class PayloadTooLarge(ValidationFailed):
    """A body over a documented size or row limit (413); the message names the limit."""

    status = 413
    title = "Payload too large"


class Unauthorized(ChorusError):
    status = 401
    title = "Unauthorized"


class Forbidden(ChorusError):
    status = 403
    title = "Forbidden"


class NotFound(ChorusError):
    status = 404
    title = "Not found"


class Conflict(ChorusError):
    status = 409
    title = "Conflict"


class Unavailable(ChorusError):
    """A service Chorus depends on did not answer (503): the same request may succeed later."""

    status = 503
    title = "Service unavailable"

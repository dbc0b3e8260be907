"""One place that creates the Powertools Logger, Metrics and (lazily) Tracer.

The Tracer imports the X-Ray SDK (~375 ms of cold start), so it is created only by functions whose
traces are worth it, through ``get_tracer()``; hot paths (webhook receiver, publisher) never call it.

Every log line passes :class:`RedactingFilter` (issue 14, second line of defence): the message, its
arguments, its extra keys and its traceback are redacted with :func:`chorus.net.redact.redact` before
any handler writes them. The first line is that no code puts a secret in a message
(``PlatformError`` redacts its own); this filter catches what slips through (a URL with
``?access_token=`` in an extra, a ``Bearer`` header in an exception from a library).
"""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

from chorus.config import cached
from chorus.net.redact import redact, redact_value

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class RedactedTraceback(Exception):
    """Stands in for an exception whose traceback named a secret: its text is the redacted traceback."""


class RedactingFilter(logging.Filter):
    """Redacts secrets in a record's message, arguments, extra keys and exception (always passes it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._redact(record)
        except Exception:  # a filter must never break the log call (or the code that made it)
            record.msg, record.args = "log record withheld: it could not be redacted", ()
        return True

    @staticmethod
    def _redact(record: logging.LogRecord) -> None:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.msg, dict):
            record.msg = redact_value(record.msg)
        if record.args:
            record.args = _redact_args(record.args)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD:
                setattr(record, key, _redact_arg(value))
        if record.exc_info and record.exc_info[1] is not None:
            raw = "".join(traceback.format_exception(*record.exc_info))
            clean = redact(raw)
            if clean != raw:
                record.exc_info = (RedactedTraceback, RedactedTraceback(clean), None)
                record.exc_text = None


def _redact_arg(value: Any) -> Any:
    if type(value) in (str, dict, list, tuple):
        return redact_value(value)
    if value is None or isinstance(value, int | float | bool):
        return value
    text = str(value)
    clean = redact(text)
    return value if clean == text else clean


def _redact_args(args: Any) -> Any:
    if isinstance(args, dict):
        return {k: _redact_arg(v) for k, v in args.items()}
    return tuple(_redact_arg(v) for v in args)


REDACTION = RedactingFilter()


def install_redaction(target: logging.Logger | logging.Handler) -> None:
    """Add the redacting filter to a handler, or to every handler of a logger (once)."""
    handlers = target.handlers if isinstance(target, logging.Logger) else [target]
    for handler in handlers:
        if REDACTION not in handler.filters:
            handler.addFilter(REDACTION)


logger = Logger(service="chorus")
metrics = Metrics(namespace="Chorus", service="chorus")
install_redaction(logging.getLogger("chorus"))  # Powertools' handler: chorus.* loggers propagate to it
install_redaction(logging.getLogger())  # the Lambda runtime's handler (and any other root handler)


@cached
def get_tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer(service="chorus")
